//! Signing in with one-time links: a form that mails a link (rate-limited per address), the link
//! itself (a plain GET signs in, once), seat invites, and signing out.

use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tollgate_billing::mail::{self, SignIn};
use tollgate_registry::db::LinkPurpose;
use tollgate_registry::time::Timestamp;

use crate::auth::{PathSeller, Who, sign_in};
use crate::csrf::FormToken;
use crate::email;
use crate::error::{WebError, WebResult};
use crate::links;
use crate::state::Web;
use crate::templates::{Chrome, html};

/// At most this many sign-in links per address in [`LIMIT_WINDOW`].
pub const LIMIT: i64 = 5;
pub const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    sent_to: Option<String>,
}

/// `GET /{seller}/login`: the form. Its token is the anonymous one (a cookie, nothing stored)
/// unless the visitor is signed in already.
pub async fn form(
    State(web): State<Web>,
    PathSeller(seller, session): PathSeller,
    headers: HeaderMap,
) -> WebResult<Response> {
    let token = FormToken::for_visitor(&web, &session, &headers).await?;
    let chrome = Chrome::public(&seller, "Sign in", &token.value);
    let page = html(&LoginPage {
        chrome,
        sent_to: None,
    });
    Ok((token, page).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
}

/// Mails a sign-in link to the address if it is the seller's or holds a seat; the answer is the
/// same either way (no one learns who has access).
pub async fn request(
    State(web): State<Web>,
    PathSeller(seller, _): PathSeller,
    Form(f): Form<LoginForm>,
) -> WebResult<Response> {
    let email = email::address(&f.email)?;
    let db = &web.registry;
    let now = Timestamp::now();
    let since = Timestamp(now.0 - LIMIT_WINDOW.as_millis() as i64);
    if db.note_sign_in_request(&email, now, since).await? > LIMIT {
        return Err(WebError::TooMany(format!(
            "{LIMIT} sign-in links were sent to {email} in the last {} minutes; use one of them or wait",
            LIMIT_WINDOW.as_secs() / 60
        )));
    }
    let public_url = &web.config.public_url;
    let minutes = (links::MAILED_SIGN_IN.as_secs() / 60) as u32;
    let mut sends = Vec::new();
    if seller.email.eq_ignore_ascii_case(&email) {
        let link = links::issue(
            db,
            public_url,
            LinkPurpose::Seller,
            &seller,
            None,
            &email,
            links::MAILED_SIGN_IN,
        )
        .await?;
        sends.push(SignIn {
            to: email.clone(),
            who: format!("{} (seller dashboard)", seller.name),
            link,
            expires_minutes: minutes,
        });
    }
    for (org, _) in db.seats_by_email(seller.id, &email).await? {
        let link = links::issue(
            db,
            public_url,
            LinkPurpose::Member,
            &seller,
            Some(&org),
            &email,
            links::MAILED_SIGN_IN,
        )
        .await?;
        sends.push(SignIn {
            to: email.clone(),
            who: format!("{} on {}", org.name, seller.name),
            link,
            expires_minutes: minutes,
        });
    }
    for s in &sends {
        if let Err(e) = web.billing.mailer.send(&mail::sign_in(s)).await {
            tracing::error!(error = %e, "could not send a sign-in link");
            return Err(WebError::Internal(anyhow::anyhow!(
                "the sign-in mail could not be sent"
            )));
        }
    }
    // No form on this page: no token, and nothing stored for the visitor.
    let chrome = Chrome::public(&seller, "Check your mail", "");
    Ok(html(&LoginPage {
        chrome,
        sent_to: Some(email),
    })
    .into_response())
}

/// `GET /{seller}/login/{secret}`: signs in and goes to the dashboard or the org's page.
pub async fn follow(
    State(web): State<Web>,
    PathSeller(seller, session): PathSeller,
    Path((_, secret)): Path<(String, String)>,
) -> WebResult<Response> {
    let db = &web.registry;
    let link = links::find(
        db,
        &seller,
        &secret,
        &[LinkPurpose::Seller, LinkPurpose::Member],
    )
    .await?;
    let (who, to) = match (link.purpose, link.org) {
        (LinkPurpose::Member, Some(org_id)) => {
            let held = db.seats_by_email(seller.id, &link.email).await?;
            let Some((org, seat)) = held.into_iter().find(|(o, _)| o.id == org_id) else {
                return Err(WebError::Forbidden(format!(
                    "{} no longer holds a seat; ask an admin of the org",
                    link.email
                )));
            };
            let to = format!("/{}/org/{}", seller.slug, org.slug);
            (
                Who::Member {
                    seller: seller.id,
                    org: org.id,
                    seat: seat.id,
                },
                to,
            )
        }
        (LinkPurpose::Seller, _) => (
            Who::Seller { seller: seller.id },
            format!("/{}/dashboard", seller.slug),
        ),
        _ => return Err(WebError::NotFound("this link is not valid".into())),
    };
    db.use_link(&link.id, Timestamp::now()).await?;
    sign_in(&session, who).await?;
    Ok(Redirect::to(&to).into_response())
}

/// `GET /{seller}/invite/{secret}`: takes the seat (if a paid one is free), signs in.
pub async fn accept_invite(
    State(web): State<Web>,
    PathSeller(seller, session): PathSeller,
    Path((_, secret)): Path<(String, String)>,
) -> WebResult<Response> {
    let db = &web.registry;
    let link = links::find(db, &seller, &secret, &[LinkPurpose::Invite]).await?;
    let used = db.use_link(&link.id, Timestamp::now()).await?;
    let (Some(seat), Some(org_id)) = (used.seat, link.org) else {
        return Err(WebError::NotFound("this invite is not valid".into()));
    };
    let org = db
        .seats_by_email(seller.id, &link.email)
        .await?
        .into_iter()
        .map(|(org, _)| org)
        .find(|o| o.id == org_id)
        .ok_or_else(|| WebError::NotFound("the org of this invite".into()))?;
    sign_in(
        &session,
        Who::Member {
            seller: seller.id,
            org: org.id,
            seat: seat.id,
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/{}/org/{}", seller.slug, org.slug)).into_response())
}

pub async fn logout(PathSeller(seller, session): PathSeller) -> WebResult<Response> {
    session.flush().await?;
    Ok(Redirect::to(&format!("/{}/login", seller.slug)).into_response())
}
