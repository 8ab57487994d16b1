//! Token secrets: `tg_<id>_<secret>`. The id is public (it names the token in lists and logs);
//! only sha256(secret) is stored, and it is compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::TokenId;

/// What every token starts with (and how a credential reader tells a token from a user name).
pub const PREFIX: &str = "tg_";

/// A freshly generated token: show `secret` once, store `id` and `secret_hash`.
pub struct Generated {
    pub id: TokenId,
    pub secret: String,
    pub secret_hash: String,
}

impl std::fmt::Debug for Generated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Generated")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

pub fn generate() -> Generated {
    let mut rng = rand::rng();
    let mut id = [0u8; 8];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut id);
    rng.fill_bytes(&mut secret);
    let id = hex::encode(id);
    let secret = hex::encode(secret);
    Generated {
        secret_hash: hash(&secret),
        secret: format!("{PREFIX}{id}_{secret}"),
        id: TokenId(id),
    }
}

/// The parts of a presented token, if it has our shape.
pub struct Presented<'a> {
    pub id: &'a str,
    secret: &'a str,
}

pub fn parse(token: &str) -> Option<Presented<'_>> {
    let (id, secret) = token.strip_prefix(PREFIX)?.split_once('_')?;
    let ok = id.len() == 16
        && secret.len() == 64
        && id
            .bytes()
            .chain(secret.bytes())
            .all(|b| b.is_ascii_hexdigit());
    ok.then_some(Presented { id, secret })
}

impl Presented<'_> {
    /// Constant-time comparison of the presented secret's hash with the stored one.
    pub fn matches(&self, stored_hash: &str) -> bool {
        hash(self.secret)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes())
            .into()
    }
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_verify() {
        let g = generate();
        let p = parse(&g.secret).expect("our own shape");
        assert_eq!(p.id, g.id.0);
        assert!(p.matches(&g.secret_hash));
        let other = generate();
        assert!(!p.matches(&other.secret_hash));
        assert!(!format!("{g:?}").contains(&g.secret));
    }

    #[test]
    fn the_stored_hash_is_sha256_of_the_secret_part() {
        // The known answer: sha256("abc").
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let g = generate();
        let (id, secret) = g
            .secret
            .strip_prefix("tg_")
            .and_then(|rest| rest.split_once('_'))
            .expect("tg_<id>_<secret>");
        assert_eq!(id, g.id.0);
        assert_eq!((id.len(), secret.len()), (16, 64));
        assert_eq!(g.secret_hash, hash(secret));
        let debug = format!("{g:?}");
        assert!(
            debug.contains("<redacted>") && debug.contains(id),
            "{debug}"
        );
    }

    #[test]
    fn a_secret_matches_only_its_own_hash() {
        let g = generate();
        let p = parse(&g.secret).expect("our own shape");
        assert!(p.matches(&g.secret_hash));
        // One hex digit of the secret changed.
        let last = g.secret.chars().last().expect("not empty");
        let other = format!(
            "{}{}",
            &g.secret[..g.secret.len() - 1],
            if last == '0' { '1' } else { '0' }
        );
        assert!(!parse(&other).expect("same shape").matches(&g.secret_hash));
        // The stored hash is compared as stored: not upper-cased, not a prefix, not empty.
        assert!(!p.matches(&g.secret_hash.to_uppercase()));
        assert!(!p.matches(&g.secret_hash[..63]));
        assert!(!p.matches(""));
    }

    #[test]
    fn rejects_foreign_shapes() {
        let id = "0123456789abcdef";
        let secret = "0123456789abcdef".repeat(4);
        assert!(parse(&format!("tg_{id}_{secret}")).is_some(), "the shape");
        for t in [
            String::new(),
            "tg_".into(),
            "npm_abc".into(),
            "tg_zz_yy".into(),
            "tg_0123456789abcdef_short".into(),
            // One length wrong, every character a hex digit.
            format!("tg_{}_{secret}", &id[1..]),
            format!("tg_{id}0_{secret}"),
            format!("tg_{id}_{}", &secret[1..]),
            format!("tg_{id}_{secret}0"),
            // Both lengths right, one character not a hex digit.
            format!("tg_{}g_{secret}", &id[1..]),
            format!("tg_{id}_{}g", &secret[1..]),
            format!("tg_{id}_{}_", &secret[1..]),
            // Another prefix, or none.
            format!("tk_{id}_{secret}"),
            format!("{id}_{secret}"),
        ] {
            assert!(parse(&t).is_none(), "{t}");
        }
    }
}
