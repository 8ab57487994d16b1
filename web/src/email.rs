//! E-mail addresses typed into forms: trimmed and lower-cased, which is how seats, invites and
//! sign-in requests store and compare them (one seat per person, whatever the case they type),
//! and refused unless mail can be sent to them, by the very parse the mailer does: a form error
//! at once rather than a failed send (a 500) later.

use tollgate_billing::mail;

use crate::error::{WebError, WebResult};

/// The longest address SMTP carries (RFC 5321: a 256-octet path, less its angle brackets).
const MAX_LEN: usize = 254;

/// `raw` as stored (trimmed, lower-case), if mail can be sent to it.
pub fn address(raw: &str) -> WebResult<String> {
    let email = raw.trim().to_ascii_lowercase();
    let ok = email.len() <= MAX_LEN
        && !email.contains(char::is_whitespace)
        && mail::check_address(&email).is_ok();
    if ok {
        Ok(email)
    } else {
        Err(WebError::BadRequest(format!(
            "`{}` is not an e-mail address",
            raw.trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            address("  Ann@Globex.Test ").ok().as_deref(),
            Some("ann@globex.test")
        );
    }

    #[test]
    fn what_the_mailer_cannot_send_to_is_refused() {
        for bad in [
            "",
            "ann",
            "@globex.test",
            "ann@",
            "a nn@globex.test",
            "ann<x>@globex.test",
            "ann@@globex.test",
            "Ann <ann@globex.test>",
            "<ann@globex.test>",
            "ann@globex.test, bob@globex.test",
            "ann@globex.test\r\nBcc: eve@evil.test",
        ] {
            assert!(address(bad).is_err(), "{bad:?} was accepted");
        }
        let long = format!("{}@globex.test", "a".repeat(250));
        assert!(address(&long).is_err(), "an address past 254 characters");
    }
}
