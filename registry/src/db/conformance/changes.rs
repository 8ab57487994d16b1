//! The change log: which writes log which change, reading it in order, pruning it, and a
//! follower that must see every committed change.

use std::time::Duration;

use crate::change::Change;
use crate::db::Db;
use crate::domain::Ecosystem;
use crate::time::Timestamp;

use super::assertions::{all_seqs, logged};
use super::fixtures::{
    at, download, grant, npm, org, package_id, product, release, seat, seller, token,
};

pub async fn every_visible_write_logs_its_change(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;

    let (pro, changes) = logged(db, db.create_product(acme.id, "pro", "Pro", &[npm("ui")])).await;
    let pro = pro.expect("create product");
    assert_eq!(changes, [Change::All], "create_product");

    let (_, changes) = logged(db, release(&acme, "ui", "1.0.0").publish(db, at(0))).await;
    let ui = package_id(db, &acme, &npm("ui")).await;
    assert_eq!(changes, [Change::Package(ui)], "publish_release");

    // A publish that creates its package logs that new package.
    let (_, changes) = logged(db, release(&acme, "solo", "1.0.0").publish(db, at(1))).await;
    let solo = package_id(db, &acme, &npm("solo")).await;
    assert_eq!(changes, [Change::Package(solo)], "publish of a new package");

    let (r, changes) = logged(db, db.set_dist_tag(ui, "beta", "1.0.0")).await;
    r.expect("set tag");
    assert_eq!(changes, [Change::Package(ui)], "set_dist_tag");

    let (r, changes) = logged(db, db.remove_dist_tag(ui, "beta")).await;
    assert!(r.expect("remove tag"));
    assert_eq!(changes, [Change::Package(ui)], "remove_dist_tag");

    let (_, changes) = logged(db, grant(db, &initech, &pro)).await;
    assert_eq!(changes, [Change::Org(initech.id)], "grant");

    let (r, changes) = logged(db, db.end_grants(initech.id, pro.id, at(5))).await;
    assert_eq!(r.expect("end grants"), 1);
    assert_eq!(changes, [Change::Org(initech.id)], "end_grants");

    let (bob, changes) = logged(db, seat(db, &initech, "bob@initech.test")).await;
    assert_eq!(changes, [Change::Tokens], "add_seat");

    let (t, changes) = logged(db, token("tg_bob", &acme).seat(&bob).create(db)).await;
    assert_eq!(changes, [Change::Tokens], "create_token");

    let (r, changes) = logged(db, db.revoke_token(&t, at(6))).await;
    r.expect("revoke token");
    assert_eq!(changes, [Change::Tokens], "revoke_token");

    let (r, changes) = logged(db, db.revoke_seat(initech.id, "bob@initech.test", at(7))).await;
    r.expect("revoke seat");
    assert_eq!(changes, [Change::Tokens], "revoke_seat");

    // Downloads are the hot path and change nothing anyone sees: no cache may be dropped.
    let v1 = db
        .package_state(acme.id, Ecosystem::Npm, "ui")
        .await
        .expect("state")
        .expect("exists")
        .releases[0]
        .clone();
    let (r, changes) = logged(
        db,
        db.record_download(&download(&v1, &initech, "tg_bob", at(8))),
    )
    .await;
    r.expect("record download");
    assert_eq!(changes, [], "record_download");
}

pub async fn changes_are_read_in_seq_order(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    let before = db.last_change().await.expect("last change");

    let pro = product(db, &acme, "pro", &[npm("ui")]).await;
    let ui = package_id(db, &acme, &npm("ui")).await;
    release(&acme, "ui", "1.0.0").publish(db, at(0)).await;
    grant(db, &initech, &pro).await;
    seat(db, &initech, "bob@initech.test").await;
    db.set_dist_tag(ui, "beta", "1.0.0").await.expect("tag");

    let rows = db.changes_since(before, 100).await.expect("changes");
    let changes: Vec<Change> = rows.iter().map(|(_, c)| *c).collect();
    assert_eq!(
        changes,
        [
            Change::All,
            Change::Package(ui),
            Change::Org(initech.id),
            Change::Tokens,
            Change::Package(ui),
        ]
    );
    let seqs: Vec<i64> = rows.iter().map(|(seq, _)| *seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "seqs increase: {seqs:?}"
    );
    assert!(seqs[0] > before);
    assert_eq!(db.last_change().await.expect("last"), seqs[4]);

    // `limit` keeps the oldest; reading on from the last one read gives the rest.
    let page = db.changes_since(before, 2).await.expect("first page");
    assert_eq!(page, rows[..2]);
    let rest = db.changes_since(page[1].0, 100).await.expect("rest");
    assert_eq!(rest, rows[2..]);
    assert!(
        db.changes_since(seqs[4], 100)
            .await
            .expect("none")
            .is_empty()
    );
}

pub async fn prune_changes_deletes_only_old_rows(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    product(db, &acme, "pro", &[npm("ui")]).await;
    seat(db, &initech, "a@initech.test").await;
    let old = all_seqs(db).await;
    assert_eq!(old.len(), 2);

    // Change-log times are wall-clock milliseconds: leave a gap on both sides of the cut.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let cut = Timestamp::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    seat(db, &initech, "b@initech.test").await;
    seat(db, &initech, "c@initech.test").await;
    let all = all_seqs(db).await;
    let recent = all[old.len()..].to_vec();

    assert_eq!(db.prune_changes(cut).await.expect("prune"), 2);
    assert_eq!(all_seqs(db).await, recent, "only the old rows are gone");
    assert_eq!(db.last_change().await.expect("last"), recent[1]);
    assert_eq!(
        db.prune_changes(cut).await.expect("prune again"),
        0,
        "nothing older is left"
    );

    // Even with every row pruned, later changes get higher seqs (followers hold old cursors).
    assert_eq!(
        db.prune_changes(Timestamp(Timestamp::now().0 + 1_000))
            .await
            .expect("prune all"),
        2
    );
    seat(db, &initech, "d@initech.test").await;
    let after = all_seqs(db).await;
    assert_eq!(after.len(), 1);
    assert!(
        after[0] > recent[1],
        "seq {} reused after pruning",
        after[0]
    );
}

/// A follower reads the log the way `Registry::catch_up` does: `changes_since(cursor)`, then the
/// cursor moves to the last seq read. It must see every change eventually, even while many
/// writers commit at once; a seq that becomes visible after a higher one was read is lost.
pub async fn a_follower_sees_every_committed_change(db: &Db) {
    const WRITERS: usize = 16;
    const WRITES_EACH: usize = 25;
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    let start = db.last_change().await.expect("last change");

    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let follower = tokio::spawn({
        let db = db.clone();
        let done = done.clone();
        async move {
            let mut cursor = start;
            let mut seen = Vec::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                for (seq, _) in db.changes_since(cursor, 1_000).await.expect("follow") {
                    seen.push(seq);
                    cursor = seq;
                }
                if finished {
                    return seen;
                }
            }
        }
    });
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let db = db.clone();
            let org = initech.id;
            tokio::spawn(async move {
                for i in 0..WRITES_EACH {
                    db.add_seat(org, &format!("w{w}-{i}@initech.test"), "member")
                        .await
                        .expect("add seat");
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer task");
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let seen = follower.await.expect("follower task");

    let all: Vec<i64> = db
        .changes_since(start, 10_000)
        .await
        .expect("all changes")
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    assert_eq!(all.len(), WRITERS * WRITES_EACH);
    let missed: Vec<i64> = all
        .iter()
        .copied()
        .filter(|seq| !seen.contains(seq))
        .collect();
    assert!(
        missed.is_empty(),
        "the follower never saw {} of {} changes (seqs {missed:?}): they committed after a \
         higher seq was read",
        missed.len(),
        all.len()
    );
}
