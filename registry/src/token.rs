//! Token secrets: `tg_<id>_<secret>`. The id is public (it names the token in lists and logs);
//! only sha256(secret) is stored, and it is compared in constant time.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ids::TokenId;

const PREFIX: &str = "tg_";

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
    fn rejects_foreign_shapes() {
        for t in [
            "",
            "tg_",
            "npm_abc",
            "tg_zz_yy",
            "tg_0123456789abcdef_short",
        ] {
            assert!(parse(t).is_none(), "{t}");
        }
    }
}
