//! `tollgate org …`: create and list orgs, print a member's sign-in link or the org's Stripe
//! billing portal.

use anyhow::bail;
use serde_json::json;
use tollgate_registry::db::LinkPurpose;

use super::Context;
use super::input::{check_slug, public_url_or_default};
use crate::cli::OrgCmd;

pub async fn org(ctx: &Context, cmd: OrgCmd) -> anyhow::Result<()> {
    match cmd {
        OrgCmd::Create { seller, org, name } => {
            check_slug(&org)?;
            let seller = ctx.registry.seller(&seller).await?;
            let o = ctx.registry.create_org(seller.id, &org, &name).await?;
            ctx.print(&o, || format!("created org {org}"))
        }
        OrgCmd::List { seller } => {
            let seller = ctx.registry.seller(&seller).await?;
            let all = ctx.registry.orgs(seller.id).await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|o| format!("{}  {}", o.slug, o.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        OrgCmd::BillingLink {
            seller,
            org,
            public_url,
        } => billing_link(ctx, &seller, &org, public_url).await,
        OrgCmd::LoginLink {
            org,
            email,
            public_url,
        } => {
            let seller = ctx.registry.seller(&org.seller).await?;
            let org = ctx.registry.org(seller.id, &org.org).await?;
            let seats = ctx.registry.seats(org.id).await?;
            if !seats
                .iter()
                .any(|s| s.active && s.email.eq_ignore_ascii_case(&email))
            {
                bail!(
                    "{email} holds no active seat in {}; add one with `tollgate seat add --seller {} --org {} {email}`",
                    org.slug,
                    seller.slug,
                    org.slug
                );
            }
            let link = tollgate_web::links::issue(
                &ctx.registry,
                &public_url_or_default(public_url),
                LinkPurpose::Member,
                &seller,
                Some(&org),
                &email,
                tollgate_web::links::PRINTED_SIGN_IN,
            )
            .await?;
            ctx.print(&json!({ "link": link }), || {
                format!(
                    "{link}\n(signs {email} in to {} once, within 24 hours)",
                    org.slug
                )
            })
        }
    }
}

/// `org billing-link`: a Stripe Billing Portal session for the org's customer.
async fn billing_link(
    ctx: &Context,
    seller: &str,
    org: &str,
    public_url: Option<String>,
) -> anyhow::Result<()> {
    let db = &ctx.registry;
    let seller = db.seller(seller).await?;
    let org = db.org(seller.id, org).await?;
    let mailer =
        tollgate_billing::mail::Mailer::from_config(None, &ctx.billing.mail_from, &ctx.data)?;
    let billing = tollgate_billing::service::Billing::new(
        ctx.registry.clone(),
        ctx.secrets.clone(),
        mailer,
        tollgate_billing::service::BillingConfig {
            public_url: public_url
                .unwrap_or_else(|| "http://localhost:8080".into())
                .trim_end_matches('/')
                .to_owned(),
            api_base: ctx.billing.stripe_api_base.clone(),
            platform_key: ctx.billing.stripe_platform_key.clone(),
            connect_webhook_secret: ctx.billing.stripe_connect_webhook_secret.clone(),
            connect_base: ctx.billing.stripe_connect_base.clone(),
            connect_client_id: ctx.billing.stripe_connect_client_id.clone(),
            ecosystems: crate::ecosystems::ECOSYSTEMS,
        },
    );
    let url = billing.portal(&seller, &org).await?;
    ctx.print(&json!({ "url": url }), || url.clone())
}
