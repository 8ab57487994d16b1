//! The dashboard's figures: seller figures and MRR, downloads per day, customers (the lists are
//! in `page_lists`). Every test has a second seller whose data must never show up in the first
//! one's pages.

use crate::db::{Db, SubscriptionState};
use crate::domain::{
    DownloadEvent, Ecosystem, Org, Plan, Product, Release, SeatMode, Seller, VersionRule,
};
use crate::ids::TokenId;
use crate::time::Timestamp;
use crate::views::Views;

use super::fixtures::{at, download, grant, npm, org, product, release, seat, seller};

pub(super) const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

/// The UTC midnight that starts the day of `at(0)` (2026-09-21).
fn midnight() -> i64 {
    at(0).0.div_euclid(DAY) * DAY
}

async fn plan(db: &Db, seller: &Seller, pro: &Product, slug: &str, seats: SeatMode) -> Plan {
    db.create_plan(
        seller.id,
        slug,
        pro.id,
        &format!("price_{slug}"),
        seats,
        VersionRule::WhileActive,
        7,
    )
    .await
    .expect("create plan")
}

/// A subscription live from `at(0)` (or ended at `ends_at`), priced per seat and interval.
struct Sub<'a> {
    id: &'a str,
    plan: &'a Plan,
    status: &'a str,
    quantity: i64,
    ends_at: Option<Timestamp>,
    price: Option<(i64, &'a str, &'a str)>,
}

async fn subscribe(db: &Db, seller: &Seller, org: &Org, sub: Sub<'_>) {
    let state = SubscriptionState {
        stripe_id: sub.id.to_owned(),
        customer_id: format!("cus_{}", org.slug),
        plan: sub.plan.id,
        status: sub.status.to_owned(),
        quantity: sub.quantity,
        first_failed_at: None,
        starts_at: at(0),
        ends_at: sub.ends_at,
        warning: None,
        unit_amount: sub.price.map(|p| p.0),
        currency: sub.price.map(|p| p.1.to_owned()),
        price_interval: sub.price.map(|p| p.2.to_owned()),
    };
    db.apply_subscription(seller.id, None, org.id, &state)
        .await
        .expect("apply subscription");
}

pub(super) async fn record(db: &Db, events: impl IntoIterator<Item = DownloadEvent>) {
    for event in events {
        db.record_download(&event).await.expect("record download");
    }
}

/// A download by the seller's own token (no org, no seat).
pub(super) fn own_download(seller: &Seller, release: &Release, when: Timestamp) -> DownloadEvent {
    DownloadEvent {
        seller_id: seller.id,
        release_id: release.id,
        package: String::new(),
        version: String::new(),
        org_id: None,
        seat_id: None,
        token_id: TokenId("tg_publish".into()),
        at: when,
        client_ip: Some("198.51.100.1".into()),
    }
}

pub async fn seller_figures_count_live_orgs_seats_and_mrr(db: &Db) {
    let views = &Views(db.clone());
    let acme = seller(db, "acme").await;
    let globex = seller(db, "globex").await;
    let pro = product(db, &acme, "pro", &[npm("@acme/pro")]).await;
    let per_seat = plan(db, &acme, &pro, "team", SeatMode::PerQuantity).await;
    let site = plan(db, &acme, &pro, "site", SeatMode::Unlimited).await;
    let now = at(40 * DAY);

    // Live, capped at 3, 2 active seats (and one revoked): 3 × 10.00 USD a month.
    let alpha = org(db, &acme, "alpha").await;
    subscribe(
        db,
        &acme,
        &alpha,
        Sub {
            id: "sub_a",
            plan: &per_seat,
            status: "active",
            quantity: 3,
            ends_at: None,
            price: Some((1000, "usd", "month")),
        },
    )
    .await;
    seat(db, &alpha, "a1@alpha.test").await;
    seat(db, &alpha, "a2@alpha.test").await;
    seat(db, &alpha, "a3@alpha.test").await;
    db.revoke_seat(alpha.id, "a3@alpha.test", at(1))
        .await
        .expect("revoke");
    // Live, unlimited, trialing: 120.00 USD a year is 10.00 a month.
    let beta = org(db, &acme, "beta").await;
    subscribe(
        db,
        &acme,
        &beta,
        Sub {
            id: "sub_b",
            plan: &site,
            status: "trialing",
            quantity: 1,
            ends_at: None,
            price: Some((12_000, "usd", "year")),
        },
    )
    .await;
    seat(db, &beta, "b1@beta.test").await;
    // Live, capped at 2, past due (still counted): 2 × 7.00 EUR a week = 60.67 EUR a month.
    let gamma = org(db, &acme, "gamma").await;
    subscribe(
        db,
        &acme,
        &gamma,
        Sub {
            id: "sub_c",
            plan: &per_seat,
            status: "past_due",
            quantity: 2,
            ends_at: None,
            price: Some((700, "eur", "week")),
        },
    )
    .await;
    // Ended and canceled: not live, cap 0, no revenue; its seat (taken before) still counts.
    let delta = org(db, &acme, "delta").await;
    seat(db, &delta, "d1@delta.test").await;
    subscribe(
        db,
        &acme,
        &delta,
        Sub {
            id: "sub_d",
            plan: &per_seat,
            status: "canceled",
            quantity: 5,
            ends_at: Some(at(DAY)),
            price: Some((99_999, "usd", "month")),
        },
    )
    .await;
    // A hand-made open grant: live, no cap.
    let epsilon = org(db, &acme, "epsilon").await;
    grant(db, &epsilon, &pro).await;
    // Live, capped at 4, price not reported yet: no revenue.
    let zeta = org(db, &acme, "zeta").await;
    subscribe(
        db,
        &acme,
        &zeta,
        Sub {
            id: "sub_z",
            plan: &per_seat,
            status: "active",
            quantity: 4,
            ends_at: None,
            price: None,
        },
    )
    .await;
    // A grant that starts after `now`: not live.
    let eta = org(db, &acme, "eta").await;
    db.grant(
        eta.id,
        pro.id,
        at(100 * DAY),
        None,
        VersionRule::WhileActive,
        "manual",
    )
    .await
    .expect("future grant");

    // The other seller: must not show in acme's figures.
    let theirs = product(db, &globex, "suite", &[npm("@globex/suite")]).await;
    let their_plan = plan(db, &globex, &theirs, "team", SeatMode::PerQuantity).await;
    let initech = org(db, &globex, "initech").await;
    subscribe(
        db,
        &globex,
        &initech,
        Sub {
            id: "sub_a",
            plan: &their_plan,
            status: "active",
            quantity: 10,
            ends_at: None,
            price: Some((5000, "usd", "month")),
        },
    )
    .await;
    seat(db, &initech, "i1@initech.test").await;

    let figures = views.seller_figures(acme.id, now).await.expect("figures");
    assert_eq!(figures.active_orgs, 5, "alpha, beta, gamma, epsilon, zeta");
    assert_eq!(
        figures.paid_seats,
        3 + 2 + 4,
        "caps of alpha, gamma, zeta; delta's is 0"
    );
    assert_eq!(figures.used_seats, 2 + 1 + 1, "alpha, beta, delta");
    assert_eq!(figures.unlimited_orgs, 2, "beta, epsilon");
    assert_eq!(
        figures.mrr,
        [("eur".to_owned(), 6067), ("usd".to_owned(), 3000 + 1000)]
    );

    let figures = views.seller_figures(globex.id, now).await.expect("figures");
    assert_eq!(
        (
            figures.active_orgs,
            figures.paid_seats,
            figures.used_seats,
            figures.unlimited_orgs
        ),
        (1, 10, 1, 0)
    );
    assert_eq!(figures.mrr, [("usd".to_owned(), 50_000)]);

    let nobody = seller(db, "nobody").await;
    let figures = views.seller_figures(nobody.id, now).await.expect("figures");
    assert_eq!(
        (
            figures.active_orgs,
            figures.paid_seats,
            figures.used_seats,
            figures.unlimited_orgs
        ),
        (0, 0, 0, 0)
    );
    assert!(figures.mrr.is_empty());
}

pub async fn downloads_per_day_are_zero_filled_utc_days(db: &Db) {
    let views = &Views(db.clone());
    let acme = seller(db, "acme").await;
    let globex = seller(db, "globex").await;
    let alpha = org(db, &acme, "alpha").await;
    let beta = org(db, &acme, "beta").await;
    let initech = org(db, &globex, "initech").await;
    let ui = release(&acme, "@acme/ui", "1.0.0").publish(db, at(0)).await;
    let theirs = release(&globex, "@globex/x", "1.0.0")
        .publish(db, at(0))
        .await;
    // 2026-10-01 03:00 UTC; 7 days: 2026-09-25 ..= 2026-10-01.
    let today = midnight() + 10 * DAY;
    let now = Timestamp(today + 3 * HOUR);
    let first = today - 6 * DAY;
    record(
        db,
        [
            // The last millisecond before the window, and its first one.
            download(&ui, &alpha, "tg_a", Timestamp(first - 1)),
            download(&ui, &alpha, "tg_a", Timestamp(first)),
            download(&ui, &alpha, "tg_a", Timestamp(today - 3 * DAY + HOUR)),
            download(&ui, &beta, "tg_b", Timestamp(today - 2 * DAY - 1)),
            download(&ui, &alpha, "tg_a", Timestamp(today + HOUR)),
            own_download(&acme, &ui, Timestamp(today + 2 * HOUR)),
            download(&theirs, &initech, "tg_i", Timestamp(today + HOUR)),
            download(&theirs, &initech, "tg_i", Timestamp(first)),
        ],
    )
    .await;

    let days = |counts: [i64; 7]| -> Vec<(String, i64)> {
        [
            "2026-09-25",
            "2026-09-26",
            "2026-09-27",
            "2026-09-28",
            "2026-09-29",
            "2026-09-30",
            "2026-10-01",
        ]
        .into_iter()
        .map(str::to_owned)
        .zip(counts)
        .collect()
    };
    let all = views
        .downloads_per_day(acme.id, None, 7, now)
        .await
        .expect("per day");
    assert_eq!(all, days([1, 0, 0, 2, 0, 0, 2]));
    let by_alpha = views
        .downloads_per_day(acme.id, Some(alpha.id), 7, now)
        .await
        .expect("per day");
    assert_eq!(by_alpha, days([1, 0, 0, 1, 0, 0, 1]));
    let by_beta = views
        .downloads_per_day(acme.id, Some(beta.id), 7, now)
        .await
        .expect("per day");
    assert_eq!(by_beta, days([0, 0, 0, 1, 0, 0, 0]));
    // Another seller's org: nothing of acme's, nothing of its own through acme.
    let crossed = views
        .downloads_per_day(acme.id, Some(initech.id), 7, now)
        .await
        .expect("per day");
    assert_eq!(crossed, days([0; 7]));
    let theirs = views
        .downloads_per_day(globex.id, None, 7, now)
        .await
        .expect("per day");
    assert_eq!(theirs, days([1, 0, 0, 0, 0, 0, 1]));

    assert_eq!(
        views
            .downloads_per_day(acme.id, None, 1, now)
            .await
            .expect("one day"),
        [("2026-10-01".to_owned(), 2)]
    );
    assert!(
        views
            .downloads_per_day(acme.id, None, 0, now)
            .await
            .expect("no days")
            .is_empty()
    );
    let month = views
        .downloads_per_day(acme.id, None, 30, now)
        .await
        .expect("30 days");
    assert_eq!(month.len(), 30);
    assert_eq!(month[0].0, "2026-09-02");
    assert_eq!(month.iter().map(|(_, n)| n).sum::<i64>(), 6);
}

pub async fn customers_show_plan_seats_state_and_recent_use(db: &Db) {
    let views = &Views(db.clone());
    let acme = seller(db, "acme").await;
    let globex = seller(db, "globex").await;
    let pro = product(db, &acme, "pro", &[npm("@acme/ui")]).await;
    let basic = plan(db, &acme, &pro, "basic", SeatMode::PerQuantity).await;
    let team = plan(db, &acme, &pro, "team", SeatMode::PerQuantity).await;
    let now = at(60 * DAY);

    // Two subscriptions: the newer one is shown.
    let alpha = org(db, &acme, "alpha").await;
    subscribe(
        db,
        &acme,
        &alpha,
        Sub {
            id: "sub_old",
            plan: &basic,
            status: "canceled",
            quantity: 1,
            ends_at: Some(at(DAY)),
            price: None,
        },
    )
    .await;
    subscribe(
        db,
        &acme,
        &alpha,
        Sub {
            id: "sub_new",
            plan: &team,
            status: "active",
            quantity: 3,
            ends_at: None,
            price: None,
        },
    )
    .await;
    seat(db, &alpha, "a1@alpha.test").await;
    seat(db, &alpha, "a2@alpha.test").await;
    let beta = org(db, &acme, "beta").await;
    grant(db, &beta, &pro).await;
    let gamma = org(db, &acme, "gamma").await;

    let ui1 = release(&acme, "@acme/ui", "1.0.0").publish(db, at(0)).await;
    let ui2 = release(&acme, "@acme/ui", "2.0.0").publish(db, at(1)).await;
    let core = release(&acme, "core", "0.1.0")
        .ecosystem(Ecosystem::Cargo)
        .publish(db, at(2))
        .await;
    let before = |days: i64| Timestamp(now.0 - days * DAY);
    record(
        db,
        [
            download(&ui1, &alpha, "tg_a", before(1)),
            download(&ui1, &alpha, "tg_a", before(2)),
            download(&ui2, &alpha, "tg_a", before(5)),
            download(&core, &alpha, "tg_a", before(3)),
            download(&core, &alpha, "tg_a", before(40)),
            download(&ui2, &beta, "tg_b", before(45)),
            own_download(&acme, &ui1, before(1)),
        ],
    )
    .await;
    // Globex: an org and downloads that acme must never see.
    let initech = org(db, &globex, "initech").await;
    let theirs = release(&globex, "@acme/ui", "9.0.0")
        .publish(db, at(0))
        .await;
    record(db, [download(&theirs, &initech, "tg_i", before(1))]).await;

    // `customers` reads everything in two queries (orgs with their per-org figures, then
    // the last 30 days' downloads grouped by org), however many orgs there are.
    let customers = views.customers(acme.id, now).await.expect("customers");
    let slugs: Vec<&str> = customers.iter().map(|c| c.org.slug.as_str()).collect();
    assert_eq!(slugs, ["alpha", "beta", "gamma"]);

    let a = &customers[0];
    assert_eq!(a.org.id, alpha.id);
    assert_eq!(a.org.seller_id, acme.id);
    assert_eq!(a.org.name, "alpha GmbH");
    assert_eq!(
        (a.plan.as_deref(), a.status.as_deref()),
        (Some("team"), Some("active"))
    );
    assert_eq!((a.seats_used, a.seats_paid, a.live), (2, Some(3), true));
    assert_eq!(
        a.versions_in_use,
        ["@acme/ui@1.0.0", "@acme/ui@2.0.0", "core@0.1.0"]
    );
    assert_eq!(a.last_download, Some(before(1)));
    assert_eq!(a.downloads_30d, 4);

    let b = &customers[1];
    assert_eq!((b.plan.as_deref(), b.status.as_deref()), (None, None));
    assert_eq!((b.seats_used, b.seats_paid, b.live), (0, None, true));
    assert!(b.versions_in_use.is_empty(), "{:?}", b.versions_in_use);
    assert_eq!(b.last_download, Some(before(45)));
    assert_eq!(b.downloads_30d, 0);

    let c = &customers[2];
    assert_eq!(c.org.id, gamma.id);
    assert_eq!((c.plan.as_deref(), c.live, c.seats_used), (None, false, 0));
    assert!(c.versions_in_use.is_empty());
    assert_eq!((c.last_download, c.downloads_30d), (None, 0));

    let theirs = views.customers(globex.id, now).await.expect("customers");
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].org.id, initech.id);
    assert_eq!(theirs[0].versions_in_use, ["@acme/ui@9.0.0"]);
    assert_eq!(theirs[0].downloads_30d, 1);
}
