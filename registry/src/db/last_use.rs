//! Tokens' last uses: written in batches (one transaction for many tokens, never one write per
//! request), read for the CLI's token list.

use std::collections::HashMap;

use super::pool::Db;
use crate::Result;
use crate::ids::{SellerId, TokenId};
use crate::last_use::LastUse;
use crate::time::Timestamp;

/// Tokens per transaction when a batch is large.
const CHUNK: usize = 500;

impl Db {
    /// Writes `uses` (token id, last use) in one transaction per [`CHUNK`] tokens. A use older
    /// than the stored one (another server wrote a newer one) changes nothing, nor does an id
    /// that is no token. No change is logged: nothing cached depends on it.
    pub async fn record_last_uses(&self, uses: &[(String, LastUse)]) -> Result<()> {
        for chunk in uses.chunks(CHUNK) {
            let mut tx = self.write().await?;
            for (token, used) in chunk {
                sqlx::query(
                    "UPDATE tokens SET last_used_at = $1, last_used_ip = $2, last_used_agent = $3
                     WHERE id = $4 AND (last_used_at IS NULL OR last_used_at < $1)",
                )
                .bind(used.at.0)
                .bind(used.ip.as_deref())
                .bind(used.agent.as_deref())
                .bind(token.as_str())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// The stored last use of every token that has one (of `seller`'s, when given).
    pub async fn last_uses(&self, seller: Option<SellerId>) -> Result<HashMap<TokenId, LastUse>> {
        let rows: Vec<(String, i64, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT id, last_used_at, last_used_ip, last_used_agent FROM tokens
             WHERE last_used_at IS NOT NULL AND ($1 IS NULL OR seller_id = $1)",
        )
        .bind(seller.map(|s| s.0))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, at, ip, agent)| {
                (
                    TokenId(id),
                    LastUse {
                        at: Timestamp(at),
                        ip,
                        agent,
                    },
                )
            })
            .collect())
    }
}
