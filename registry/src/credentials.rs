//! The token a request presents, read one way for every protocol, and the sentences that tell
//! a person what to fix when it does not authenticate. Each protocol supplies only its hint
//! (where the token goes in its client's configuration) and its status codes.
//!
//! Clients send the token as:
//! - `Authorization: Bearer TOKEN` (npm `_authToken`, Cargo with `Bearer`),
//! - `Authorization: Basic base64(user:password)` with the token as the password or as the user
//!   (npm `_auth`, Bundler's `user:password` and `TOKEN@host` sources, pip's `__token__:TOKEN`),
//! - `Authorization: TOKEN` (Cargo, `gem push`, Hex: mix and rebar3 send the key bare).

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, header};

use crate::domain::Seller;
use crate::registry::{AuthError, AuthOrDbError, Caller, Registry};
use crate::token::PREFIX;

/// The token in the `Authorization` header, if one was sent.
pub fn presented(headers: &HeaderMap) -> Option<Cow<'_, str>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let Some((scheme, rest)) = value.split_once(' ') else {
        return (!value.is_empty()).then_some(Cow::Borrowed(value));
    };
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        return Some(Cow::Borrowed(rest.trim()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = String::from_utf8(BASE64.decode(rest.trim()).ok()?).ok()?;
        return Some(Cow::Owned(from_user_info(&decoded).to_owned()));
    }
    // An unknown scheme: the whole value is what was presented (and it will not authenticate).
    Some(Cow::Borrowed(value))
}

/// The token in `user:password`: whichever half looks like one, else the password, else the
/// user (`TOKEN@host` URLs send the token as the user with an empty password).
fn from_user_info(decoded: &str) -> &str {
    let (user, pass) = decoded.split_once(':').unwrap_or((decoded, ""));
    if pass.starts_with(PREFIX) {
        pass
    } else if user.starts_with(PREFIX) || pass.is_empty() {
        user
    } else {
        pass
    }
}

impl Registry {
    /// The caller of a request to `seller`'s URLs, from its `Authorization` header: the outer
    /// error is the server's (the database), the inner one the caller's, for the protocol to
    /// explain with its [`AuthHint`]. A caller's use of its token is noted here (when, from
    /// where, which client: `crate::last_use`), for every protocol.
    pub async fn caller(
        &self,
        seller: &Seller,
        headers: &HeaderMap,
    ) -> crate::Result<Result<Caller, AuthError>> {
        match self
            .authenticate(seller, presented(headers).as_deref())
            .await
        {
            Ok(caller) => {
                self.note_use(&caller, headers);
                Ok(Ok(caller))
            }
            Err(AuthOrDbError::Auth(error)) => Ok(Err(error)),
            Err(AuthOrDbError::Db(error)) => Err(error),
        }
    }
}

/// Where a protocol's client takes its token, for the sentences of [`AuthError::sentence`].
pub struct AuthHint<'a> {
    /// What the request tried to reach: "the acme registry", "the gem source http://…/".
    pub place: &'a str,
    /// What the client calls the credential: "token", or "key" for Hex.
    pub credential: &'a str,
    /// What to do, completing "…, then HOW": "add `…` to your .npmrc".
    pub how: &'a str,
}

impl AuthError {
    /// The sentence a person reads for this failure, the same in every protocol.
    pub fn sentence(&self, hint: &AuthHint<'_>) -> String {
        let AuthHint {
            place,
            credential,
            how,
        } = hint;
        match self {
            Self::Missing => format!("{place} needs a {credential}: {how}"),
            Self::Unknown => format!("the {credential} is not valid for {place}: {how}"),
            Self::Revoked(why) => format!(
                "{why}; ask for a new token (your org admin, or the seller for a publish token), then {how}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn read(v: &str) -> Option<String> {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(v).expect("header"),
        );
        presented(&h).map(Cow::into_owned)
    }

    fn basic(s: &str) -> String {
        format!("Basic {}", BASE64.encode(s))
    }

    #[test]
    fn every_form_a_client_sends() {
        assert_eq!(read("Bearer tg_x"), Some("tg_x".into()));
        assert_eq!(read("bearer  tg_x "), Some("tg_x".into()));
        assert_eq!(read("tg_raw"), Some("tg_raw".into()));
        assert_eq!(read(&basic("user:tg_y")), Some("tg_y".into()));
        assert_eq!(read(&basic("__token__:tg_y")), Some("tg_y".into()));
        assert_eq!(read(&basic("tg_z:")), Some("tg_z".into()));
        assert_eq!(read(&basic("tg_z")), Some("tg_z".into()));
        assert_eq!(read(&basic(":tg_c")), Some("tg_c".into()));
        assert_eq!(read(&basic("tg_u:x-oauth-basic")), Some("tg_u".into()));
        assert_eq!(read(&basic("user:secret")), Some("secret".into()));
        assert_eq!(read("Basic !!!"), None);
        assert_eq!(read("Digest abc"), Some("Digest abc".into()));
        assert_eq!(presented(&HeaderMap::new()), None);
    }

    #[test]
    fn sentences_name_the_place_and_the_fix() {
        let hint = AuthHint {
            place: "the acme registry",
            credential: "key",
            how: "run X",
        };
        assert_eq!(
            AuthError::Missing.sentence(&hint),
            "the acme registry needs a key: run X"
        );
        assert_eq!(
            AuthError::Unknown.sentence(&hint),
            "the key is not valid for the acme registry: run X"
        );
        assert_eq!(
            AuthError::Revoked("token t was revoked".into()).sentence(&hint),
            "token t was revoked; ask for a new token (your org admin, or the seller for a publish token), then run X"
        );
    }
}
