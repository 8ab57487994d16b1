//! `tollgate plan …`: map a Stripe price to a product (a plan), list plans.

use tollgate_registry::domain::SeatMode;

use super::Context;
use crate::cli::PlanCmd;

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
            let seller = ctx.registry.seller(&seller).await?;
            let product = ctx.registry.product(seller.id, &product).await?;
            let slug = slug.unwrap_or_else(|| product.slug.clone());
            super::input::check_slug(&slug)?;
            if !(stripe_price.starts_with("price_") || stripe_price.starts_with("plan_")) {
                eprintln!(
                    "note: `{stripe_price}` does not look like a Stripe price id (price_…) or plan id (plan_…)"
                );
            }
            let plan = ctx
                .registry
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
            let seller = ctx.registry.seller(&seller).await?;
            let plans = ctx.registry.plans(seller.id).await?;
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
