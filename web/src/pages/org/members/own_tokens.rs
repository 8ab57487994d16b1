//! The signed-in member's own tokens (kind `seat`): any seat holder may create one (shown once)
//! and revoke their own. They die with the seat.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tollgate_registry::domain::{TokenKind, TokenRecord};
use tollgate_registry::ids::TokenId;
use tollgate_registry::time::Timestamp;

use crate::auth::MemberUser;
use crate::error::{WebError, WebResult};
use crate::pages::org::parts::{Confirm, page_url, set_notice};
use crate::pages::org::tokens::{create_token, created_page};
use crate::state::Web;
use crate::templates::Chrome;

/// `POST /{seller}/org/{org}/my-tokens`: a new personal token, its secret on the response only.
pub async fn create(State(web): State<Web>, user: MemberUser) -> WebResult<Response> {
    let secret = create_token(&web, &user, TokenKind::Seat).await?;
    created_page(
        &web,
        &user,
        "Your new token",
        "members",
        &secret,
        format!(
            "It is yours: it stops working when you revoke it or when your seat ({}) is revoked.",
            user.seat.email
        ),
        page_url(&user),
    )
    .await
}

/// The member's own token `id`, still active; anyone else's is not found.
async fn own(web: &Web, user: &MemberUser, id: &str) -> WebResult<TokenRecord> {
    web.registry
        .token(id)
        .await?
        .filter(|t| t.org_id == Some(user.org.id) && t.seat_id == Some(user.seat.id))
        .ok_or_else(|| WebError::NotFound("this token is not one of yours".into()))
}

/// `GET …/my-tokens/{token}/revoke`: "Revoke your token …?"
pub async fn confirm(
    State(web): State<Web>,
    user: MemberUser,
    Path((_, _, id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    let token = own(&web, &user, &id).await?;
    if token.revoked_at.is_some() {
        return Err(WebError::Conflict(format!(
            "the token {id} is revoked already"
        )));
    }
    Ok(Confirm {
        chrome: Chrome::org(&user, "Revoke a token", "members"),
        question: format!("Revoke your token {id}?"),
        detail: "Package managers using it are refused within a second, on every server.".into(),
        action: format!("{}/my-tokens/{id}/revoke", page_url(&user)),
        button: "Revoke the token".into(),
        back: page_url(&user),
    }
    .render())
}

/// `POST …/my-tokens/{token}/revoke`.
pub async fn revoke(
    State(web): State<Web>,
    user: MemberUser,
    Path((_, _, id)): Path<(String, String, String)>,
) -> WebResult<Response> {
    own(&web, &user, &id).await?;
    web.registry
        .revoke_token(&TokenId(id.clone()), Timestamp::now())
        .await?;
    set_notice(
        &user.session,
        format!("Revoked your token {id}; it no longer works."),
    )
    .await?;
    Ok(Redirect::to(&page_url(&user)).into_response())
}
