//! The crate's one error type: why a license key or a public key was refused.

/// Why a license key (or a seller's public key) could not be read or trusted.
///
/// Every variant is a refusal: a program that checks licenses treats any of them as "no license".
/// The messages are meant to be shown to the person who pasted the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenseError {
    /// The text is not a license key at all, or is truncated or mangled.
    #[error("malformed license key: {0}")]
    Malformed(String),
    /// A license key from a newer (or older) format than this verifier reads.
    #[error("unsupported version: {found:?} (this verifier reads tollgate-license-v1)")]
    UnsupportedVersion { found: String },
    /// The document was altered after signing, or the signature was forged.
    #[error("bad signature: the license key was altered or was not issued by this seller")]
    BadSignature,
    /// A genuine-looking key from another seller key pair (another seller, or a rotated key).
    #[error("signed by another key (key id {found}, expected {expected})")]
    WrongKey { found: String, expected: String },
    /// The seller public key text is not `ed25519:<base64url of 32 bytes>`.
    #[error("malformed public key: {0}")]
    MalformedPublicKey(String),
}
