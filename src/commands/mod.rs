//! The admin commands, one file per subcommand. They call the same operations of the core (and
//! of billing) as the pages, on the database a running server uses; each write drops this
//! process's caches at once, and servers notice it through the change log within a fraction of
//! a second.

mod context;
mod grant;
mod input;
pub mod license;
mod org;
mod plan;
mod product;
mod release;
mod seat;
mod seller;
mod token;

use anyhow::bail;
use serde_json::json;
use tollgate_registry::registry::CHANGE_POLL;

pub use context::Context;

use crate::cli::Command;

/// Runs an admin command. When it changed what callers may see, it returns only once running
/// servers have applied the change: they read the change log every `CHANGE_POLL` (PostgreSQL
/// servers also hear NOTIFY at once), so after `tollgate seat revoke` returns, the very next
/// request with that seat's token is refused.
pub async fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    let before = ctx.registry.last_change().await?;
    let result = dispatch(ctx, command).await;
    if ctx.registry.last_change().await? > before {
        tokio::time::sleep(CHANGE_POLL * 3).await;
    }
    result
}

async fn dispatch(ctx: &Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(_) => unreachable_serve(),
        Command::Migrate => ctx.print(&json!({"migrated": true}), || {
            "database is up to date".into()
        }),
        Command::Seller(cmd) => seller::seller(ctx, cmd).await,
        Command::Product(cmd) => product::product(ctx, cmd).await,
        Command::Org(cmd) => org::org(ctx, cmd).await,
        Command::Grant(args) => grant::grant(ctx, args).await,
        Command::Token(cmd) => token::token(ctx, cmd).await,
        Command::Seat(cmd) => seat::seat(ctx, cmd).await,
        Command::Release(cmd) => release::release(ctx, cmd).await,
        Command::Plan(cmd) => plan::plan(ctx, cmd).await,
        Command::License(cmd) => license::license(ctx, cmd).await,
        Command::Gc { grace } => {
            let report = ctx.registry.collect_garbage(grace).await?;
            ctx.print(&report, || {
                format!(
                    "removed {} orphan blob(s); kept {} referenced; {} orphan(s) younger than {}",
                    report.removed,
                    report.kept,
                    report.too_young,
                    humantime::format_duration(grace)
                )
            })
        }
        Command::Downloads { seller, limit } => {
            let seller = ctx.registry.seller(&seller).await?;
            let events = ctx.registry.downloads(seller.id, limit).await?;
            ctx.print(&events, || {
                events
                    .iter()
                    .map(|e| {
                        format!(
                            "{}  {}@{}  token {}",
                            e.at.rfc3339(),
                            e.package,
                            e.version,
                            e.token_id
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

fn unreachable_serve() -> anyhow::Result<()> {
    bail!("serve is handled by the server module")
}
