//! The dashboard's lists: the download audit, package summaries, recent releases and the
//! live-update lookups (figures, downloads per day and customers are in `dashboard`). Every
//! test has a second seller whose data must never show up in the first one's pages.

use crate::db::Db;
use crate::domain::{Ecosystem, Retirement};
use crate::ids::{OrgId, PackageId};
use crate::time::Timestamp;
use crate::views::{AuditFilter, AuditRow, Views};

use super::dashboard::{DAY, own_download, record};
use super::fixtures::{at, cargo, download, npm, org, package_id, product, release, seat, seller};

fn summary(rows: &[AuditRow]) -> Vec<(i64, &str, &str)> {
    rows.iter()
        .map(|r| (r.at.0 - at(0).0, r.package.as_str(), r.version.as_str()))
        .collect()
}

pub async fn download_audit_filters_pages_and_isolates_sellers(db: &Db) {
    let views = &Views(db.clone());
    let acme = seller(db, "acme").await;
    let globex = seller(db, "globex").await;
    let alpha = org(db, &acme, "alpha").await;
    let bob = seat(db, &alpha, "bob@alpha.test").await;
    let beta = org(db, &acme, "beta").await;
    let initech = org(db, &globex, "initech").await;
    let ui1 = release(&acme, "@acme/ui", "1.0.0").publish(db, at(0)).await;
    let ui2 = release(&acme, "@acme/ui", "2.0.0").publish(db, at(1)).await;
    let core = release(&acme, "core", "0.1.0")
        .ecosystem(Ecosystem::Cargo)
        .publish(db, at(2))
        .await;
    // The same name and version, sold by another seller.
    let theirs = release(&globex, "@acme/ui", "1.0.0")
        .publish(db, at(3))
        .await;

    let mut by_bob = download(&ui2, &alpha, "tg_bob", at(200));
    by_bob.seat_id = Some(bob.id);
    by_bob.client_ip = None;
    record(
        db,
        [
            download(&ui1, &alpha, "tg_alpha", at(100)),
            download(&theirs, &initech, "tg_initech", at(150)),
            by_bob,
            download(&core, &beta, "tg_beta", at(300)),
            download(&ui1, &beta, "tg_beta", at(400)),
            own_download(&acme, &ui2, at(500)),
        ],
    )
    .await;

    let audit = |filter: AuditFilter| async move {
        views.download_audit(acme.id, &filter).await.expect("audit")
    };
    let all = audit(AuditFilter::default()).await;
    assert_eq!(
        summary(&all),
        [
            (500, "@acme/ui", "2.0.0"),
            (400, "@acme/ui", "1.0.0"),
            (300, "core", "0.1.0"),
            (200, "@acme/ui", "2.0.0"),
            (100, "@acme/ui", "1.0.0"),
        ]
    );
    assert!(all.windows(2).all(|w| w[0].id > w[1].id), "id DESC");
    let bobs = &all[3];
    assert_eq!(bobs.ecosystem, "npm");
    assert_eq!(
        (
            bobs.org.as_deref(),
            bobs.seat.as_deref(),
            bobs.token_id.as_str()
        ),
        (Some("alpha"), Some("bob@alpha.test"), "tg_bob")
    );
    assert_eq!(bobs.client_ip, None);
    assert_eq!(all[2].ecosystem, "cargo");
    assert_eq!(
        (all[2].org.as_deref(), all[2].seat.as_deref()),
        (Some("beta"), None)
    );
    assert_eq!(all[2].client_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(
        (all[0].org.as_deref(), all[0].token_id.as_str()),
        (None, "tg_publish")
    );

    let by_org = audit(AuditFilter {
        org: Some(alpha.id),
        ..Default::default()
    })
    .await;
    assert_eq!(
        summary(&by_org),
        [(200, "@acme/ui", "2.0.0"), (100, "@acme/ui", "1.0.0")]
    );
    let by_package = audit(AuditFilter {
        package: Some("@acme/ui".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        summary(&by_package).iter().map(|s| s.0).collect::<Vec<_>>(),
        [500, 400, 200, 100],
        "never globex's @acme/ui"
    );
    let by_version = audit(AuditFilter {
        package: Some("@acme/ui".into()),
        version: Some("1.0.0".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(
        summary(&by_version),
        [(400, "@acme/ui", "1.0.0"), (100, "@acme/ui", "1.0.0")]
    );
    let window = audit(AuditFilter {
        from: Some(at(200)),
        to: Some(at(400)),
        ..Default::default()
    })
    .await;
    assert_eq!(
        summary(&window),
        [(300, "core", "0.1.0"), (200, "@acme/ui", "2.0.0")]
    );
    let combined = audit(AuditFilter {
        org: Some(beta.id),
        package: Some("core".into()),
        from: Some(at(0)),
        ..Default::default()
    })
    .await;
    assert_eq!(summary(&combined), [(300, "core", "0.1.0")]);

    // Paging by id: pages of two, then an empty page.
    let page = |before: Option<i64>| AuditFilter {
        before,
        limit: 2,
        ..Default::default()
    };
    let first = audit(page(None)).await;
    assert_eq!(
        first.iter().map(|r| r.id).collect::<Vec<_>>(),
        [all[0].id, all[1].id]
    );
    let second = audit(page(first.last().map(|r| r.id))).await;
    assert_eq!(
        second.iter().map(|r| r.id).collect::<Vec<_>>(),
        [all[2].id, all[3].id]
    );
    let third = audit(page(second.last().map(|r| r.id))).await;
    assert_eq!(third.iter().map(|r| r.id).collect::<Vec<_>>(), [all[4].id]);
    assert!(audit(page(Some(all[4].id))).await.is_empty());

    // Another seller's org as a filter finds nothing; that seller sees only its own event.
    assert!(
        audit(AuditFilter {
            org: Some(initech.id),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    let globex_audit = views
        .download_audit(
            globex.id,
            &AuditFilter {
                org: Some(alpha.id),
                ..Default::default()
            },
        )
        .await
        .expect("audit");
    assert!(globex_audit.is_empty());
    let globex_audit = views
        .download_audit(globex.id, &AuditFilter::default())
        .await
        .expect("audit");
    assert_eq!(summary(&globex_audit), [(150, "@acme/ui", "1.0.0")]);
    assert_eq!(globex_audit[0].org.as_deref(), Some("initech"));
}

pub async fn package_summaries_count_live_releases_and_recent_downloads(db: &Db) {
    let views = &Views(db.clone());
    let acme = seller(db, "acme").await;
    let globex = seller(db, "globex").await;
    let alpha = org(db, &acme, "alpha").await;
    let initech = org(db, &globex, "initech").await;
    product(db, &acme, "pro", &[npm("@acme/empty")]).await;
    let now = at(40 * DAY);

    let ui1 = release(&acme, "@acme/ui", "1.0.0")
        .publish(db, at(100))
        .await;
    let ui2 = release(&acme, "@acme/ui", "2.0.0")
        .publish(db, at(200))
        .await;
    release(&acme, "@acme/ui", "2.1.0")
        .publish(db, at(300))
        .await;
    let core = release(&acme, "core", "0.1.0")
        .ecosystem(Ecosystem::Cargo)
        .publish(db, at(50))
        .await;
    let ui = package_id(db, &acme, &npm("@acme/ui")).await;
    db.revert_release(ui, "2.1.0", at(250), at(350))
        .await
        .expect("revert");
    db.set_yanked(ui, "1.0.0", true).await.expect("yank");
    let theirs = release(&globex, "@acme/ui", "5.0.0")
        .publish(db, at(400))
        .await;

    let before = |days: i64| Timestamp(now.0 - days * DAY);
    record(
        db,
        [
            download(&ui2, &alpha, "tg_a", before(1)),
            download(&ui2, &alpha, "tg_a", before(2)),
            download(&ui1, &alpha, "tg_a", before(31)),
            download(&core, &alpha, "tg_a", before(2)),
            download(&theirs, &initech, "tg_i", before(1)),
        ],
    )
    .await;

    let summaries = views
        .package_summaries(acme.id, now)
        .await
        .expect("summaries");
    let rows: Vec<_> = summaries
        .iter()
        .map(|s| {
            (
                s.ecosystem.as_str(),
                s.name.as_str(),
                s.releases,
                s.latest.as_deref(),
                s.last_published.map(|t| t.0 - at(0).0),
                s.downloads_30d,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("cargo", "core", 1, Some("0.1.0"), Some(50), 1),
            ("npm", "@acme/empty", 0, None, None, 0),
            // 2.1.0 was reverted; the yanked 1.0.0 still counts.
            ("npm", "@acme/ui", 2, Some("2.0.0"), Some(200), 2),
        ]
    );
    assert_eq!(summaries[2].id, ui);

    let theirs = views
        .package_summaries(globex.id, now)
        .await
        .expect("summaries");
    assert_eq!(theirs.len(), 1);
    assert_eq!(
        (
            theirs[0].releases,
            theirs[0].latest.as_deref(),
            theirs[0].downloads_30d
        ),
        (1, Some("5.0.0"), 1)
    );
}

pub async fn recent_releases_are_live_newest_first(db: &Db) {
    let views = &Views(db.clone());
    let acme = seller(db, "acme").await;
    let globex = seller(db, "globex").await;
    release(&acme, "@acme/ui", "1.0.0")
        .publish(db, at(100))
        .await;
    release(&acme, "@acme/ui", "2.0.0")
        .publish(db, at(200))
        .await;
    release(&acme, "core", "0.1.0")
        .ecosystem(Ecosystem::Cargo)
        .publish(db, at(300))
        .await;
    release(&acme, "@acme/ui", "3.0.0")
        .publish(db, at(400))
        .await;
    release(&globex, "@globex/x", "1.0.0")
        .publish(db, at(500))
        .await;
    let ui = package_id(db, &acme, &npm("@acme/ui")).await;
    let core = package_id(db, &acme, &cargo("core")).await;
    let why = Retirement {
        reason: "security".into(),
        message: "use 2.0.1".into(),
    };
    db.set_retired(ui, "2.0.0", Some(&why))
        .await
        .expect("retire");
    db.set_yanked(core, "0.1.0", true).await.expect("yank");
    db.revert_release(ui, "3.0.0", at(0), at(450))
        .await
        .expect("revert");

    let recent = views.recent_releases(acme.id, 10).await.expect("recent");
    let rows: Vec<_> = recent
        .iter()
        .map(|r| {
            (
                r.ecosystem.as_str(),
                r.package.as_str(),
                r.version.as_str(),
                r.published_at.0 - at(0).0,
                r.yanked,
                r.retired,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("cargo", "core", "0.1.0", 300, true, false),
            ("npm", "@acme/ui", "2.0.0", 200, false, true),
            ("npm", "@acme/ui", "1.0.0", 100, false, false),
        ]
    );
    let two = views.recent_releases(acme.id, 2).await.expect("recent");
    assert_eq!(
        two.iter().map(|r| r.version.as_str()).collect::<Vec<_>>(),
        ["0.1.0", "2.0.0"]
    );
    let theirs = views.recent_releases(globex.id, 10).await.expect("recent");
    assert_eq!(
        theirs
            .iter()
            .map(|r| r.package.as_str())
            .collect::<Vec<_>>(),
        ["@globex/x"]
    );
}

pub async fn live_update_lookups_follow_sellers_and_new_downloads(db: &Db) {
    let views = &Views(db.clone());
    let acme = seller(db, "acme").await;
    let globex = seller(db, "globex").await;
    let alpha = org(db, &acme, "alpha").await;
    let beta = org(db, &acme, "beta").await;
    let initech = org(db, &globex, "initech").await;
    seat(db, &alpha, "a1@alpha.test").await;
    seat(db, &alpha, "a2@alpha.test").await;
    seat(db, &alpha, "a3@alpha.test").await;
    db.revoke_seat(alpha.id, "a2@alpha.test", at(1))
        .await
        .expect("revoke");
    assert_eq!(views.org_seats_used(alpha.id).await.expect("seats"), 2);
    assert_eq!(views.org_seats_used(beta.id).await.expect("seats"), 0);

    let ui = release(&acme, "@acme/ui", "1.0.0").publish(db, at(0)).await;
    let x = release(&globex, "@globex/x", "1.0.0")
        .publish(db, at(0))
        .await;
    let ui_id = package_id(db, &acme, &npm("@acme/ui")).await;
    let x_id = package_id(db, &globex, &npm("@globex/x")).await;
    assert_eq!(
        views.package_seller(ui_id).await.expect("seller"),
        Some(acme.id)
    );
    assert_eq!(
        views.package_seller(x_id).await.expect("seller"),
        Some(globex.id)
    );
    assert_eq!(
        views
            .package_seller(PackageId(999_999))
            .await
            .expect("seller"),
        None
    );
    assert_eq!(
        views.org_seller(alpha.id).await.expect("seller"),
        Some(acme.id)
    );
    assert_eq!(
        views.org_seller(initech.id).await.expect("seller"),
        Some(globex.id)
    );
    assert_eq!(
        views.org_seller(OrgId(999_999)).await.expect("seller"),
        None
    );

    assert_eq!(views.download_watermark().await.expect("watermark"), 0);
    assert!(
        views
            .download_activity_since(0)
            .await
            .expect("activity")
            .is_empty()
    );
    record(
        db,
        [
            download(&ui, &alpha, "tg_a", at(10)),
            download(&ui, &alpha, "tg_a", at(11)),
            own_download(&acme, &ui, at(12)),
            download(&x, &initech, "tg_i", at(13)),
        ],
    )
    .await;
    let mark = views.download_watermark().await.expect("watermark");
    assert!(mark > 0);
    assert_eq!(
        views.download_activity_since(0).await.expect("activity"),
        [
            (acme.id, None),
            (acme.id, Some(alpha.id)),
            (globex.id, Some(initech.id)),
        ]
    );
    assert!(
        views
            .download_activity_since(mark)
            .await
            .expect("activity")
            .is_empty()
    );

    record(db, [download(&ui, &beta, "tg_b", at(20))]).await;
    let next = views.download_watermark().await.expect("watermark");
    assert!(next > mark);
    assert_eq!(
        views.download_activity_since(mark).await.expect("activity"),
        [(acme.id, Some(beta.id))]
    );
    assert!(
        views
            .download_activity_since(next)
            .await
            .expect("activity")
            .is_empty()
    );
}
