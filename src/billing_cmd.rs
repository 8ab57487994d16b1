//! Billing commands: connect a seller's Stripe, map Stripe prices to products (plans), issue
//! and verify license keys.

use std::io::Read;

use anyhow::{Context as _, bail};
use serde_json::json;
use tollgate_registry::db::StripeConnection;
use tollgate_registry::domain::SeatMode;
use tollgate_registry::secret::Binding;

use crate::cli::{LicenseCmd, PlanCmd};
use crate::commands::Context;

/// `seller stripe SLUG …`: stores the keys sealed; prints where Stripe should send webhooks.
pub async fn connect_stripe(
    ctx: &Context,
    slug: &str,
    secret_key: Option<String>,
    connect_account: Option<String>,
    webhook_secret: Option<&str>,
) -> anyhow::Result<()> {
    let seller = ctx.registry.db().seller(slug).await?;
    if let Some(key) = &secret_key
        && !(key.starts_with("sk_") || key.starts_with("rk_"))
    {
        bail!("--secret-key should be a Stripe secret key (sk_… or rk_…)");
    }
    if let Some(account) = &connect_account
        && !account.starts_with("acct_")
    {
        bail!("--connect-account should be a connected account id (acct_…)");
    }
    if let Some(secret) = webhook_secret
        && !secret.starts_with("whsec_")
    {
        bail!("--webhook-secret should be the endpoint's signing secret (whsec_…)");
    }
    let connection = StripeConnection {
        secret_key: secret_key.map(|k| {
            ctx.secrets
                .seal(&Binding::stripe_secret_key(seller.id), k.as_bytes())
        }),
        account_id: connect_account.clone(),
        webhook_secret: webhook_secret.map(|secret| {
            ctx.secrets.seal(
                &Binding::stripe_webhook_secret(seller.id),
                secret.as_bytes(),
            )
        }),
    };
    ctx.registry
        .db()
        .set_stripe_connection(seller.id, &connection)
        .await?;
    let mode = match &connect_account {
        Some(account) => format!("Stripe Connect account {account}"),
        None => "its own Stripe secret key".to_owned(),
    };
    // Without a secret of its own, a Connect seller's events come on the platform's endpoint.
    let webhook_path = match webhook_secret {
        Some(_) => format!("/{slug}/stripe/webhook"),
        None => "/stripe/connect/webhook".to_owned(),
    };
    let shown = json!({
        "seller": slug,
        "mode": if connect_account.is_some() { "connect" } else { "secret_key" },
        "webhook_path": webhook_path,
        "events": tollgate_billing::webhook::EVENTS,
    });
    ctx.print(&shown, || {
        format!(
            "seller {slug} now bills through {mode}.\nIn Stripe, add a webhook endpoint https://YOUR-HOST{webhook_path} for: {}",
            tollgate_billing::webhook::EVENTS.join(", ")
        )
    })
}

pub async fn plan(ctx: &Context, cmd: PlanCmd) -> anyhow::Result<()> {
    match cmd {
        PlanCmd::Create {
            seller,
            product,
            stripe_price,
            seats,
            rule,
            grace_days,
            slug,
        } => {
            let seller = ctx.registry.db().seller(&seller).await?;
            let product = ctx.registry.db().product(seller.id, &product).await?;
            let slug = slug.unwrap_or_else(|| product.slug.clone());
            crate::commands::check_slug(&slug)?;
            if !(stripe_price.starts_with("price_") || stripe_price.starts_with("plan_")) {
                eprintln!(
                    "note: `{stripe_price}` does not look like a Stripe price id (price_…) or plan id (plan_…)"
                );
            }
            let plan = ctx
                .registry
                .db()
                .create_plan(
                    seller.id,
                    &slug,
                    product.id,
                    &stripe_price,
                    seats,
                    rule,
                    grace_days,
                )
                .await?;
            ctx.print(&plan, || {
                let seats = match plan.seats {
                    SeatMode::PerQuantity => "seats = quantity",
                    SeatMode::Unlimited => "unlimited seats",
                };
                format!(
                    "plan {} sells {} as {} ({seats}, {}, {} grace days)\nbuy link: /{}/buy/{}?quantity=5",
                    plan.slug,
                    plan.product_name,
                    plan.stripe_price,
                    plan.rule.as_str(),
                    plan.grace_days,
                    seller.slug,
                    plan.slug
                )
            })
        }
        PlanCmd::List { seller } => {
            let seller = ctx.registry.db().seller(&seller).await?;
            let plans = ctx.registry.db().plans(seller.id).await?;
            ctx.print(&plans, || {
                plans
                    .iter()
                    .map(|p| format!("{}  {} → {}", p.slug, p.stripe_price, p.product_slug))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

pub async fn license(ctx: &Context, cmd: LicenseCmd) -> anyhow::Result<()> {
    match cmd {
        LicenseCmd::Issue {
            seller,
            org,
            product,
        } => {
            let db = ctx.registry.db();
            let seller = db.seller(&seller).await?;
            let org = db.org(seller.id, &org).await?;
            let product = db.product(seller.id, &product).await?;
            let key = tollgate_billing::license::issue(
                &ctx.registry,
                &ctx.secrets,
                &seller,
                &org,
                &product,
            )
            .await?;
            ctx.print(&json!({ "license": key }), || key.clone())
        }
        LicenseCmd::PublicKey { seller } => {
            let seller = ctx.registry.db().seller(&seller).await?;
            let key =
                tollgate_billing::license::public_key(&ctx.registry, &ctx.secrets, &seller).await?;
            let text = key.to_text();
            ctx.print(&json!({ "public_key": text }), || text.clone())
        }
        LicenseCmd::Verify { .. } => verify(cmd, ctx.json),
    }
}

/// `license verify FILE --public-key KEY`: offline, before any database is opened.
pub fn verify(cmd: LicenseCmd, json: bool) -> anyhow::Result<()> {
    let LicenseCmd::Verify { file, public_key } = cmd else {
        bail!("not a verify command");
    };
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
    }
    let key = tollgate_licensing::PublicKey::from_text(public_key.trim())?;
    let license = key.verify(text.trim())?;
    if json {
        println!("{}", serde_json::to_string_pretty(&license)?);
    } else {
        let live = if license.is_live_at(tollgate_licensing::unix_now()) {
            "live"
        } else {
            "not live now"
        };
        println!(
            "valid: {} licenses {} to org {} ({} seats, {}), {live}",
            license.seller,
            license.product,
            license.org,
            license
                .seats
                .map_or_else(|| "unlimited".to_owned(), |n| n.to_string()),
            match license.rule {
                tollgate_licensing::VersionRule::WhileActive => "while active",
                tollgate_licensing::VersionRule::PerpetualFallback => "perpetual fallback",
            }
        );
    }
    Ok(())
}

/// Tells the person whose seat was revoked. A mail failure is reported, never fatal.
pub async fn mail_seat_revoked(
    ctx: &Context,
    seller: &tollgate_registry::domain::Seller,
    org: &tollgate_registry::domain::Org,
    email: &str,
) {
    let message = tollgate_billing::mail::seat_revoked(&tollgate_billing::mail::SeatRevoked {
        to: email.to_owned(),
        org: org.name.clone(),
        seller_name: seller.name.clone(),
    });
    let sent = match tollgate_billing::mail::Mailer::from_config(
        ctx.billing.smtp_url.as_deref(),
        &ctx.billing.mail_from,
        &ctx.data,
    ) {
        Ok(mailer) => mailer.send(&message).await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        eprintln!("note: the seat is revoked, but the mail to {email} failed: {e}");
    }
}

/// `org billing-link`: a Stripe Billing Portal session for the org's customer.
pub async fn billing_link(
    ctx: &Context,
    seller: &str,
    org: &str,
    public_url: Option<String>,
) -> anyhow::Result<()> {
    let db = ctx.registry.db();
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
            ecosystems: crate::server::ECOSYSTEMS,
        },
    );
    let url = billing.portal(&seller, &org).await?;
    ctx.print(&json!({ "url": url }), || url.clone())
}

/// `seller stripe-connect-link SLUG`: where the seller connects its Stripe account. It used to
/// print the OAuth link itself, but a link that works for whoever holds it is what let anyone
/// who saw it bind the seller to their own Stripe account (issue 16). Onboarding now starts on
/// the seller's settings page, signed in, and the link Stripe returns with is accepted only in
/// that session; this command says where that page is and how to sign in, and prints no secret.
pub async fn connect_link(
    ctx: &Context,
    slug: &str,
    public_url: Option<String>,
) -> anyhow::Result<()> {
    let seller = ctx.registry.db().seller(slug).await?;
    let base = public_url
        .unwrap_or_else(|| "http://127.0.0.1:8080".into())
        .trim_end_matches('/')
        .to_owned();
    let settings = format!("{base}/{}/dashboard/settings", seller.slug);
    let sign_in = format!("{base}/{}/login", seller.slug);
    ctx.print(
        &json!({
            "settings_url": settings,
            "sign_in_url": sign_in,
            "sign_in_link_command": format!("tollgate seller login-link {}", seller.slug),
        }),
        || {
            format!(
                "Stripe Connect onboarding starts on the seller's settings page, signed in:\n  \
                 {settings}  →  Connect with Stripe\n\
                 {} signs in at {sign_in} (a link is mailed to {}), or with the one-time link \
                 `tollgate seller login-link {}` prints.\n\
                 The server needs TOLLGATE_STRIPE_CONNECT_CLIENT_ID and TOLLGATE_STRIPE_SECRET_KEY, \
                 and {base}/stripe/connect/oauth registered as a redirect URI in the platform's \
                 Connect settings.",
                seller.name, seller.email, seller.slug
            )
        },
    )
}
