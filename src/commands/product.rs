//! `tollgate product …`: products are named sets of packages that grants and plans sell.

use super::Context;
use super::input::check_slug;
use crate::cli::ProductCmd;

pub async fn product(ctx: &Context, cmd: ProductCmd) -> anyhow::Result<()> {
    match cmd {
        ProductCmd::Create {
            seller,
            product,
            name,
            packages,
        } => {
            check_slug(&product)?;
            let seller = ctx.registry.seller(&seller).await?;
            let name = name.unwrap_or_else(|| product.clone());
            let p = ctx
                .registry
                .create_product(seller.id, &product, &name, &packages)
                .await?;
            ctx.print(&p, || {
                format!(
                    "created product {product} with {} package(s)",
                    p.packages.len()
                )
            })
        }
        ProductCmd::List { seller } => {
            let seller = ctx.registry.seller(&seller).await?;
            let all = ctx.registry.products(seller.id).await?;
            ctx.print(&all, || {
                all.iter()
                    .map(|p| {
                        let pkgs: Vec<String> =
                            p.packages.iter().map(ToString::to_string).collect();
                        format!("{}  {}", p.slug, pkgs.join(" "))
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}
