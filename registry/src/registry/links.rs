//! One-time links (made by [`crate::sign_in::issue`]): finding and using one (an invite claims
//! its seat), the org's pending invites, and the sign-in rate limit.

use super::Registry;
use crate::Result;
use crate::db::{Link, UsedLink};
use crate::ids::OrgId;
use crate::time::Timestamp;

impl Registry {
    /// The stored link with public id `id`, if any (the caller checks the secret).
    pub async fn link(&self, id: &str) -> Result<Option<Link>> {
        self.db().link(id).await
    }

    /// Uses a link once (an invite claims its seat within the cap), as of `at`.
    pub async fn use_link(&self, id: &str, at: Timestamp) -> Result<UsedLink> {
        let used = self.db().use_link(id, at).await?;
        self.catch_up().await;
        Ok(used)
    }

    /// The org's invites neither used nor expired at `now`.
    pub async fn pending_invites(&self, org: OrgId, now: Timestamp) -> Result<Vec<Link>> {
        self.db().pending_invites(org, now).await
    }

    /// Withdraws the org's pending invite `id`; `false` if there is none.
    pub async fn cancel_invite(&self, org: OrgId, id: &str) -> Result<bool> {
        let cancelled = self.db().cancel_invite(org, id).await?;
        self.catch_up().await;
        Ok(cancelled)
    }

    /// Notes a sign-in request for `email` at `at`; how many were made since `since`.
    pub async fn note_sign_in_request(
        &self,
        email: &str,
        at: Timestamp,
        since: Timestamp,
    ) -> Result<i64> {
        let recent = self.db().note_sign_in_request(email, at, since).await?;
        self.catch_up().await;
        Ok(recent)
    }
}
