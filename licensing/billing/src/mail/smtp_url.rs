//! `TOLLGATE_SMTP_URL`: what it may say and how it maps onto an SMTP connection.
//!
//! | URL                                        | connection                               | default port |
//! |--------------------------------------------|------------------------------------------|--------------|
//! | `smtps://user:pass@host:port`              | TLS from the first byte (implicit TLS)   | 465          |
//! | `smtp://user:pass@host:port?tls=required`  | STARTTLS, refused if the server lacks it | 587          |
//! | `smtp://user:pass@host:port?tls=opportunistic` | STARTTLS when offered, else plain    | 587          |
//! | `smtp://host:port` (or `?tls=none`)        | plain text                               | 25           |
//!
//! `user` and `pass` are optional and percent-decoded (write `@` as `%40`). A plain `smtp://` URL
//! with a password is refused unless the host is a loopback address (a local relay): the password
//! would cross the network in the clear. `ehlo=NAME` sets the name sent in EHLO (the machine's
//! host name otherwise). Server certificates are checked against the Mozilla roots
//! (`webpki-roots`), as for the rest of the workspace's rustls clients. Any other query parameter,
//! a path, or another scheme is an error, so that a typo cannot silently turn TLS off.

use std::fmt;
use std::net::IpAddr;

use percent_encoding::percent_decode_str;

use super::error::MailError;

/// How the connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Security {
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `?tls=required`: STARTTLS or fail.
    StartTlsRequired,
    /// `?tls=opportunistic`: STARTTLS when the server offers it.
    StartTlsOpportunistic,
    /// Plain text.
    None,
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Security::Implicit => "implicit TLS",
            Security::StartTlsRequired => "STARTTLS required",
            Security::StartTlsOpportunistic => "STARTTLS if offered",
            Security::None => "no TLS",
        })
    }
}

/// A parsed `TOLLGATE_SMTP_URL`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User name and password, percent-decoded.
    pub credentials: Option<(String, String)>,
    pub ehlo: Option<String>,
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpUrl")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("ehlo", &self.ehlo)
            .finish_non_exhaustive()
    }
}

fn invalid(reason: impl Into<String>) -> MailError {
    MailError::SmtpUrl(reason.into())
}

impl SmtpUrl {
    /// Parses the URL; errors never repeat the password.
    pub fn parse(raw: &str) -> Result<SmtpUrl, MailError> {
        let url = url::Url::parse(raw.trim()).map_err(|e| {
            invalid(format!(
                "not a URL ({e}); expected smtp://[user:pass@]host[:port][?tls=required|opportunistic] or smtps://[user:pass@]host[:port]"
            ))
        })?;
        let scheme = url.scheme();
        if scheme != "smtp" && scheme != "smtps" {
            return Err(invalid(format!(
                "scheme {scheme:?} is not supported; use smtp:// or smtps://"
            )));
        }
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(invalid("no host")),
        };
        if !matches!(url.path(), "" | "/") {
            return Err(invalid(format!(
                "unexpected path {:?} (set the EHLO name with ?ehlo=NAME)",
                url.path()
            )));
        }
        if url.fragment().is_some() {
            return Err(invalid("unexpected #fragment"));
        }

        let mut tls = None;
        let mut ehlo = None;
        for (key, value) in url.query_pairs() {
            match &*key {
                "tls" if tls.is_none() => tls = Some(value.into_owned()),
                "ehlo" if ehlo.is_none() && !value.is_empty() => ehlo = Some(value.into_owned()),
                _ => {
                    return Err(invalid(format!(
                        "unexpected query parameter {key:?} (known: tls=required|opportunistic|none, ehlo=NAME, each once)"
                    )));
                }
            }
        }
        let security = match (scheme, tls.as_deref()) {
            ("smtps", None) => Security::Implicit,
            ("smtps", Some(_)) => {
                return Err(invalid(
                    "smtps:// is always TLS; drop ?tls= or use smtp://…?tls=required for STARTTLS",
                ));
            }
            (_, Some("required")) => Security::StartTlsRequired,
            (_, Some("opportunistic")) => Security::StartTlsOpportunistic,
            (_, None | Some("none")) => Security::None,
            (_, Some(other)) => {
                return Err(invalid(format!(
                    "tls={other:?} is not one of required, opportunistic, none"
                )));
            }
        };
        let port = url.port().unwrap_or(match security {
            Security::Implicit => 465,
            Security::StartTlsRequired | Security::StartTlsOpportunistic => 587,
            Security::None => 25,
        });
        if port == 0 {
            return Err(invalid("port 0"));
        }

        let decode = |part: &str, what: &str| {
            percent_decode_str(part)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|_| invalid(format!("the {what} is not UTF-8 once percent-decoded")))
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (_, None) => return Err(invalid("a user name without a password (user:pass@host)")),
            (user, Some(pass)) => Some((decode(user, "user name")?, decode(pass, "password")?)),
        };
        if credentials.is_some() && security == Security::None && !is_loopback(&host) {
            return Err(invalid(format!(
                "a password over plain SMTP to {host} would cross the network unencrypted; \
                 use smtps:// or add ?tls=required"
            )));
        }

        Ok(SmtpUrl {
            host,
            port,
            security,
            credentials,
            ehlo,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|ip: IpAddr| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> SmtpUrl {
        SmtpUrl::parse(raw).expect("valid URL")
    }

    fn err(raw: &str) -> String {
        SmtpUrl::parse(raw).expect_err("invalid URL").to_string()
    }

    #[test]
    fn schemes_tls_modes_and_default_ports() {
        let u = ok("smtps://mailer:s3cret@smtp.example.com");
        assert_eq!(
            (u.host.as_str(), u.port, u.security),
            ("smtp.example.com", 465, Security::Implicit)
        );
        assert_eq!(
            u.credentials,
            Some(("mailer".to_owned(), "s3cret".to_owned()))
        );

        let u = ok("smtp://u:p@smtp.example.com?tls=required");
        assert_eq!((u.port, u.security), (587, Security::StartTlsRequired));
        let u = ok("smtp://u:p@smtp.example.com:2525?tls=opportunistic");
        assert_eq!(
            (u.port, u.security),
            (2525, Security::StartTlsOpportunistic)
        );
        let u = ok("smtp://relay.internal");
        assert_eq!(
            (u.port, u.security, u.credentials),
            (25, Security::None, None)
        );
        let u = ok("smtp://relay.internal:26?tls=none&ehlo=tollgate.example.com");
        assert_eq!((u.port, u.security), (26, Security::None));
        assert_eq!(u.ehlo.as_deref(), Some("tollgate.example.com"));
        let u = ok("smtp://[::1]:2526");
        assert_eq!((u.host.as_str(), u.port), ("::1", 2526));
    }

    #[test]
    fn credentials_are_percent_decoded() {
        let u = ok("smtps://apikey%40example.com:p%3Aw%2Fd%40%25@smtp.example.com:465");
        assert_eq!(
            u.credentials,
            Some(("apikey@example.com".to_owned(), "p:w/d@%".to_owned()))
        );
    }

    #[test]
    fn password_over_plain_smtp_only_to_loopback() {
        assert!(ok("smtp://u:p@127.0.0.1:2526").credentials.is_some());
        assert!(ok("smtp://u:p@localhost:2526").credentials.is_some());
        let e = err("smtp://u:hunter2@smtp.example.com");
        assert!(e.contains("unencrypted"), "{e}");
    }

    #[test]
    fn bad_urls_name_the_variable_and_never_the_password() {
        for raw in [
            "",
            "smtp.example.com:587",
            "http://u:hunter2@smtp.example.com",
            "smtp://",
            "smtp://u:hunter2@smtp.example.com?tls=require",
            "smtp://smtp.example.com?tls=required&tls=none",
            "smtps://u:hunter2@smtp.example.com?tls=required",
            "smtp://smtp.example.com/ehlo-name",
            "smtp://smtp.example.com?starttls=1",
            "smtp://smtp.example.com:0",
            "smtp://smtp.example.com:99999",
            "smtp://u@smtp.example.com?tls=required",
            "smtp://u:hunter2@smtp.example.com",
            "smtps://u:%ff%fe@smtp.example.com",
        ] {
            let e = err(raw);
            assert!(e.contains("TOLLGATE_SMTP_URL"), "{raw:?}: {e}");
            assert!(!e.contains("hunter2"), "{raw:?} leaks the password: {e}");
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let u = ok("smtps://mailer:hunter2@smtp.example.com");
        let shown = format!("{u:?}");
        assert!(
            shown.contains("mailer") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
