//! A seller's Hex registry signing key: RSA-2048, PKCS#1 v1.5 signatures over SHA-512 (what
//! hex_core verifies), the public half as an SPKI PEM (`/public_key`) and its OpenSSH
//! `SHA256:` fingerprint (what `mix hex.repo add --fetch-public-key` compares).

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use rsa::pkcs1v15;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::sha2::{Digest, Sha256, Sha512};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey};

/// The `seller_keys.purpose` of this key.
pub const PURPOSE: &str = "hex_rsa";

const BITS: usize = 2048;

pub struct SigningKey {
    key: pkcs1v15::SigningKey<Sha512>,
    public_pem: String,
    fingerprint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key (about a second of CPU in a release build).
    pub fn generate() -> Result<Self, String> {
        let key = PrivateKey::new(&mut getrandom::SysRng, BITS)
            .map_err(|e| format!("cannot generate an RSA key: {e}"))?;
        Self::from_key(key)
    }

    /// A key stored by [`SigningKey::to_pem`].
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let key = PrivateKey::from_pkcs8_pem(pem)
            .map_err(|e| format!("the stored Hex signing key is not a PKCS#8 RSA key: {e}"))?;
        Self::from_key(key)
    }

    fn from_key(key: PrivateKey) -> Result<Self, String> {
        let public = key.to_public_key();
        let public_pem = public
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the Hex public key: {e}"))?;
        Ok(Self {
            fingerprint: fingerprint(&public),
            public_pem,
            key: pkcs1v15::SigningKey::new(key),
        })
    }

    /// The private key as PKCS#8 PEM, for storage only.
    pub fn to_pem(&self) -> Result<String, String> {
        let key: &PrivateKey = self.key.as_ref();
        key.to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.as_str().to_owned())
            .map_err(|e| format!("cannot encode the Hex signing key: {e}"))
    }

    /// `-----BEGIN PUBLIC KEY-----` (SPKI), as `/public_key` serves it.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// `SHA256:…`, as `ssh-keygen -l -E sha256` prints it for this key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// RSASSA-PKCS1-v1_5 with SHA-512 over `payload`.
    pub fn sign(&self, payload: &[u8]) -> Vec<u8> {
        self.key.sign(payload).to_vec()
    }
}

/// OpenSSH's fingerprint: unpadded base64 of SHA-256 over the `ssh-rsa` public key blob
/// (string "ssh-rsa", mpint e, mpint n).
pub fn fingerprint(public: &PublicKey) -> String {
    let mut blob = Vec::new();
    put_string(&mut blob, b"ssh-rsa");
    put_mpint(&mut blob, &public.e_bytes());
    put_mpint(&mut blob, &public.n_bytes());
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(&blob)))
}

/// The fingerprint of an SPKI PEM public key (as stored and served), if it is one.
pub fn fingerprint_of_pem(pem: &str) -> Option<String> {
    use rsa::pkcs8::DecodePublicKey;
    PublicKey::from_public_key_pem(pem)
        .ok()
        .map(|k| fingerprint(&k))
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// An SSH mpint: big-endian without leading zeros, plus one zero byte if the top bit is set.
fn put_mpint(out: &mut Vec<u8>, be: &[u8]) {
    let trimmed = match be.iter().position(|b| *b != 0) {
        Some(i) => &be[i..],
        None => &[],
    };
    let pad = trimmed.first().is_some_and(|b| b & 0x80 != 0);
    out.extend_from_slice(&((trimmed.len() + usize::from(pad)) as u32).to_be_bytes());
    if pad {
        out.push(0);
    }
    out.extend_from_slice(trimmed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;

    /// A fixed test key, so the fingerprint can be compared with `ssh-keygen`'s output.
    const TEST_KEY: &str = include_str!("../tests/fixtures/test_key.pem");

    #[test]
    fn signatures_verify_with_the_served_public_key() {
        let key = SigningKey::from_pem(TEST_KEY).expect("test key");
        let payload = b"registry payload";
        let signature = key.sign(payload);
        let public = PublicKey::from_public_key_pem(key.public_pem()).expect("public pem");
        let verifier = pkcs1v15::VerifyingKey::<Sha512>::new(public);
        let sig = pkcs1v15::Signature::try_from(signature.as_slice()).expect("signature");
        verifier.verify(payload, &sig).expect("verifies");
        assert!(verifier.verify(b"other payload", &sig).is_err());
        assert_eq!(signature.len(), 256, "RSA-2048");
    }

    #[test]
    fn fingerprint_equals_ssh_keygen() {
        // `ssh-keygen -i -m PKCS8 -f pub.pem > k.pub && ssh-keygen -l -E sha256 -f k.pub`
        let key = SigningKey::from_pem(TEST_KEY).expect("test key");
        let expected = include_str!("../tests/fixtures/test_key.fingerprint");
        assert_eq!(
            key.fingerprint(),
            expected.split_whitespace().nth(1).expect("field")
        );
    }

    #[test]
    fn pem_round_trips() {
        let key = SigningKey::from_pem(TEST_KEY).expect("test key");
        let again = SigningKey::from_pem(&key.to_pem().expect("pem")).expect("reload");
        assert_eq!(key.fingerprint(), again.fingerprint());
        assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(SigningKey::from_pem("garbage").is_err());
    }

    #[test]
    fn generated_keys_are_2048_bits() {
        let key = SigningKey::generate().expect("generates");
        let public = PublicKey::from_public_key_pem(key.public_pem()).expect("pem");
        assert_eq!(public.size(), 256);
        assert!(key.fingerprint().starts_with("SHA256:"));
    }

    #[test]
    fn mpints_follow_the_ssh_rules() {
        let mut out = Vec::new();
        put_mpint(&mut out, &[0, 0, 0x80, 1]);
        assert_eq!(out, [0, 0, 0, 3, 0, 0x80, 1]);
        out.clear();
        put_mpint(&mut out, &[0, 1, 0, 1]);
        assert_eq!(out, [0, 0, 0, 3, 1, 0, 1]);
    }
}
