//! Who is signed in, checked on every request: a seller (its dashboard) or the holder of an
//! active seat (its org's pages; admins may change the org). The session stores only ids; the
//! seat is read again on each request, so a revoked seat's session stops working at once.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use tollgate_registry::domain::{Org, Seat, Seller};
use tollgate_registry::ids::{OrgId, SeatId, SellerId};
use tower_sessions::Session;

use crate::csrf;
use crate::error::WebError;
use crate::state::Web;
use crate::templates::Chrome;

/// The session key holding [`Who`].
pub const WHO: &str = "who";

/// What a session is signed in as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Who {
    Seller {
        seller: SellerId,
    },
    Member {
        seller: SellerId,
        org: OrgId,
        seat: SeatId,
    },
}

/// Signs `session` in as `who`: a new session id (no fixation), a new CSRF token.
pub async fn sign_in(session: &Session, who: Who) -> Result<(), WebError> {
    session.cycle_id().await?;
    session.insert(WHO, who).await?;
    csrf::renew(session).await?;
    Ok(())
}

fn path_param<'a>(params: &'a RawPathParams, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
}

async fn parts_of(
    parts: &mut Parts,
    web: &Web,
) -> Result<(Arc<Seller>, Session, RawPathParams), WebError> {
    let params = RawPathParams::from_request_parts(parts, web)
        .await
        .map_err(|_| WebError::NotFound("this page".into()))?;
    let slug = path_param(&params, "seller").unwrap_or_default().to_owned();
    let seller = web
        .registry
        .seller(&slug)
        .await
        .map_err(|_| WebError::NotFound(format!("seller `{slug}`")))?;
    let session = Session::from_request_parts(parts, web)
        .await
        .map_err(|(_, m)| WebError::Internal(anyhow::anyhow!("session: {m}")))?;
    Ok((seller, session, params))
}

/// A signed-in seller on one of its own pages (`/{seller}/dashboard/…`).
pub struct SellerUser {
    pub seller: Arc<Seller>,
    pub session: Session,
    pub csrf: String,
}

impl FromRequestParts<Web> for SellerUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        let (seller, session, _) = parts_of(parts, web).await?;
        let sign_in = || WebError::SignIn {
            seller: seller.slug.clone(),
        };
        match session.get::<Who>(WHO).await? {
            Some(Who::Seller { seller: id }) if id == seller.id => {}
            Some(_) => {
                return Err(WebError::Forbidden(format!(
                    "this session is not signed in as the seller {}; sign in again",
                    seller.slug
                )));
            }
            None => return Err(sign_in()),
        }
        let csrf = csrf::token(&session).await?;
        Ok(Self {
            seller,
            session,
            csrf,
        })
    }
}

/// A signed-in holder of an active seat, on its own org's pages (`/{seller}/org/{org}/…`).
pub struct MemberUser {
    pub seller: Arc<Seller>,
    pub org: Org,
    pub seat: Seat,
    pub session: Session,
    pub csrf: String,
}

impl MemberUser {
    pub fn is_admin(&self) -> bool {
        self.seat.role == "admin"
    }

    /// Refuses a plain member.
    pub fn require_admin(&self) -> Result<(), WebError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(WebError::Forbidden(format!(
                "only an admin of {} can do this; ask one of them",
                self.org.name
            )))
        }
    }
}

impl FromRequestParts<Web> for MemberUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        let (seller, session, params) = parts_of(parts, web).await?;
        let org_slug = path_param(&params, "org").unwrap_or_default().to_owned();
        let sign_in = || WebError::SignIn {
            seller: seller.slug.clone(),
        };
        let Some(Who::Member {
            seller: sid,
            org,
            seat,
        }) = session.get::<Who>(WHO).await?
        else {
            return Err(sign_in());
        };
        let db = &web.registry;
        let found = db.org(seller.id, &org_slug).await.ok();
        let Some(found) = found.filter(|o| sid == seller.id && o.id == org) else {
            return Err(WebError::Forbidden(
                "this session is signed in to another org; sign in again".into(),
            ));
        };
        let seat = match db.seat(seat).await? {
            Some(s) if s.active && s.org_id == org => s,
            _ => {
                // The seat was revoked: the session ends with it.
                session.flush().await?;
                return Err(sign_in());
            }
        };
        let csrf = csrf::token(&session).await?;
        Ok(Self {
            seller,
            org: found,
            seat,
            session,
            csrf,
        })
    }
}

/// The seller named in the path, for pages anyone may open (sign-in).
pub struct PathSeller(pub Arc<Seller>, pub Session);

impl FromRequestParts<Web> for PathSeller {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, WebError> {
        let (seller, session, _) = parts_of(parts, web).await?;
        Ok(Self(seller, session))
    }
}

/// The chrome of the signed-in pages, made from who is signed in.
impl Chrome {
    /// A seller's dashboard page, live.
    pub fn seller(user: &SellerUser, title: &str, current: &'static str) -> Self {
        Self {
            title: title.to_owned(),
            seller: user.seller.slug.clone(),
            seller_name: user.seller.name.clone(),
            current,
            signed_in: true,
            csrf: user.csrf.clone(),
            live_url: Some(format!("/{}/dashboard/live", user.seller.slug)),
            ..Self::default()
        }
    }

    /// An org's page, live.
    pub fn org(user: &MemberUser, title: &str, current: &'static str) -> Self {
        Self {
            title: title.to_owned(),
            seller: user.seller.slug.clone(),
            seller_name: user.seller.name.clone(),
            org: Some(user.org.slug.clone()),
            org_name: user.org.name.clone(),
            current,
            admin: user.is_admin(),
            signed_in: true,
            csrf: user.csrf.clone(),
            live_url: Some(format!("/{}/org/{}/live", user.seller.slug, user.org.slug)),
        }
    }
}
