//! One-time links into the web pages: a seller's or member's sign-in, and seat invites. Here,
//! not in the web crate, because mail written elsewhere (the purchase welcome) carries them too.
//! The secret has the token shape (`tg_<id>_<secret>`); only its sha256 is stored.

use std::time::Duration;

use crate::Registry;
use crate::Result;
use crate::db::{LinkPurpose, NewLink};
use crate::domain::{Org, Seller};
use crate::time::Timestamp;
use crate::token;

/// How long a sign-in link sent by mail works.
pub const MAILED_SIGN_IN: Duration = Duration::from_secs(30 * 60);
/// How long a sign-in link printed by the CLI, or sent after a purchase, works.
pub const PRINTED_SIGN_IN: Duration = Duration::from_secs(24 * 3600);
/// How long an invite to take a seat works.
pub const INVITE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Creates a link and returns its URL (show it once): `{public_url}/{seller}/login/{secret}`,
/// or `/{seller}/invite/{secret}` for an invite.
pub async fn issue(
    registry: &Registry,
    public_url: &str,
    purpose: LinkPurpose,
    seller: &Seller,
    org: Option<&Org>,
    email: &str,
    ttl: Duration,
) -> Result<String> {
    let generated = token::generate();
    registry
        .db()
        .create_link(&NewLink {
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
        "{}/{}/{route}/{}",
        public_url.trim_end_matches('/'),
        seller.slug,
        generated.secret
    ))
}
