//! Crate names: what Cargo accepts, where a name's index file lives, and when two names collide.

/// Checks a crate name as crates.io does: ASCII letter first, then letters, digits, `-`, `_`.
pub fn validate(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !first_ok || !rest_ok || name.len() > 64 {
        return Err(format!(
            "invalid crate name `{name}`: use at most 64 ASCII letters, digits, `-` or `_`, starting with a letter"
        ));
    }
    Ok(())
}

/// How the registry stores a crate's name: lowercase, so that index lookups (always lowercase)
/// find it. The index lines keep the case it was published with.
pub fn stored(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Names that Cargo would confuse (case, `-` vs `_`) have the same key.
pub fn collision_key(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// The index path of a (lowercase) name: `1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd…`.
pub fn index_path(lower: &str) -> String {
    match lower.len() {
        1 => format!("1/{lower}"),
        2 => format!("2/{lower}"),
        3 => format!("3/{}/{lower}", &lower[..1]),
        _ => format!("{}/{}/{lower}", &lower[..2], &lower[2..4]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("syn"), "3/s/syn");
        assert_eq!(index_path("acme-core"), "ac/me/acme-core");
    }

    #[test]
    fn names() {
        for ok in ["acme", "acme-core", "acme_macros", "A1"] {
            assert_eq!(validate(ok), Ok(()), "{ok}");
        }
        for bad in ["", "1abc", "-x", "a b", "a/b", "a.b", "ü", &"a".repeat(65)] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        assert_eq!(collision_key("Acme_Core"), collision_key("acme-core"));
        assert_ne!(collision_key("acme-core"), collision_key("acmecore"));
    }
}
