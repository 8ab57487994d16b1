//! Seller key pairs and the compact text form of a license key.
//!
//! # Format, version 1
//!
//! One line, safe to paste into any config file or environment variable:
//!
//! ```text
//! tollgate-license-v1.<payload>.<signature>
//! ```
//!
//! - `payload` is the base64url (no padding) encoding of the document as compact JSON with its
//!   fields always in this order: `kid`, `seller`, `org`, `product`, `seats`, `starts_at`,
//!   `ends_at`, `rule`, `issued_at` (absent values are `null`; times are unix seconds; `rule` is
//!   `"while_active"` or `"perpetual_fallback"`). Ed25519 signatures are deterministic, so the
//!   same license signed by the same key always gives the same text.
//! - `kid` is the key id: the first 8 bytes of SHA-256 of the 32-byte public key, in lowercase
//!   hex. It lets a verifier tell "signed by another key" (a rotated or another seller's key)
//!   from "tampered with".
//! - `signature` is the base64url (no padding) encoding of the Ed25519 signature of the ASCII
//!   bytes `tollgate-license-v1.<payload>`: the version is signed too, so a document can never
//!   be replayed under another format's rules.
//!
//! A verifier refuses unknown fields: a field added later may narrow a license, and an old
//! verifier must not ignore it, so any new field means a new version prefix.
//!
//! A seller public key is written `ed25519:<base64url, no padding, of its 32 bytes>`.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::LicenseError;
use crate::license::{License, VersionRule};

/// The first part of every version-1 license key, including its separator.
const PREFIX: &str = "tollgate-license-v1.";
/// What every license key (of any version) starts with.
const FAMILY: &str = "tollgate-license-";
/// What a seller public key starts with.
const KEY_PREFIX: &str = "ed25519:";
/// No real license comes near this; longer input is refused before any decoding.
const MAX_LEN: usize = 4096;

/// A seller's signing key: issues license keys. Keep its secret bytes as secret as a Stripe key
/// (Tollgate stores them encrypted, see `tollgate_registry::secret`).
#[derive(Clone)]
pub struct Issuer {
    key: SigningKey,
}

impl Issuer {
    /// A fresh key pair from the operating system's randomness (via `rand`'s thread RNG).
    pub fn generate() -> Self {
        Self::from_secret_bytes(&rand::random())
    }

    /// The issuer whose secret (Ed25519 seed) is `secret`, as stored by [`Issuer::secret_bytes`].
    pub fn from_secret_bytes(secret: &[u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(secret),
        }
    }

    /// The 32-byte secret to store (encrypted) and later pass to [`Issuer::from_secret_bytes`].
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The public half, which the seller publishes and compiles into their programs.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// Signs `license` and returns its one-line text form (see the module documentation).
    pub fn issue(&self, license: &License) -> String {
        let document = Document::new(self.public_key().key_id(), license.clone());
        sign(&self.key, &document)
    }
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("key_id", &self.public_key().key_id())
            .finish_non_exhaustive()
    }
}

/// A seller's public key: verifies license keys offline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
}

impl PublicKey {
    /// The text form, `ed25519:<base64url>`, as served at `/{seller}/license/public_key`.
    pub fn to_text(&self) -> String {
        format!(
            "{KEY_PREFIX}{}",
            URL_SAFE_NO_PAD.encode(self.key.as_bytes())
        )
    }

    /// Reads the text form written by [`PublicKey::to_text`] (surrounding whitespace ignored).
    pub fn from_text(text: &str) -> Result<Self, LicenseError> {
        let malformed = |why: &str| LicenseError::MalformedPublicKey(why.to_owned());
        let encoded = text
            .trim()
            .strip_prefix(KEY_PREFIX)
            .ok_or_else(|| malformed("expected ed25519:<base64url of 32 bytes>"))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| malformed("the part after ed25519: is not base64url without padding"))?;
        let bytes = <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| malformed("an Ed25519 public key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| malformed("not a point on the Ed25519 curve"))?;
        if key.is_weak() {
            return Err(malformed(
                "a weak (small-order) key, which anyone could sign for",
            ));
        }
        Ok(Self { key })
    }

    /// The key id: the first 8 bytes of SHA-256 of the public key, in lowercase hex.
    pub fn key_id(&self) -> String {
        Sha256::digest(self.key.as_bytes())
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Checks a license key's format, key id and signature, and returns its document. Surrounding
    /// whitespace is ignored. It does not look at the time: use [`License::is_live_at`] or
    /// [`License::allows_version_published_at`] for that, and compare `product` with yours.
    pub fn verify(&self, text: &str) -> Result<License, LicenseError> {
        let malformed = |why: &str| LicenseError::Malformed(why.to_owned());
        let text = text.trim();
        if text.len() > MAX_LEN {
            return Err(malformed("longer than any license key"));
        }
        let Some(rest) = text.strip_prefix(PREFIX) else {
            return Err(version_error(text));
        };
        let Some((payload, signature)) = rest.split_once('.') else {
            return Err(malformed(
                "expected tollgate-license-v1.<payload>.<signature>",
            ));
        };
        let signed = format!("{PREFIX}{payload}");
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| malformed("the signature is not base64url without padding"))?;
        let signature = Signature::from_slice(&signature)
            .map_err(|_| malformed("the signature is not 64 bytes"))?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| malformed("the payload is not base64url without padding"))?;
        let document: Document = serde_json::from_slice(&json)
            .map_err(|e| LicenseError::Malformed(format!("the document cannot be read: {e}")))?;
        let expected = self.key_id();
        if document.kid != expected {
            return Err(LicenseError::WrongKey {
                found: printable(&document.kid),
                expected,
            });
        }
        self.key
            .verify_strict(signed.as_bytes(), &signature)
            .map_err(|_| LicenseError::BadSignature)?;
        Ok(document.into_license())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey").field(&self.to_text()).finish()
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl FromStr for PublicKey {
    type Err = LicenseError;

    fn from_str(text: &str) -> Result<Self, LicenseError> {
        Self::from_text(text)
    }
}

/// The signed document: the license plus the key id. Field order here is the wire order.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    kid: String,
    seller: String,
    org: String,
    product: String,
    seats: Option<u32>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    rule: VersionRule,
    issued_at: i64,
}

impl Document {
    fn new(kid: String, l: License) -> Self {
        Self {
            kid,
            seller: l.seller,
            org: l.org,
            product: l.product,
            seats: l.seats,
            starts_at: l.starts_at,
            ends_at: l.ends_at,
            rule: l.rule,
            issued_at: l.issued_at,
        }
    }

    fn into_license(self) -> License {
        License {
            seller: self.seller,
            org: self.org,
            product: self.product,
            seats: self.seats,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            rule: self.rule,
            issued_at: self.issued_at,
        }
    }
}

fn sign(key: &SigningKey, document: &Document) -> String {
    let json = serde_json::to_vec(document).expect("a struct of strings and numbers is JSON");
    let signed = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json));
    let signature = key.sign(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// The error for text that does not start with the version-1 prefix.
fn version_error(text: &str) -> LicenseError {
    match text.strip_prefix(FAMILY) {
        Some(rest) => LicenseError::UnsupportedVersion {
            found: printable(&format!(
                "{FAMILY}{}",
                rest.split('.').next().unwrap_or_default()
            )),
        },
        None => LicenseError::Malformed("it does not start with tollgate-license-v1.".into()),
    }
}

/// Untrusted text, cut short and stripped of control characters, for an error message.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key and license shown in the crate documentation (seed: 32 bytes of 42). If this test
    /// fails, the format changed: that needs a new version prefix, not a new golden value.
    const GOLDEN_KEY: &str = "ed25519:GX9rI-FshTLGq8g4-s1ep4m-DHaykgM0A5v6iz02jWE";
    const GOLDEN_LICENSE: &str = "tollgate-license-v1.eyJraWQiOiJiNjAwMzA2Y2ZhNzY3MjNmIiwic2VsbGVyIjoiYWNtZSIsIm9yZyI6Imdsb2JleCIsInByb2R1Y3QiOiJhY21lLXBybyIsInNlYXRzIjo1LCJzdGFydHNfYXQiOjE3MzU2ODk2MDAsImVuZHNfYXQiOm51bGwsInJ1bGUiOiJwZXJwZXR1YWxfZmFsbGJhY2siLCJpc3N1ZWRfYXQiOjE3MzU2ODk2MDB9.LY0HfFbMzMhypePIsbV69WeexcwhzKhgDrk3qqlgUBBblD515G62l9w98zkBGzJiU_xH9BIerVXQKWapYYAVAQ";

    fn license() -> License {
        License {
            seller: "acme".into(),
            org: "globex".into(),
            product: "acme-pro".into(),
            seats: Some(5),
            starts_at: Some(1_735_689_600),
            ends_at: None,
            rule: VersionRule::PerpetualFallback,
            issued_at: 1_735_689_600,
        }
    }

    fn golden_issuer() -> Issuer {
        Issuer::from_secret_bytes(&[42; 32])
    }

    #[test]
    fn format_is_stable() {
        let issuer = golden_issuer();
        assert_eq!(issuer.public_key().to_text(), GOLDEN_KEY);
        assert_eq!(issuer.public_key().key_id(), "b600306cfa76723f");
        assert_eq!(issuer.issue(&license()), GOLDEN_LICENSE);
        let key = PublicKey::from_text(GOLDEN_KEY).expect("golden key reads");
        assert_eq!(key.verify(GOLDEN_LICENSE), Ok(license()));
    }

    #[test]
    fn issue_then_verify_round_trips() {
        let issuer = Issuer::generate();
        let key = PublicKey::from_text(&issuer.public_key().to_text()).expect("own key reads");
        let unlimited = License {
            seats: None,
            starts_at: None,
            ends_at: Some(1_900_000_000),
            rule: VersionRule::WhileActive,
            org: "o'brien \"&\" sons \u{e9}.".into(),
            ..license()
        };
        for l in [license(), unlimited] {
            let text = issuer.issue(&l);
            assert!(text.starts_with("tollgate-license-v1."));
            assert!(!text.contains(char::is_whitespace), "one line: {text}");
            assert_eq!(key.verify(&text), Ok(l.clone()));
            assert_eq!(key.verify(&format!("  {text}\n")), Ok(l));
        }
    }

    #[test]
    fn secret_bytes_round_trip() {
        let issuer = Issuer::generate();
        let again = Issuer::from_secret_bytes(&issuer.secret_bytes());
        assert_eq!(again.public_key(), issuer.public_key());
        assert_ne!(Issuer::generate().public_key(), issuer.public_key());
    }

    #[test]
    fn debug_does_not_show_the_secret() {
        let issuer = golden_issuer();
        let shown = format!("{issuer:?}");
        assert!(shown.contains("b600306cfa76723f"), "{shown}");
        let secret = URL_SAFE_NO_PAD.encode(issuer.secret_bytes());
        assert!(
            !shown.contains(&secret) && !shown.contains("42, 42"),
            "{shown}"
        );
    }

    #[test]
    fn another_sellers_key_is_named() {
        let text = golden_issuer().issue(&license());
        let other = Issuer::from_secret_bytes(&[7; 32]).public_key();
        let err = other.verify(&text).expect_err("another key must refuse");
        assert_eq!(
            err.to_string(),
            format!(
                "signed by another key (key id b600306cfa76723f, expected {})",
                other.key_id()
            )
        );
    }

    #[test]
    fn a_forged_key_id_is_a_bad_signature() {
        // Signed by one key, claiming to be from another: the claim must not help.
        let victim = Issuer::from_secret_bytes(&[7; 32]).public_key();
        let forged = sign(
            &golden_issuer().key,
            &Document::new(victim.key_id(), license()),
        );
        assert_eq!(victim.verify(&forged), Err(LicenseError::BadSignature));
    }

    #[test]
    fn a_swapped_signature_is_a_bad_signature() {
        let issuer = golden_issuer();
        let a = issuer.issue(&license());
        let b = issuer.issue(&License {
            seats: Some(500),
            ..license()
        });
        let (a_body, _) = a.rsplit_once('.').expect("three parts");
        let (_, b_sig) = b.rsplit_once('.').expect("three parts");
        let key = issuer.public_key();
        assert_eq!(
            key.verify(&format!("{a_body}.{b_sig}")),
            Err(LicenseError::BadSignature)
        );
    }

    #[test]
    fn unknown_fields_are_refused_even_when_signed() {
        let issuer = golden_issuer();
        let json = format!(
            r#"{{"kid":"{}","seller":"acme","org":"globex","product":"acme-pro","seats":5,"starts_at":null,"ends_at":null,"rule":"while_active","issued_at":1,"hosts":["a"]}}"#,
            issuer.public_key().key_id()
        );
        let signed = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json));
        let sig = URL_SAFE_NO_PAD.encode(issuer.key.sign(signed.as_bytes()).to_bytes());
        let err = issuer
            .public_key()
            .verify(&format!("{signed}.{sig}"))
            .expect_err("unknown field");
        assert!(
            matches!(&err, LicenseError::Malformed(m) if m.contains("hosts")),
            "{err}"
        );
    }

    #[test]
    fn other_versions_are_named() {
        let key = golden_issuer().public_key();
        let err = key
            .verify("tollgate-license-v2.abc.def")
            .expect_err("v2 is unknown");
        assert_eq!(
            err,
            LicenseError::UnsupportedVersion {
                found: "tollgate-license-v2".into()
            }
        );
        assert!(err.to_string().starts_with("unsupported version"), "{err}");
    }

    #[test]
    fn every_single_character_change_is_refused() {
        let key = golden_issuer().public_key();
        for (i, c) in GOLDEN_LICENSE.char_indices() {
            for replacement in ['A', 'B', 'a', '_', '-', '0', '.', 'é'] {
                if replacement == c {
                    continue;
                }
                let mut tampered = GOLDEN_LICENSE.to_owned();
                tampered.replace_range(i..i + c.len_utf8(), replacement.encode_utf8(&mut [0; 4]));
                assert!(key.verify(&tampered).is_err(), "accepted: {tampered}");
            }
        }
    }

    #[test]
    fn truncations_are_refused() {
        let key = golden_issuer().public_key();
        for end in 0..GOLDEN_LICENSE.len() {
            let cut = &GOLDEN_LICENSE[..end];
            assert!(key.verify(cut).is_err(), "accepted: {cut}");
        }
    }

    #[test]
    fn garbage_is_refused_without_panicking() {
        let key = golden_issuer().public_key();
        let long = "A".repeat(1 << 20);
        let fixed = [
            "",
            " ",
            ".",
            "..",
            "...",
            "tollgate-license-",
            "tollgate-license-v1",
            "tollgate-license-v1.",
            "tollgate-license-v1..",
            "tollgate-license-v1...",
            "tollgate-license-v1.%%%.%%%",
            "tollgate-license-v1.e30.e30",
            "tollgate-license-v1.bnVsbA.AAAA",
            "tollgate-license-\u{202e}v1.é.é",
            "tollgate-license-v1.\u{0}.\u{0}",
            "ed25519:GX9rI-FshTLGq8g4-s1ep4m-DHaykgM0A5v6iz02jWE",
            "ßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßßß",
            &long,
        ];
        for text in fixed {
            assert!(key.verify(text).is_err(), "accepted: {text:.80}");
        }
        // A small deterministic fuzz: random strings over the characters that matter, and
        // random splices of the real license.
        let alphabet: Vec<char> = "tollgate-license-v1.AZaz09_-+/=é\u{0}{}\\"
            .chars()
            .collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |bound: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % bound as u64).expect("bound fits")
        };
        for _ in 0..20_000 {
            let len = next(200);
            let mut text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            if next(2) == 0 {
                let cut = next(GOLDEN_LICENSE.len());
                text = format!("{}{text}", &GOLDEN_LICENSE[..cut]);
            }
            assert!(key.verify(&text).is_err(), "accepted: {text}");
        }
    }

    #[test]
    fn public_key_text_round_trips_and_refuses_garbage() {
        let key = golden_issuer().public_key();
        assert_eq!(PublicKey::from_text(&key.to_text()), Ok(key));
        assert_eq!(format!("{key}").parse::<PublicKey>(), Ok(key));
        assert_eq!(PublicKey::from_text(&format!(" {key}\n")), Ok(key));
        let small_order = format!("ed25519:{}", URL_SAFE_NO_PAD.encode([0u8; 32]));
        for bad in [
            "",
            "ed25519:",
            "ed25519:%%%",
            "ed25519:AAAA",
            "rsa:GX9rI-FshTLGq8g4-s1ep4m-DHaykgM0A5v6iz02jWE",
            "ed25519:GX9rI+FshTLGq8g4+s1ep4m+DHaykgM0A5v6iz02jWE=",
            &small_order,
        ] {
            let err = PublicKey::from_text(bad).expect_err(bad);
            assert!(
                err.to_string().starts_with("malformed public key: "),
                "{err}"
            );
        }
    }
}
