//! The customers page, `/{seller}/dashboard/customers`: one line per org with its plan,
//! subscription state, seats, entitlement and recent downloads. Drawn straight from
//! [`Views::customers`](tollgate_registry::views::Views::customers) (two queries for any number of orgs);
//! nothing is looked up per org here.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tollgate_registry::time::Timestamp;
use tollgate_registry::views::Customer;

use crate::auth::SellerUser;
use crate::error::WebResult;
use crate::state::Web;
use crate::templates::{Chrome, format_opt, html, thousands};

/// Versions shown in a line before "+N more" (the full list is in the cell's tooltip).
const VERSIONS_SHOWN: usize = 3;

pub fn routes() -> Router<Web> {
    Router::new().route("/{seller}/dashboard/customers", get(page))
}

#[derive(Template)]
#[template(path = "seller/customers.html")]
struct Customers {
    chrome: Chrome,
    lines: Vec<Line>,
    total: String,
}

struct Line {
    slug: String,
    name: String,
    plan: String,
    status: String,
    /// The status is a good one (active, trialing).
    status_ok: bool,
    seats: String,
    live: bool,
    versions: String,
    versions_all: String,
    last_download: String,
    downloads_30d: String,
}

/// Subscriptions in good standing; any other Stripe status needs the seller's eye.
fn status_ok(status: &str) -> bool {
    matches!(status, "active" | "trialing")
}

/// `a, b, c +2 more` for the first [`VERSIONS_SHOWN`] entries, `—` for none.
fn compact(versions: &[String]) -> String {
    if versions.is_empty() {
        return "—".to_owned();
    }
    let shown = versions[..versions.len().min(VERSIONS_SHOWN)].join(", ");
    match versions.len().saturating_sub(VERSIONS_SHOWN) {
        0 => shown,
        more => format!("{shown} +{more} more"),
    }
}

fn line(c: Customer) -> Line {
    let seats = match c.seats_paid {
        Some(paid) => format!("{} / {}", thousands(c.seats_used), thousands(paid)),
        None => format!("{} / ∞", thousands(c.seats_used)),
    };
    let status = c.status.unwrap_or_default();
    Line {
        status_ok: status_ok(&status),
        status,
        plan: c.plan.unwrap_or_else(|| "—".to_owned()),
        seats,
        live: c.live,
        versions: compact(&c.versions_in_use),
        versions_all: c.versions_in_use.join(", "),
        last_download: format_opt(c.last_download),
        downloads_30d: thousands(c.downloads_30d),
        slug: c.org.slug,
        name: c.org.name,
    }
}

async fn page(State(web): State<Web>, user: SellerUser) -> WebResult<Response> {
    let customers = web
        .registry
        .views()
        .customers(user.seller.id, Timestamp::now())
        .await?;
    let total = thousands(customers.len() as i64);
    let page = Customers {
        chrome: Chrome::seller(&user, "Customers", "customers"),
        lines: customers.into_iter().map(line).collect(),
        total,
    };
    Ok(html(&page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_compact() {
        let v = |n: usize| (0..n).map(|i| format!("p@1.{i}.0")).collect::<Vec<_>>();
        assert_eq!(compact(&v(0)), "—");
        assert_eq!(compact(&v(2)), "p@1.0.0, p@1.1.0");
        assert_eq!(compact(&v(5)), "p@1.0.0, p@1.1.0, p@1.2.0 +2 more");
    }

    #[test]
    fn only_good_standing_is_ok() {
        assert!(status_ok("active") && status_ok("trialing"));
        assert!(!status_ok("past_due") && !status_ok("canceled") && !status_ok("unpaid"));
    }
}
