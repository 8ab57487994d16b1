//! `tollgate grant …`: give an org a product (or end its grants) by hand.

use anyhow::{anyhow, bail};
use serde_json::json;
use tollgate_registry::time::Timestamp;

use super::Context;
use crate::cli::{GrantArgs, GrantSub};

pub async fn grant(ctx: &Context, args: GrantArgs) -> anyhow::Result<()> {
    if let Some(GrantSub::End(t)) = args.end {
        let seller = ctx.registry.seller(&t.seller).await?;
        let org = ctx.registry.org(seller.id, &t.org).await?;
        let product = ctx.registry.product(seller.id, &t.product).await?;
        let n = ctx
            .registry
            .end_grants(org.id, product.id, Timestamp::now())
            .await?;
        if n == 0 {
            bail!("org {} has no open grant of {}", t.org, t.product);
        }
        return ctx.print(&json!({"ended": n}), || {
            format!("ended {n} grant(s) of {} for {}", t.product, t.org)
        });
    }
    let t = args
        .target
        .ok_or_else(|| anyhow!("grant needs --seller, --org and --product"))?;
    let seller = ctx.registry.seller(&t.seller).await?;
    let org = ctx.registry.org(seller.id, &t.org).await?;
    let product = ctx.registry.product(seller.id, &t.product).await?;
    let until = args
        .until
        .as_deref()
        .map(|u| {
            Timestamp::parse_rfc3339(u)
                .ok_or_else(|| anyhow!("--until `{u}` is not an RFC 3339 time"))
        })
        .transpose()?;
    let e = ctx
        .registry
        .grant(
            org.id,
            product.id,
            Timestamp::now(),
            until,
            args.rule,
            "manual",
        )
        .await?;
    ctx.print(&e, || {
        let until = until.map_or("until ended".into(), |u| format!("until {}", u.rfc3339()));
        format!(
            "granted {} to {} ({}, {until})",
            t.product,
            t.org,
            args.rule.as_str()
        )
    })
}
