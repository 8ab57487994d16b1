//! Releases: publishing, dist-tags, publication order, stored metadata, package identity, and
//! the downloads recorded against releases.

use std::collections::BTreeSet;

use crate::db::Db;
use crate::domain::Ecosystem;
use crate::ids::{ReleaseId, TokenId};

use super::assertions::{assert_conflict, logged, tags, versions};
use super::fixtures::{at, cargo, download, npm, org, package_id, release, seat, seller, sha};

// ---------------------------------------------------------------------------------------------
// Releases and tags.

pub async fn publish_records_the_release(db: &Db) {
    let acme = seller(db, "acme").await;
    let new = release(&acme, "@acme/ui", "1.2.3")
        .blob("ui 1.2.3 tarball")
        .size(4096)
        .tag("latest")
        .build();
    let published = db.publish_release(&new, at(1_000)).await.expect("publish");
    assert_eq!(published.version, "1.2.3");
    assert_eq!(published.blob_sha256, sha("ui 1.2.3 tarball"));
    assert_eq!(published.size, 4096);
    assert_eq!(published.published_at, at(1_000));
    assert!(!published.yanked);

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("publishing creates the package");
    assert_eq!(state.releases.len(), 1);
    let stored = state.release("1.2.3").expect("release is listed");
    assert_eq!(stored.id, published.id);
    assert_eq!(stored.blob_sha256, published.blob_sha256);
    assert_eq!(stored.size, 4096);
    assert_eq!(stored.published_at, at(1_000));
    assert_eq!(state.dist_tags, tags(&[("latest", "1.2.3")]));
}

pub async fn publish_never_overwrites_a_version(db: &Db) {
    let acme = seller(db, "acme").await;
    let first = release(&acme, "@acme/ui", "1.0.0")
        .blob("first bytes")
        .tag("latest")
        .publish(db, at(0))
        .await;
    let (second, changes) = logged(
        db,
        release(&acme, "@acme/ui", "1.0.0")
            .blob("second bytes")
            .tag("beta")
            .try_publish(db, at(5_000)),
    )
    .await;
    assert_conflict(
        second,
        "cannot publish over previously published version 1.0.0",
    );
    assert_eq!(changes, [], "a refused publish logs no change");

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("package exists");
    assert_eq!(state.releases.len(), 1);
    let kept = state.release("1.0.0").expect("1.0.0 is listed");
    assert_eq!(kept.id, first.id);
    assert_eq!(
        kept.blob_sha256,
        sha("first bytes"),
        "the blob is unchanged"
    );
    assert_eq!(kept.published_at, at(0));
    assert_eq!(
        state.dist_tags,
        tags(&[("latest", "1.0.0")]),
        "the refused publish's tags are not applied"
    );
}

pub async fn dist_tags_are_set_moved_and_removed(db: &Db) {
    let acme = seller(db, "acme").await;
    release(&acme, "ui", "1.0.0")
        .tag("latest")
        .publish(db, at(0))
        .await;
    release(&acme, "ui", "2.0.0-rc.1")
        .tag("next")
        .tag("beta")
        .publish(db, at(1))
        .await;
    let id = package_id(db, &acme, &npm("ui")).await;
    let state = |db: &Db| {
        let db = db.clone();
        async move {
            db.package_state(acme.id, Ecosystem::Npm, "ui")
                .await
                .expect("package state")
                .expect("package exists")
                .dist_tags
        }
    };
    assert_eq!(
        state(db).await,
        tags(&[
            ("beta", "2.0.0-rc.1"),
            ("latest", "1.0.0"),
            ("next", "2.0.0-rc.1")
        ]),
        "tags are listed by name"
    );

    // Publishing with an existing tag moves it.
    release(&acme, "ui", "1.1.0")
        .tag("latest")
        .publish(db, at(2))
        .await;
    db.set_dist_tag(id, "stable", "1.0.0")
        .await
        .expect("set stable");
    db.set_dist_tag(id, "next", "1.1.0")
        .await
        .expect("move next");
    assert_eq!(
        state(db).await,
        tags(&[
            ("beta", "2.0.0-rc.1"),
            ("latest", "1.1.0"),
            ("next", "1.1.0"),
            ("stable", "1.0.0")
        ])
    );

    assert!(db.remove_dist_tag(id, "beta").await.expect("remove beta"));
    assert!(
        !db.remove_dist_tag(id, "beta").await.expect("remove again"),
        "removing a missing tag reports false"
    );
    assert_eq!(
        state(db).await,
        tags(&[("latest", "1.1.0"), ("next", "1.1.0"), ("stable", "1.0.0")])
    );
}

pub async fn releases_are_listed_in_publication_order(db: &Db) {
    let acme = seller(db, "acme").await;
    // Publication order, not version order; equal times keep the order of the writes.
    for (version, when) in [
        ("2.0.0", 100),
        ("1.0.1", 200),
        ("1.5.0", 300),
        ("0.9.0", 300),
        ("3.0.0-beta.1", 400),
    ] {
        release(&acme, "ui", version).publish(db, at(when)).await;
    }
    let state = db
        .package_state(acme.id, Ecosystem::Npm, "ui")
        .await
        .expect("package state")
        .expect("package exists");
    assert_eq!(
        versions(&state.releases),
        ["2.0.0", "1.0.1", "1.5.0", "0.9.0", "3.0.0-beta.1"]
    );
    let times: Vec<i64> = state.releases.iter().map(|r| r.published_at.0).collect();
    assert_eq!(times, [100, 200, 300, 300, 400].map(|ms| at(ms).0));
}

pub async fn release_metadata_is_returned_as_stored(db: &Db) {
    let acme = seller(db, "acme").await;
    let rich = serde_json::json!({
        "name": "@acme/ui",
        "version": "1.0.0",
        "description": "Grüße — 日本語 \"quoted\" \\ back\nslash",
        "dependencies": { "react": "^18.2.0", "left-pad": "1.3.0" },
        "bin": null,
        "files": ["dist/", "README.md"],
        "numbers": { "int": 42, "negative": -7, "big": 18_446_744_073_709_551_615u64, "float": 0.1 },
        "nested": { "a": { "b": { "c": [true, false, {}] } } },
    });
    let first = release(&acme, "@acme/ui", "1.0.0")
        .metadata(rich.clone())
        .publish(db, at(0))
        .await;
    let plain = serde_json::json!({ "name": "@acme/ui", "version": "1.1.0" });
    let second = release(&acme, "@acme/ui", "1.1.0")
        .metadata(plain.clone())
        .publish(db, at(1))
        .await;
    release(&acme, "@acme/other", "1.0.0")
        .publish(db, at(2))
        .await;

    let id = package_id(db, &acme, &npm("@acme/ui")).await;
    let mut stored: Vec<(ReleaseId, serde_json::Value)> =
        db.release_metadata(id).await.expect("release metadata");
    stored.sort_by_key(|(id, _)| *id);
    assert_eq!(stored, [(first.id, rich), (second.id, plain)]);
}

pub async fn packages_are_separate_per_seller_and_ecosystem(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let mine = release(&acme, "widget", "1.0.0")
        .blob("acme npm")
        .publish(db, at(0))
        .await;
    // Same name and version elsewhere: no conflict, separate packages.
    let theirs = release(&other, "widget", "1.0.0")
        .blob("other npm")
        .publish(db, at(1))
        .await;
    let crate_ = release(&acme, "widget", "1.0.0")
        .ecosystem(Ecosystem::Cargo)
        .blob("acme cargo")
        .publish(db, at(2))
        .await;
    assert_ne!(mine.id, theirs.id);
    assert_ne!(mine.id, crate_.id);

    let npm_acme = package_id(db, &acme, &npm("widget")).await;
    let npm_other = package_id(db, &other, &npm("widget")).await;
    let cargo_acme = package_id(db, &acme, &cargo("widget")).await;
    assert_eq!(
        [npm_acme, npm_other, cargo_acme]
            .into_iter()
            .collect::<BTreeSet<_>>()
            .len(),
        3,
        "three distinct packages"
    );
    for (owner, ecosystem, blob) in [
        (&acme, Ecosystem::Npm, "acme npm"),
        (&other, Ecosystem::Npm, "other npm"),
        (&acme, Ecosystem::Cargo, "acme cargo"),
    ] {
        let state = db
            .package_state(owner.id, ecosystem, "widget")
            .await
            .expect("package state")
            .expect("package exists");
        assert_eq!(state.releases.len(), 1, "{} {ecosystem}", owner.slug);
        assert_eq!(state.releases[0].blob_sha256, sha(blob));
    }
    assert!(
        db.package_state(other.id, Ecosystem::Cargo, "widget")
            .await
            .expect("package state")
            .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// Downloads.
pub async fn downloads_are_listed_newest_first_per_seller(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let initech = org(db, &acme, "initech").await;
    let bob = seat(db, &initech, "bob@initech.test").await;
    let globex = org(db, &other, "globex").await;
    let v1 = release(&acme, "@acme/ui", "1.0.0").publish(db, at(0)).await;
    let v2 = release(&acme, "@acme/ui", "2.0.0").publish(db, at(1)).await;
    let core = release(&acme, "core", "0.1.0")
        .ecosystem(Ecosystem::Cargo)
        .publish(db, at(2))
        .await;
    let theirs = release(&other, "@other/x", "9.9.9")
        .publish(db, at(3))
        .await;

    let mut by_seat = download(&v2, &initech, "tg_bob", at(300));
    by_seat.seat_id = Some(bob.id);
    by_seat.client_ip = None;
    for event in [
        download(&v1, &initech, "tg_org", at(100)),
        by_seat,
        download(&core, &initech, "tg_org", at(200)),
        download(&v1, &initech, "tg_org", at(300)),
        download(&theirs, &globex, "tg_globex", at(400)),
    ] {
        db.record_download(&event).await.expect("record download");
    }

    let listed = db.downloads(acme.id, 10).await.expect("downloads");
    let summary: Vec<_> = listed
        .iter()
        .map(|d| (d.package.as_str(), d.version.as_str(), d.at))
        .collect();
    assert_eq!(
        summary,
        [
            // Same time: the later record first.
            ("@acme/ui", "1.0.0", at(300)),
            ("@acme/ui", "2.0.0", at(300)),
            ("core", "0.1.0", at(200)),
            ("@acme/ui", "1.0.0", at(100)),
        ],
        "newest first, package and version joined, no other seller's"
    );
    let seat_download = &listed[1];
    assert_eq!(seat_download.release_id, v2.id);
    assert_eq!(seat_download.org_id, Some(initech.id));
    assert_eq!(seat_download.seat_id, Some(bob.id));
    assert_eq!(seat_download.token_id, TokenId("tg_bob".into()));
    assert_eq!(seat_download.client_ip, None);
    assert_eq!(listed[0].client_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(listed[0].seat_id, None);

    let newest_two = db.downloads(acme.id, 2).await.expect("downloads");
    assert_eq!(
        newest_two.iter().map(|d| d.release_id).collect::<Vec<_>>(),
        [v1.id, v2.id]
    );
    let theirs_listed = db.downloads(other.id, 10).await.expect("downloads");
    assert_eq!(theirs_listed.len(), 1);
    assert_eq!(theirs_listed[0].package, "@other/x");
    assert_eq!(theirs_listed[0].org_id, Some(globex.id));
}
