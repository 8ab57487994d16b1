//! Products and plans, read-only: what each product contains and how each plan sells it, with
//! the buy link to share. Creating them stays in the CLI (the page shows the commands).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tollgate_registry::domain::{SeatMode, VersionRule};

use crate::auth::SellerUser;
use crate::error::WebResult;
use crate::state::Web;
use crate::templates::{Chrome, html};

pub fn routes() -> Router<Web> {
    Router::new().route("/{seller}/dashboard/plans", get(page))
}

#[derive(Template)]
#[template(path = "seller/plans.html")]
struct PlansPage {
    chrome: Chrome,
    products: Vec<ProductLine>,
    plans: Vec<PlanLine>,
    /// `tollgate … --seller SLUG`, for the hints.
    cli_seller: String,
}

struct ProductLine {
    slug: String,
    name: String,
    packages: Vec<String>,
}

struct PlanLine {
    slug: String,
    product: String,
    stripe_price: String,
    seats: &'static str,
    rule: &'static str,
    grace: String,
    buy_url: String,
}

fn seat_words(mode: SeatMode) -> &'static str {
    match mode {
        SeatMode::PerQuantity => "one seat per unit bought",
        SeatMode::Unlimited => "unlimited seats",
    }
}

fn rule_words(rule: VersionRule) -> &'static str {
    match rule {
        VersionRule::WhileActive => "every version, only while subscribed",
        VersionRule::PerpetualFallback => {
            "every version while subscribed; after it ends, those released before the end"
        }
    }
}

async fn page(State(web): State<Web>, user: SellerUser) -> WebResult<Response> {
    let db = &web.registry;
    let products = db.products(user.seller.id).await?;
    let plans = db.plans(user.seller.id).await?;
    let base = &web.config.public_url;
    let seller = &user.seller.slug;
    let page = PlansPage {
        chrome: Chrome::seller(&user, "Products and plans", "plans"),
        products: products
            .into_iter()
            .map(|p| ProductLine {
                slug: p.slug,
                name: p.name,
                packages: p.packages.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        plans: plans
            .into_iter()
            .map(|p| PlanLine {
                buy_url: format!("{base}/{seller}/buy/{}", p.slug),
                slug: p.slug,
                product: p.product_name,
                stripe_price: p.stripe_price,
                seats: seat_words(p.seats),
                rule: rule_words(p.rule),
                grace: match p.grace_days {
                    1 => "1 day".to_owned(),
                    n => format!("{n} days"),
                },
            })
            .collect(),
        cli_seller: seller.clone(),
    };
    Ok(html(&page).into_response())
}
