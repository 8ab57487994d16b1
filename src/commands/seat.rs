//! `tollgate seat …`: add, revoke (and tell the person) and list an org's seats.

use anyhow::bail;

use super::Context;
use crate::cli::SeatCmd;

pub async fn seat(ctx: &Context, cmd: SeatCmd) -> anyhow::Result<()> {
    let org_ref = match &cmd {
        SeatCmd::Add { org, .. } | SeatCmd::Revoke { org, .. } | SeatCmd::List { org } => org,
    };
    let seller = ctx.registry.seller(&org_ref.seller).await?;
    let org = ctx.registry.org(seller.id, &org_ref.org).await?;
    match cmd {
        SeatCmd::Add { email, admin, .. } => {
            // An address mail cannot go to would break its sign-in later: refuse it now.
            if tollgate_billing::mail::check_address(email.trim()).is_err() {
                bail!("`{email}` is not an e-mail address (like user@example.com)");
            }
            let role = if admin { "admin" } else { "member" };
            let s = ctx.registry.add_seat(org.id, &email, role).await?;
            ctx.print(&s, || {
                format!("{email} holds a seat in {} ({role})", org.slug)
            })
        }
        SeatCmd::Revoke { email, .. } => {
            let mailer = tollgate_billing::mail::Mailer::from_config(
                ctx.billing.smtp_url.as_deref(),
                &ctx.billing.mail_from,
                &ctx.data,
            );
            let revoked = tollgate_billing::seats::revoke_seat(
                &ctx.registry,
                mailer.as_ref(),
                &seller,
                &org,
                &email,
            )
            .await?;
            if let Err(e) = &revoked.mailed {
                eprintln!("note: the seat is revoked, but the mail to {email} failed: {e}");
            }
            let s = revoked.seat;
            ctx.print(&s, || {
                format!("revoked the seat of {email}; its tokens no longer work")
            })
        }
        SeatCmd::List { .. } => {
            let all = ctx.registry.seats(org.id).await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|s| {
                        format!(
                            "{}  {}  {}",
                            s.email,
                            s.role,
                            if s.active { "active" } else { "revoked" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}
