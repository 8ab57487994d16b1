//! What may change after a publish: revert and replace within a window (Hex), retirement, and
//! the per-seller key pairs.

use crate::db::{Db, StoredKey};
use crate::domain::{Ecosystem, Retirement};

use super::assertions::{assert_conflict, versions};
use super::fixtures::{at, download, npm, org, package_id, release, seller, sha};

pub async fn revert_frees_the_version_only_within_the_window(db: &Db) {
    let acme = seller(db, "acme").await;
    let old = release(&acme, "@acme/ui", "1.0.0").publish(db, at(0)).await;
    release(&acme, "@acme/ui", "1.1.0")
        .tag("latest")
        .publish(db, at(10_000))
        .await;
    let pkg = package_id(db, &acme, &npm("@acme/ui")).await;
    // Downloads point at the release: reverting must keep its row.
    let buyer = org(db, &acme, "buyer").await;
    db.record_download(&download(&old, &buyer, "tok", at(1)))
        .await
        .expect("download");

    let too_old = db.revert_release(pkg, "1.0.0", at(5_000), at(20_000)).await;
    assert_conflict(
        too_old,
        "version 1.0.0 was published too long ago to be reverted; retire it instead",
    );
    let missing = db.revert_release(pkg, "9.9.9", at(0), at(20_000)).await;
    assert!(
        matches!(missing, Err(crate::Error::NotFound(_))),
        "{missing:?}"
    );

    db.revert_release(pkg, "1.1.0", at(5_000), at(20_000))
        .await
        .expect("revert within the window");
    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("state")
        .expect("package");
    assert_eq!(versions(&state.releases), ["1.0.0"]);
    assert!(state.dist_tags.is_empty(), "tags of a reverted version go");
    assert_eq!(db.downloads(acme.id, 10).await.expect("downloads").len(), 1);

    // The version may be published again, with other bytes.
    release(&acme, "@acme/ui", "1.1.0")
        .blob("new bytes")
        .publish(db, at(30_000))
        .await;
    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("state")
        .expect("package");
    assert_eq!(versions(&state.releases), ["1.0.0", "1.1.0"]);
    assert_eq!(
        state.release("1.1.0").expect("1.1.0").blob_sha256,
        sha("new bytes")
    );
}

pub async fn replace_swaps_a_recent_release_in_one_step(db: &Db) {
    let acme = seller(db, "acme").await;
    release(&acme, "acme_pro", "1.0.0")
        .ecosystem(Ecosystem::Hex)
        .blob("first")
        .publish(db, at(1_000))
        .await;
    let late = release(&acme, "acme_pro", "1.0.0")
        .ecosystem(Ecosystem::Hex)
        .blob("late")
        .build();
    let refused = db
        .publish_release_replacing(&late, at(9_000), Some(at(2_000)))
        .await;
    assert_conflict(
        refused,
        "cannot publish over previously published version 1.0.0",
    );

    let replaced = db
        .publish_release_replacing(&late, at(9_000), Some(at(500)))
        .await
        .expect("replace within the window");
    assert_eq!(replaced.blob_sha256, sha("late"));
    let state = db
        .package_state(acme.id, Ecosystem::Hex, "acme_pro")
        .await
        .expect("state")
        .expect("package");
    assert_eq!(versions(&state.releases), ["1.0.0"]);
    assert_eq!(state.releases[0].id, replaced.id);
}

pub async fn retirement_is_set_and_cleared(db: &Db) {
    let acme = seller(db, "acme").await;
    release(&acme, "@acme/ui", "1.0.0").publish(db, at(0)).await;
    let pkg = package_id(db, &acme, &npm("@acme/ui")).await;
    let why = Retirement {
        reason: "security".into(),
        message: "CVE-2026-1".into(),
    };
    db.set_retired(pkg, "1.0.0", Some(&why))
        .await
        .expect("retire");
    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("state")
        .expect("package");
    assert_eq!(state.releases[0].retired.as_ref(), Some(&why));
    db.set_retired(pkg, "1.0.0", None).await.expect("unretire");
    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("state")
        .expect("package");
    assert_eq!(state.releases[0].retired, None);
    assert!(db.set_retired(pkg, "2.0.0", Some(&why)).await.is_err());
}

pub async fn seller_keys_keep_the_first_one_stored(db: &Db) {
    let acme = seller(db, "acme").await;
    assert_eq!(db.seller_key(acme.id, "hex_rsa").await.expect("read"), None);
    let first = StoredKey {
        secret: "sealed-1".into(),
        public: "public-1".into(),
    };
    let second = StoredKey {
        secret: "sealed-2".into(),
        public: "public-2".into(),
    };
    assert_eq!(
        db.insert_seller_key(acme.id, "hex_rsa", &first)
            .await
            .expect("insert"),
        first
    );
    assert_eq!(
        db.insert_seller_key(acme.id, "hex_rsa", &second)
            .await
            .expect("insert"),
        first,
        "a second writer gets the stored key"
    );
    let other = seller(db, "globex").await;
    assert_eq!(
        db.seller_key(other.id, "hex_rsa").await.expect("read"),
        None
    );
}
