//! `tollgate license …`: issue a signed license key, print the seller's public key, verify a
//! key offline.

use std::io::Read;

use anyhow::{Context as _, bail};
use serde_json::json;

use super::Context;
use crate::cli::LicenseCmd;

pub async fn license(ctx: &Context, cmd: LicenseCmd) -> anyhow::Result<()> {
    match cmd {
        LicenseCmd::Issue {
            seller,
            org,
            product,
        } => {
            let db = &ctx.registry;
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
            let seller = ctx.registry.seller(&seller).await?;
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
