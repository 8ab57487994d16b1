//! `tollgate seller …`: create, show and list sellers, connect their Stripe, print their
//! sign-in link.

use anyhow::bail;
use serde::Serialize;
use serde_json::json;
use tollgate_registry::db::{LinkPurpose, StripeConnection};
use tollgate_registry::secret::Binding;

use super::Context;
use super::input::{check_slug, public_url_or_default};
use crate::cli::SellerCmd;

pub async fn seller(ctx: &Context, cmd: SellerCmd) -> anyhow::Result<()> {
    match cmd {
        SellerCmd::Create { slug, name, email } => {
            check_slug(&slug)?;
            let s = ctx.registry.create_seller(&slug, &name, &email).await?;
            let hex = tollgate_hex::keys::ensure(&ctx.registry, &ctx.secrets, &s).await?;
            let shown = SellerShown::new(&s, hex.fingerprint());
            ctx.print(&shown, || {
                format!(
                    "created seller {slug}\n{}\nnext: tollgate token create --seller {slug} --publish",
                    shown.text()
                )
            })
        }
        SellerCmd::Stripe {
            slug,
            secret_key,
            connect_account,
            webhook_secret,
        } => {
            connect_stripe(
                ctx,
                &slug,
                secret_key,
                connect_account,
                webhook_secret.as_deref(),
            )
            .await
        }
        SellerCmd::StripeConnectLink { slug, public_url } => {
            connect_link(ctx, &slug, public_url).await
        }
        SellerCmd::Show { slug } => {
            let s = ctx.registry.seller(&slug).await?;
            let hex = tollgate_hex::keys::ensure(&ctx.registry, &ctx.secrets, &s).await?;
            let mut shown = SellerShown::new(&s, hex.fingerprint());
            shown.stripe =
                ctx.registry
                    .stripe_connection(s.id)
                    .await?
                    .map(|c| match c.account_id {
                        Some(account) => format!("connect {account}"),
                        None => "own secret key".to_owned(),
                    });
            ctx.print(&shown, || {
                let stripe = shown.stripe.as_deref().unwrap_or("not connected");
                format!(
                    "{} ({})\n{}\nstripe:   {stripe}",
                    s.name,
                    s.email,
                    shown.text()
                )
            })
        }
        SellerCmd::LoginLink { slug, public_url } => {
            let s = ctx.registry.seller(&slug).await?;
            let link = tollgate_web::links::issue(
                &ctx.registry,
                &public_url_or_default(public_url),
                LinkPurpose::Seller,
                &s,
                None,
                &s.email,
                tollgate_web::links::PRINTED_SIGN_IN,
            )
            .await?;
            ctx.print(&json!({ "link": link }), || {
                format!("{link}\n(signs {} in once, within 24 hours)", s.email)
            })
        }
        SellerCmd::List => {
            let all = ctx.registry.sellers().await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|s| format!("{}  {}", s.slug, s.name))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

/// A seller as `seller create|show` print it: where its repositories are and the Hex key
/// fingerprint buyers pass to `mix hex.repo add --fetch-public-key`.
#[derive(Serialize)]
struct SellerShown {
    #[serde(flatten)]
    seller: tollgate_registry::domain::Seller,
    hex_repository: String,
    hex_public_key_fingerprint: String,
    /// How the seller bills: `connect acct_…`, `own secret key`, or not connected.
    stripe: Option<String>,
}

impl SellerShown {
    fn new(seller: &tollgate_registry::domain::Seller, fingerprint: &str) -> Self {
        Self {
            seller: seller.clone(),
            hex_repository: seller.slug.clone(),
            hex_public_key_fingerprint: fingerprint.to_owned(),
            stripe: None,
        }
    }

    /// One line per ecosystem served: its repository (relative to the public URL).
    fn text(&self) -> String {
        let slug = &self.seller.slug;
        let place = tollgate_registry::ecosystem::Place {
            public_url: "",
            seller: slug,
        };
        let line = |e: &dyn tollgate_registry::ecosystem::EcosystemInfo| {
            let label = format!("{}:", e.metrics_label());
            let key = e.seller_key().map_or(String::new(), |_| {
                let fingerprint = &self.hex_public_key_fingerprint;
                format!(" (repository name `{slug}`, public key {fingerprint})")
            });
            format!("{label:<9} {}{key}", e.repository_url(&place))
        };
        let lines: Vec<String> = crate::ecosystems::ECOSYSTEMS.iter().map(line).collect();
        lines.join("\n")
    }
}

/// `seller stripe SLUG …`: stores the keys sealed; prints where Stripe should send webhooks.
async fn connect_stripe(
    ctx: &Context,
    slug: &str,
    secret_key: Option<String>,
    connect_account: Option<String>,
    webhook_secret: Option<&str>,
) -> anyhow::Result<()> {
    let seller = ctx.registry.seller(slug).await?;
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

/// `seller stripe-connect-link SLUG`: where the seller connects its Stripe account. It used to
/// print the OAuth link itself, but a link that works for whoever holds it is what let anyone
/// who saw it bind the seller to their own Stripe account (issue 16). Onboarding now starts on
/// the seller's settings page, signed in, and the link Stripe returns with is accepted only in
/// that session; this command says where that page is and how to sign in, and prints no secret.
async fn connect_link(ctx: &Context, slug: &str, public_url: Option<String>) -> anyhow::Result<()> {
    let seller = ctx.registry.seller(slug).await?;
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
