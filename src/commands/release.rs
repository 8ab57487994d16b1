//! `tollgate release yank|unyank`: the seller's release changes from the shell, through the
//! same operations as the packages page. A version names every release the ecosystem files
//! under it (each file of a PyPI version).

use anyhow::{bail, ensure};
use serde_json::json;
use tollgate_registry::domain::{Ecosystem, PackageRef, Retirement};
use tollgate_registry::registry::Caller;

use super::Context;
use crate::cli::ReleaseCmd;
use crate::ecosystems::ECOSYSTEMS;

/// The longest yank reason (what fits on a client's warning line).
const MAX_REASON: usize = 200;

pub async fn release(ctx: &Context, cmd: ReleaseCmd) -> anyhow::Result<()> {
    let (seller, package, version, yank, reason) = match cmd {
        ReleaseCmd::Yank {
            seller,
            package,
            version,
            reason,
        } => (seller, package, version, true, reason),
        ReleaseCmd::Unyank {
            seller,
            package,
            version,
        } => (seller, package, version, false, None),
    };
    if package.ecosystem == Ecosystem::Hex && yank {
        bail!("Hex packages cannot be yanked; retire the release on the packages page instead");
    }
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    ensure!(
        reason
            .as_ref()
            .is_none_or(|r| r.chars().count() <= MAX_REASON),
        "the reason is longer than {MAX_REASON} characters; shorten it"
    );
    let seller = ctx.registry.seller(&seller).await?;
    let keys = keys(ctx, seller.id, &package, &version).await?;
    let caller = Caller::seller(&seller, "cli");
    for key in &keys {
        ctx.registry
            .set_yanked(&caller, &package, key, yank)
            .await?;
        // The reason travels as the release's retirement message (PyPI shows it as the yank
        // reason); un-yanking drops it.
        let retirement = reason.as_ref().map(|message| Retirement {
            reason: "other".into(),
            message: message.clone(),
        });
        if retirement.is_some() || !yank {
            ctx.registry
                .set_retired(&caller, &package, key, retirement.as_ref())
                .await?;
        }
    }
    let verb = if yank { "yanked" } else { "restored" };
    ctx.print(
        &json!({"package": package.to_string(), "version": version, "releases": keys, "yanked": yank}),
        || format!("{verb} {package} {version}: {}", keys.join(", ")),
    )
}

/// The release keys of `version` of `package`, or an error naming what exists.
async fn keys(
    ctx: &Context,
    seller: tollgate_registry::ids::SellerId,
    package: &PackageRef,
    version: &str,
) -> anyhow::Result<Vec<String>> {
    let Some(state) = ctx
        .registry
        .package_state(seller, package.ecosystem, &package.name)
        .await?
    else {
        bail!("the seller has no package {package}");
    };
    let info = ECOSYSTEMS.get(package.ecosystem);
    let keys: Vec<String> = state
        .releases
        .iter()
        .filter(|r| {
            info.map_or(r.version == version, |i| {
                i.is_of_version(&r.version, version)
            })
        })
        .map(|r| r.version.clone())
        .collect();
    if keys.is_empty() {
        let known: Vec<&str> = state.releases.iter().map(|r| r.version.as_str()).collect();
        bail!(
            "{package} has no release {version} (it has: {})",
            known.join(", ")
        );
    }
    Ok(keys)
}
