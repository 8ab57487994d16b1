//! Sellers, products, orgs, and the entitlements (grants) that tie orgs to products.

use crate::change::Change;
use crate::db::Db;
use crate::domain::{Ecosystem, Entitlement, VersionRule};

use super::assertions::{assert_conflict, assert_not_found, logged};
use super::fixtures::{at, cargo, grant, npm, org, package_id, product, seller};

// ---------------------------------------------------------------------------------------------
// Sellers, products, orgs.

pub async fn sellers_are_created_listed_and_unique(db: &Db) {
    let zeta = seller(db, "zeta").await;
    let acme = db
        .create_seller("acme", "Acme Corp", "billing@acme.test")
        .await
        .expect("create acme");
    assert_eq!(
        (acme.slug.as_str(), acme.name.as_str(), acme.email.as_str()),
        ("acme", "Acme Corp", "billing@acme.test")
    );
    assert_ne!(acme.id, zeta.id);
    assert!(acme.created_at.0 > 0, "created_at is set");

    let found = db.seller("acme").await.expect("look up acme");
    assert_eq!(found.id, acme.id);
    assert_eq!(found.name, "Acme Corp");
    assert_eq!(found.email, "billing@acme.test");
    assert_eq!(found.created_at, acme.created_at);

    let listed: Vec<String> = db
        .sellers()
        .await
        .expect("list sellers")
        .into_iter()
        .map(|s| s.slug)
        .collect();
    assert_eq!(listed, ["acme", "zeta"], "sellers are listed by slug");

    assert_conflict(
        db.create_seller("acme", "Other", "x@other.test").await,
        "seller `acme` already exists",
    );
    assert_not_found(db.seller("nobody").await, "seller `nobody` not found");
    assert_eq!(db.sellers().await.expect("list sellers").len(), 2);
}

pub async fn products_create_their_packages_once(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let ui = npm("@acme/ui");

    assert!(
        db.package_state(acme.id, Ecosystem::Npm, "@acme/ui")
            .await
            .expect("package state")
            .is_none(),
        "no package before a product names it"
    );

    let pro = db
        .create_product(
            acme.id,
            "pro",
            "Acme Pro",
            &[ui.clone(), cargo("acme-core"), npm("@acme/icons")],
        )
        .await
        .expect("create pro");
    assert_eq!(pro.slug, "pro");
    assert_eq!(pro.name, "Acme Pro");
    assert_eq!(pro.seller_id, acme.id);
    assert_eq!(
        pro.packages,
        [cargo("acme-core"), npm("@acme/icons"), ui.clone()],
        "packages are listed by ecosystem, then name"
    );

    // A second product sharing `@acme/ui` reuses its package row.
    let ui_id = package_id(db, &acme, &ui).await;
    let team = product(db, &acme, "team", &[ui.clone(), npm("@acme/charts")]).await;
    assert_eq!(team.packages, [npm("@acme/charts"), ui.clone()]);
    assert_eq!(package_id(db, &acme, &ui).await, ui_id);

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("@acme/ui exists");
    assert_eq!(state.id, ui_id);
    assert_eq!(state.seller_id, acme.id);
    assert_eq!(state.ecosystem, Ecosystem::Npm);
    assert_eq!(state.name, "@acme/ui");
    assert!(state.releases.is_empty(), "no releases yet");
    assert!(state.dist_tags.is_empty(), "no tags yet");
    let core = db
        .package_state(acme.id, Ecosystem::Cargo, "acme-core")
        .await
        .expect("package state");
    assert!(core.is_some(), "cargo:acme-core was created");

    let found = db.product(acme.id, "pro").await.expect("look up pro");
    assert_eq!(found.id, pro.id);
    assert_eq!(found.packages, pro.packages);
    let listed: Vec<String> = db
        .products(acme.id)
        .await
        .expect("list products")
        .into_iter()
        .map(|p| p.slug)
        .collect();
    assert_eq!(listed, ["pro", "team"]);

    // A failed create leaves nothing behind, not even the packages it named.
    assert_conflict(
        db.create_product(acme.id, "pro", "Again", &[npm("@acme/ghost")])
            .await,
        "product `pro` already exists",
    );
    assert!(
        db.package_state(acme.id, Ecosystem::Npm, "@acme/ghost")
            .await
            .expect("package state")
            .is_none(),
        "a failed create_product must not create packages"
    );

    // Slugs are per seller.
    let theirs = product(db, &other, "pro", std::slice::from_ref(&ui)).await;
    assert_ne!(theirs.id, pro.id);
    assert_ne!(package_id(db, &other, &ui).await, ui_id);
    assert_eq!(db.products(other.id).await.expect("list").len(), 1);
    assert_not_found(
        db.product(acme.id, "gold").await,
        "product `gold` not found",
    );
}

pub async fn orgs_are_per_seller(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let initech = db
        .create_org(acme.id, "initech", "Initech")
        .await
        .expect("create org");
    assert_eq!(initech.seller_id, acme.id);
    assert_eq!(
        (initech.slug.as_str(), initech.name.as_str()),
        ("initech", "Initech")
    );
    org(db, &acme, "globex").await;

    let found = db.org(acme.id, "initech").await.expect("look up org");
    assert_eq!(found.id, initech.id);
    assert_eq!(found.name, "Initech");

    assert_conflict(
        db.create_org(acme.id, "initech", "Initech again").await,
        "org `initech` already exists",
    );
    let theirs = org(db, &other, "initech").await;
    assert_ne!(theirs.id, initech.id);

    let listed: Vec<String> = db
        .orgs(acme.id)
        .await
        .expect("list orgs")
        .into_iter()
        .map(|o| o.slug)
        .collect();
    assert_eq!(listed, ["globex", "initech"]);
    assert_eq!(db.orgs(other.id).await.expect("list orgs").len(), 1);
    assert_not_found(db.org(other.id, "globex").await, "org `globex` not found");
}

// ---------------------------------------------------------------------------------------------
// Entitlements.
pub async fn grants_for_see_only_that_org_and_package(db: &Db) {
    let acme = seller(db, "acme").await;
    let pro = product(db, &acme, "pro", &[npm("ui"), npm("icons")]).await;
    let charts = product(db, &acme, "charts", &[npm("charts")]).await;
    let legacy = product(db, &acme, "legacy", &[npm("ui")]).await;
    let initech = org(db, &acme, "initech").await;
    let globex = org(db, &acme, "globex").await;

    let e = db
        .grant(
            initech.id,
            pro.id,
            at(10),
            Some(at(20)),
            VersionRule::PerpetualFallback,
            "stripe:sub_123",
        )
        .await
        .expect("grant");
    assert_eq!(e.org_id, initech.id);
    assert_eq!(e.product_id, pro.id);
    assert_eq!(e.starts_at, at(10));
    assert_eq!(e.ends_at, Some(at(20)));
    assert_eq!(e.rule, VersionRule::PerpetualFallback);
    assert_eq!(e.source, "stripe:sub_123");
    grant(db, &initech, &legacy).await;
    grant(db, &initech, &charts).await;
    grant(db, &globex, &charts).await;

    let ui = package_id(db, &acme, &npm("ui")).await;
    let icons = package_id(db, &acme, &npm("icons")).await;
    let charts_pkg = package_id(db, &acme, &npm("charts")).await;

    let mut grants = db.grants_for(initech.id, ui).await.expect("grants for ui");
    grants.sort_by(|a, b| a.product.cmp(&b.product));
    assert_eq!(grants.len(), 2, "{grants:?}");
    assert_eq!(grants[0].product, "legacy plan");
    assert_eq!(grants[0].org, "initech GmbH");
    assert_eq!(grants[0].starts_at, at(0));
    assert_eq!(grants[0].ends_at, None);
    assert_eq!(grants[0].rule, VersionRule::WhileActive);
    assert_eq!(grants[1].product, "pro plan");
    assert_eq!(grants[1].starts_at, at(10));
    assert_eq!(grants[1].ends_at, Some(at(20)));
    assert_eq!(grants[1].rule, VersionRule::PerpetualFallback);

    let icon_grants = db.grants_for(initech.id, icons).await.expect("grants");
    assert_eq!(
        icon_grants
            .iter()
            .map(|g| g.product.as_str())
            .collect::<Vec<_>>(),
        ["pro plan"]
    );
    // globex holds only `charts`, which does not contain `ui`.
    assert!(
        db.grants_for(globex.id, ui)
            .await
            .expect("grants")
            .is_empty(),
        "another org's grants must not leak"
    );
    let globex_charts = db.grants_for(globex.id, charts_pkg).await.expect("grants");
    assert_eq!(globex_charts.len(), 1);
    assert_eq!(globex_charts[0].org, "globex GmbH");

    let listed: Vec<_> = db
        .entitlements(initech.id)
        .await
        .expect("entitlements")
        .into_iter()
        .map(|e| e.product_id)
        .collect();
    assert_eq!(listed, [pro.id, legacy.id, charts.id], "in grant order");
    assert_eq!(db.entitlements(globex.id).await.expect("list").len(), 1);
}

pub async fn end_grants_ends_only_open_grants(db: &Db) {
    let acme = seller(db, "acme").await;
    let pro = product(db, &acme, "pro", &[npm("ui")]).await;
    let other = product(db, &acme, "other", &[npm("ui")]).await;
    let initech = org(db, &acme, "initech").await;
    let globex = org(db, &acme, "globex").await;
    let rule = VersionRule::WhileActive;

    let open = grant(db, &initech, &pro).await;
    let ended = db
        .grant(initech.id, pro.id, at(0), Some(at(500)), rule, "old")
        .await
        .expect("grant");
    let ending_later = db
        .grant(initech.id, pro.id, at(0), Some(at(9_000)), rule, "term")
        .await
        .expect("grant");
    let other_product = grant(db, &initech, &other).await;
    let other_org = grant(db, &globex, &pro).await;

    let (count, changes) = logged(db, db.end_grants(initech.id, pro.id, at(1_000))).await;
    assert_eq!(
        count.expect("end grants"),
        2,
        "the open and the later-ending grant"
    );
    assert_eq!(changes, [Change::Org(initech.id)]);

    let ends = |list: Vec<Entitlement>| -> Vec<_> {
        list.into_iter().map(|e| (e.id, e.ends_at)).collect()
    };
    assert_eq!(
        ends(db.entitlements(initech.id).await.expect("entitlements")),
        [
            (open.id, Some(at(1_000))),
            (ended.id, Some(at(500))),
            (ending_later.id, Some(at(1_000))),
            (other_product.id, None),
        ]
    );
    assert_eq!(
        ends(db.entitlements(globex.id).await.expect("entitlements")),
        [(other_org.id, None)]
    );
    assert_eq!(
        db.end_grants(initech.id, pro.id, at(2_000))
            .await
            .expect("end again"),
        0,
        "nothing left to end"
    );
}
