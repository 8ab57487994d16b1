//! Parses the raw request path under `/{seller}/npm` into what is asked. Works on the undecoded
//! path so that `@scope%2fname` (how the npm CLI escapes scoped names) stays one segment.

use percent_encoding::percent_decode_str;

/// One npm registry endpoint.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Ping,
    Whoami,
    /// `POST /-/npm/v1/security/*`: npm's audit, answered "no advisories".
    Audit,
    DistTags {
        name: String,
    },
    DistTag {
        name: String,
        tag: String,
    },
    Packument {
        name: String,
    },
    Tarball {
        name: String,
        file: String,
    },
    /// `…/-rev/…`: unpublish, which a paid registry does not offer.
    Unpublish,
    Unknown,
}

/// `rest` is the path after `/{seller}/npm`, still percent-encoded, e.g. `/@acme%2fui-pro`.
pub fn parse(rest: &str) -> Result<Route, String> {
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if let Some(special) = rest.strip_prefix("-/") {
        return parse_special(special);
    }
    if rest.contains("/-rev/") {
        return Ok(Route::Unpublish);
    }
    if let Some((name, file)) = rest.rsplit_once("/-/") {
        return Ok(Route::Tarball {
            name: decode(name)?,
            file: decode(file)?,
        });
    }
    if rest.is_empty() {
        return Ok(Route::Unknown);
    }
    Ok(Route::Packument {
        name: decode(rest)?,
    })
}

fn parse_special(special: &str) -> Result<Route, String> {
    Ok(match special {
        "ping" => Route::Ping,
        "whoami" => Route::Whoami,
        s if s.starts_with("npm/v1/security/") => Route::Audit,
        s => match s.strip_prefix("package/") {
            Some(pkg) => match pkg.rsplit_once("/dist-tags") {
                Some((name, "")) => Route::DistTags {
                    name: decode(name)?,
                },
                Some((name, tag)) => match tag.strip_prefix('/') {
                    Some(tag) if !tag.is_empty() && !tag.contains('/') => Route::DistTag {
                        name: decode(name)?,
                        tag: decode(tag)?,
                    },
                    _ => Route::Unknown,
                },
                None => Route::Unknown,
            },
            None => Route::Unknown,
        },
    })
}

fn decode(s: &str) -> Result<String, String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("`{s}` is not valid UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packument(n: &str) -> Route {
        Route::Packument { name: n.into() }
    }

    #[test]
    fn scoped_names_in_every_spelling() {
        assert_eq!(parse("/@acme%2fui-pro"), Ok(packument("@acme/ui-pro")));
        assert_eq!(parse("/@acme%2Fui-pro"), Ok(packument("@acme/ui-pro")));
        assert_eq!(parse("/@acme/ui-pro"), Ok(packument("@acme/ui-pro")));
        assert_eq!(parse("/utils"), Ok(packument("utils")));
    }

    #[test]
    fn tarballs() {
        assert_eq!(
            parse("/@acme/ui-pro/-/ui-pro-1.0.0.tgz"),
            Ok(Route::Tarball {
                name: "@acme/ui-pro".into(),
                file: "ui-pro-1.0.0.tgz".into()
            })
        );
        assert_eq!(
            parse("/utils/-/utils-2.0.0-beta.1.tgz"),
            Ok(Route::Tarball {
                name: "utils".into(),
                file: "utils-2.0.0-beta.1.tgz".into()
            })
        );
    }

    #[test]
    fn special_endpoints() {
        assert_eq!(parse("/-/ping"), Ok(Route::Ping));
        assert_eq!(parse("/-/whoami"), Ok(Route::Whoami));
        assert_eq!(
            parse("/-/npm/v1/security/advisories/bulk"),
            Ok(Route::Audit)
        );
        assert_eq!(
            parse("/-/package/@acme%2fui-pro/dist-tags"),
            Ok(Route::DistTags {
                name: "@acme/ui-pro".into()
            })
        );
        assert_eq!(
            parse("/-/package/@acme%2fui-pro/dist-tags/beta"),
            Ok(Route::DistTag {
                name: "@acme/ui-pro".into(),
                tag: "beta".into()
            })
        );
        assert_eq!(parse("/@acme%2fui-pro/-rev/3-abc"), Ok(Route::Unpublish));
        assert_eq!(parse("/"), Ok(Route::Unknown));
    }

    #[test]
    fn encoded_dots_are_decoded_for_validation() {
        // Decoding happens here; the name check then refuses `..`.
        assert_eq!(parse("/%2e%2e"), Ok(packument("..")));
    }
}
