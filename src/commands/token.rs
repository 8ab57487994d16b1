//! `tollgate token …`: issue (publish, org, bot or seat tokens), revoke and list tokens.

use anyhow::anyhow;
use serde::Serialize;
use serde_json::json;
use tollgate_registry::domain::{TokenKind, TokenRecord};
use tollgate_registry::ids::TokenId;
use tollgate_registry::last_use::LastUse;
use tollgate_registry::time::Timestamp;

use super::Context;
use crate::cli::TokenCmd;

pub async fn token(ctx: &Context, cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Create {
            seller,
            publish,
            packages,
            org,
            seat,
            bot,
            scope,
        } => {
            let seller = ctx.registry.seller(&seller).await?;
            if let Some(label) = bot {
                let slug =
                    org.ok_or_else(|| anyhow!("a bot token belongs to an org: pass --org ORG"))?;
                let org = ctx.registry.org(seller.id, &slug).await?;
                let generated = ctx
                    .registry
                    .issue_bot_token(seller.id, org.id, &label, scope)
                    .await?;
                if !ctx.json {
                    eprintln!(
                        "created bot token {} of org {slug} ({label}, scope {scope}; shown once; store it now)",
                        generated.id
                    );
                }
                return ctx.print(
                    &json!({"id": generated.id, "kind": "org", "label": label.trim(),
                            "scope": scope, "token": generated.secret}),
                    || generated.secret.clone(),
                );
            }
            let (kind, org_id, seat_id) = if publish {
                (TokenKind::Publish, None, None)
            } else {
                let slug = org.ok_or_else(|| anyhow!("pass --publish or --org ORG"))?;
                let org = ctx.registry.org(seller.id, &slug).await?;
                match seat {
                    Some(email) => {
                        let seats = ctx.registry.seats(org.id).await?;
                        let seat = seats
                            .into_iter()
                            .find(|s| s.email.eq_ignore_ascii_case(email.trim()) && s.active)
                            .ok_or_else(|| anyhow!("org {slug} has no active seat {email}; add it with `tollgate seat add`"))?;
                        (TokenKind::Seat, Some(org.id), Some(seat.id))
                    }
                    None => (TokenKind::Org, Some(org.id), None),
                }
            };
            let generated = ctx
                .registry
                .issue_token(kind, seller.id, org_id, seat_id, packages)
                .await?;
            if !ctx.json {
                eprintln!(
                    "created {} token {} (shown once; store it now)",
                    kind.as_str(),
                    generated.id
                );
            }
            ctx.print(
                &json!({"id": generated.id, "kind": kind.as_str(), "token": generated.secret}),
                || generated.secret.clone(),
            )
        }
        TokenCmd::Revoke { id } => {
            let t = ctx
                .registry
                .revoke_token(&TokenId(id.clone()), Timestamp::now())
                .await?;
            ctx.print(&t, || format!("revoked token {id}"))
        }
        TokenCmd::List { seller } => {
            let seller_id = match seller {
                Some(s) => Some(ctx.registry.seller(&s).await?.id),
                None => None,
            };
            let all = ctx.registry.tokens(seller_id).await?;
            let mut used = ctx.registry.last_uses(seller_id).await?;
            let listed: Vec<Listed> = all
                .into_iter()
                .map(|token| Listed {
                    last_use: used.remove(&token.id),
                    token,
                })
                .collect();
            ctx.print(&listed, || {
                listed
                    .iter()
                    .map(|Listed { token: t, last_use }| {
                        let state = if t.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        let owner = t
                            .seat_email
                            .clone()
                            .or(t.org_slug.clone())
                            .unwrap_or(t.seller_slug.clone());
                        let bot = t
                            .label
                            .as_deref()
                            .map(|l| format!("  bot \"{l}\" scope {}", t.scope))
                            .unwrap_or_default();
                        let used = last_use.as_ref().map_or_else(
                            || "never used".to_owned(),
                            |u| format!("last used {}", u.describe()),
                        );
                        format!(
                            "{}  {:<7} {:<7} {owner}{bot}  {used}",
                            t.id,
                            t.kind.as_str(),
                            state
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

/// A token as `token list` prints it: the record and its last use (`null`: never used).
#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    token: TokenRecord,
    last_use: Option<LastUse>,
}
