//! npm package names and versions as the registry accepts them for new packages
//! (the rules of validate-npm-package-name): lowercase, URL-safe, optional `@scope/`.

/// Checks a package name; the error is the sentence npm will print.
pub fn validate(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 214 {
        return Err(format!(
            "invalid package name `{name}`: must be 1 to 214 characters"
        ));
    }
    let (scope, base) = match name.strip_prefix('@') {
        Some(rest) => match rest.split_once('/') {
            Some((scope, base)) => (Some(scope), base),
            None => {
                return Err(format!(
                    "invalid package name `{name}`: a scope needs `@scope/name`"
                ));
            }
        },
        None => (None, name),
    };
    if let Some(scope) = scope {
        check_part(name, scope)?;
    }
    check_part(name, base)?;
    if matches!(base, "node_modules" | "favicon.ico") {
        return Err(format!(
            "invalid package name `{name}`: `{base}` is reserved"
        ));
    }
    Ok(())
}

fn check_part(name: &str, part: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err(format!("invalid package name `{name}`: empty part"));
    }
    if part.starts_with('.') || part.starts_with('_') {
        return Err(format!(
            "invalid package name `{name}`: may not start with `.` or `_`"
        ));
    }
    if part.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format!("invalid package name `{name}`: must be lowercase"));
    }
    if !part
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(format!(
            "invalid package name `{name}`: only lowercase letters, digits, `-`, `.` and `_` are allowed"
        ));
    }
    Ok(())
}

/// Checks a version: strict semver, in its canonical spelling.
pub fn validate_version(version: &str) -> Result<semver::Version, String> {
    match semver::Version::parse(version) {
        Ok(v) if v.to_string() == version => Ok(v),
        _ => Err(format!(
            "invalid version `{version}`: must be a semver version such as 1.2.3"
        )),
    }
}

/// The name without its scope: the tarball file name's prefix.
pub fn basename(name: &str) -> &str {
    name.rsplit_once('/').map_or(name, |(_, b)| b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_npm_names() {
        for n in ["ui-pro", "@acme/ui-pro", "a.b_c-1", "@a1/x"] {
            assert_eq!(validate(n), Ok(()), "{n}");
        }
    }

    #[test]
    fn refuses_bad_names() {
        for n in [
            "",
            "..",
            "../x",
            "@acme/..",
            ".hidden",
            "_x",
            "UPPER",
            "@Acme/x",
            "a b",
            "a/b",
            "@acme",
            "@acme/",
            "a%2e",
            "node_modules",
            "x~y",
            "ü",
        ] {
            assert!(validate(n).is_err(), "{n} should be refused");
        }
        assert!(validate(&"a".repeat(215)).is_err());
    }

    #[test]
    fn versions_must_be_canonical_semver() {
        assert!(validate_version("1.2.3").is_ok());
        assert!(validate_version("2.0.0-beta.1").is_ok());
        for v in ["1.2", "v1.2.3", "01.2.3", "1.2.3 ", "latest", ""] {
            assert!(validate_version(v).is_err(), "{v}");
        }
    }

    #[test]
    fn basename_drops_the_scope() {
        assert_eq!(basename("@acme/ui-pro"), "ui-pro");
        assert_eq!(basename("utils"), "utils");
    }
}
