//! One-time links: a seller's or member's sign-in, and seat invites. The secret has the token
//! shape (`tg_<id>_<secret>`); only its sha256 is stored, checked in constant time, and the
//! first use marks the link used.

use std::time::Duration;

use tollgate_registry::db::{Db, Link, LinkPurpose, NewLink};
use tollgate_registry::domain::{Org, Seller};
use tollgate_registry::time::Timestamp;
use tollgate_registry::token;

use crate::error::WebError;

/// How long a sign-in link sent by mail works.
pub const MAILED_SIGN_IN: Duration = Duration::from_secs(30 * 60);
/// How long a sign-in link printed by the CLI works (it is handed over by hand).
pub const PRINTED_SIGN_IN: Duration = Duration::from_secs(24 * 3600);
/// How long an invite to take a seat works.
pub const INVITE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Creates a link and returns its URL (shown once).
pub async fn issue(
    db: &Db,
    public_url: &str,
    purpose: LinkPurpose,
    seller: &Seller,
    org: Option<&Org>,
    email: &str,
    ttl: Duration,
) -> Result<String, tollgate_registry::Error> {
    let generated = token::generate();
    db.create_link(&NewLink {
        id: generated.id.0.clone(),
        secret_hash: generated.secret_hash,
        purpose,
        seller: seller.id,
        org: org.map(|o| o.id),
        email: email.to_owned(),
        role: (purpose == LinkPurpose::Invite).then(|| "member".to_owned()),
        expires_at: Timestamp(Timestamp::now().0 + ttl.as_millis() as i64),
    })
    .await?;
    let route = match purpose {
        LinkPurpose::Invite => "invite",
        LinkPurpose::Seller | LinkPurpose::Member => "login",
    };
    Ok(format!(
        "{public_url}/{}/{route}/{}",
        seller.slug, generated.secret
    ))
}

/// The stored link `secret` names, if the secret is right and it belongs to `seller` with
/// one of `purposes`. Unused and unexpired is checked when it is used ([`Db::use_link`]).
pub async fn find(
    db: &Db,
    seller: &Seller,
    secret: &str,
    purposes: &[LinkPurpose],
) -> Result<Link, WebError> {
    let invalid = || {
        WebError::NotFound("this link is not valid; ask for a new one from the sign-in page".into())
    };
    let presented = token::parse(secret).ok_or_else(invalid)?;
    let link = db.link(presented.id).await?.ok_or_else(invalid)?;
    if !presented.matches(&link.secret_hash)
        || link.seller != seller.id
        || !purposes.contains(&link.purpose)
    {
        return Err(invalid());
    }
    Ok(link)
}
