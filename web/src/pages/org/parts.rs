//! Page parts several org pages share: the one-time notice shown after a redirect, the
//! confirmation page of a destructive action, and the URL of the seats page they return to.

use askama::Template;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::auth::MemberUser;
use crate::error::WebResult;
use crate::templates::{Chrome, html};

/// The session key of a one-time message shown on the next page (after a redirect).
const NOTICE: &str = "notice";

/// Keeps `message` for the next page this session renders (the POST-redirect-GET pattern).
pub(super) async fn set_notice(session: &Session, message: String) -> WebResult<()> {
    session.insert(NOTICE, message).await?;
    Ok(())
}

/// The message left by [`set_notice`], once.
pub(super) async fn take_notice(session: &Session) -> WebResult<Option<String>> {
    Ok(session.remove::<String>(NOTICE).await?)
}

/// The URL of the org's seats page.
pub(super) fn page_url(user: &MemberUser) -> String {
    format!("/{}/org/{}", user.seller.slug, user.org.slug)
}

/// A confirmation page for a destructive action: the question, and the POST form that does it.
#[derive(Template)]
#[template(path = "org/confirm.html")]
pub(super) struct Confirm {
    pub chrome: Chrome,
    pub question: String,
    /// What happens next, in a sentence.
    pub detail: String,
    /// Where the form posts.
    pub action: String,
    pub button: String,
    /// Where "Cancel" goes.
    pub back: String,
}

impl Confirm {
    /// The page, without live updates (nothing on it changes).
    pub fn render(mut self) -> Response {
        self.chrome.live_url = None;
        html(&self).into_response()
    }
}
