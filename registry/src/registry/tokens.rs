//! Tokens: issuing one (the secret is shown once, only its hash is stored) and revoking it.

use super::Registry;
use crate::domain::{NewToken, PackageRef, TokenKind, TokenRecord, TokenScope, check_token_label};
use crate::ids::{OrgId, SeatId, SellerId, TokenId};
use crate::time::Timestamp;
use crate::token::{self, Generated};
use crate::{Error, Result};

impl Registry {
    /// A new token of `kind` for the seller (an org's, or a seat's in that org), limited to
    /// `packages` when any are given. The answer holds the secret: show it once.
    pub async fn issue_token(
        &self,
        kind: TokenKind,
        seller: SellerId,
        org: Option<OrgId>,
        seat: Option<SeatId>,
        packages: Vec<PackageRef>,
    ) -> Result<Generated> {
        self.insert_token(|generated| NewToken {
            id: generated.id.clone(),
            secret_hash: generated.secret_hash.clone(),
            kind,
            seller_id: seller,
            org_id: org,
            seat_id: seat,
            packages,
            label: None,
            scope: TokenScope::Read,
        })
        .await
    }

    /// A bot token of `org`, for a machine (CI, an update bot): it takes no seat, outlives
    /// every person of the org, is named by `label` and reads within `scope` (`metadata`: never
    /// an archive). The answer holds the secret: show it once.
    pub async fn issue_bot_token(
        &self,
        seller: SellerId,
        org: OrgId,
        label: &str,
        scope: TokenScope,
    ) -> Result<Generated> {
        let label = check_token_label(label).map_err(Error::Invalid)?;
        self.insert_token(|generated| NewToken {
            id: generated.id.clone(),
            secret_hash: generated.secret_hash.clone(),
            kind: TokenKind::Org,
            seller_id: seller,
            org_id: Some(org),
            seat_id: None,
            packages: Vec::new(),
            label: Some(label),
            scope,
        })
        .await
    }

    /// Generates a token and stores the row `row` makes of it.
    async fn insert_token(&self, row: impl FnOnce(&Generated) -> NewToken) -> Result<Generated> {
        let generated = token::generate();
        self.db().create_token(&row(&generated)).await?;
        self.catch_up().await;
        Ok(generated)
    }

    /// Revokes token `id` as of `at`; the token cache is dropped before this returns.
    pub async fn revoke_token(&self, id: &TokenId, at: Timestamp) -> Result<TokenRecord> {
        let revoked = self.db().revoke_token(id, at).await?;
        self.catch_up().await;
        Ok(revoked)
    }

    /// One token by its public id (never its secret).
    pub async fn token(&self, id: &str) -> Result<Option<TokenRecord>> {
        self.db().token(id).await
    }

    /// Every token, or the seller's.
    pub async fn tokens(&self, seller: Option<SellerId>) -> Result<Vec<TokenRecord>> {
        self.db().tokens(seller).await
    }
}
