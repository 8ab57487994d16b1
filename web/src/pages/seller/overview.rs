//! The overview: active orgs, seats paid and used, MRR, downloads per day, the newest releases.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use tollgate_registry::time::Timestamp;

use crate::auth::SellerUser;
use crate::error::WebResult;
use crate::pages::chart::{self, Bar};
use crate::state::Web;
use crate::templates::{Chrome, format_time, html, money, thousands};

#[derive(Template)]
#[template(path = "seller/overview.html")]
struct Overview {
    chrome: Chrome,
    active_orgs: String,
    seats: String,
    mrr: String,
    downloads_30d: String,
    bars: Vec<Bar>,
    chart_width: u32,
    chart_height: u32,
    first_day: String,
    last_day: String,
    releases: Vec<ReleaseLine>,
}

struct ReleaseLine {
    ecosystem: String,
    package: String,
    version: String,
    published: String,
    state: &'static str,
}

pub async fn page(State(web): State<Web>, user: SellerUser) -> WebResult<Response> {
    let db = &web.registry.views();
    let now = Timestamp::now();
    let figures = db.seller_figures(user.seller.id, now).await?;
    let days = db.downloads_per_day(user.seller.id, None, 30, now).await?;
    let recent = db.recent_releases(user.seller.id, 10).await?;
    let seats = if figures.unlimited_orgs > 0 {
        format!(
            "{} used / {} paid (+{} unlimited)",
            thousands(figures.used_seats),
            thousands(figures.paid_seats),
            figures.unlimited_orgs
        )
    } else {
        format!(
            "{} used / {} paid",
            thousands(figures.used_seats),
            thousands(figures.paid_seats)
        )
    };
    let mrr = if figures.mrr.is_empty() {
        "—".to_owned()
    } else {
        figures
            .mrr
            .iter()
            .map(|(currency, minor)| money(*minor, currency))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let page = Overview {
        chrome: Chrome::seller(&user, "Overview", "overview"),
        active_orgs: thousands(figures.active_orgs),
        seats,
        mrr,
        downloads_30d: thousands(days.iter().map(|(_, n)| n).sum()),
        bars: chart::bars(&days),
        chart_width: chart::WIDTH,
        chart_height: chart::HEIGHT,
        first_day: days.first().map(|(d, _)| d.clone()).unwrap_or_default(),
        last_day: days.last().map(|(d, _)| d.clone()).unwrap_or_default(),
        releases: recent
            .into_iter()
            .map(|r| ReleaseLine {
                ecosystem: r.ecosystem,
                package: r.package,
                version: r.version,
                published: format_time(r.published_at),
                state: if r.yanked {
                    "yanked"
                } else if r.retired {
                    "retired"
                } else {
                    ""
                },
            })
            .collect(),
    };
    Ok(html(&page).into_response())
}
