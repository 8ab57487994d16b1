//! One-time links: a seller's or member's sign-in, and seat invites (made by
//! [`tollgate_registry::sign_in::issue`]). The presented secret is checked in constant time
//! against the stored sha256; the first use marks the link used.

use tollgate_registry::Registry;
use tollgate_registry::db::{Link, LinkPurpose};
use tollgate_registry::domain::Seller;
use tollgate_registry::token;

pub use tollgate_registry::sign_in::{INVITE, MAILED_SIGN_IN, PRINTED_SIGN_IN, issue};

use crate::error::WebError;

/// The stored link `secret` names, if the secret is right and it belongs to `seller` with
/// one of `purposes`. Unused and unexpired is checked when it is used ([`Registry::use_link`]).
pub async fn find(
    registry: &Registry,
    seller: &Seller,
    secret: &str,
    purposes: &[LinkPurpose],
) -> Result<Link, WebError> {
    let invalid = || {
        WebError::NotFound("this link is not valid; ask for a new one from the sign-in page".into())
    };
    let presented = token::parse(secret).ok_or_else(invalid)?;
    let link = registry.link(presented.id).await?.ok_or_else(invalid)?;
    if !presented.matches(&link.secret_hash)
        || link.seller != seller.id
        || !purposes.contains(&link.purpose)
    {
        return Err(invalid());
    }
    Ok(link)
}
