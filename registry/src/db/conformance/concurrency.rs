//! Concurrent publishes: distinct versions all land, one version has exactly one winner.

use crate::Error;
use crate::change::Change;
use crate::db::Db;
use crate::domain::Ecosystem;

use super::assertions::versions;
use super::fixtures::{at, release, seller};

pub async fn concurrent_publishes_of_distinct_versions_all_succeed(db: &Db) {
    const N: usize = 20;
    let acme = seller(db, "acme").await;
    let before = db.last_change().await.expect("last change");
    // The package does not exist yet: the publishers also race to create it.
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let db = db.clone();
            let new = release(&acme, "@acme/ui", &format!("1.0.{i}"))
                .tag("latest")
                .build();
            tokio::spawn(async move { db.publish_release(&new, at(i as i64)).await })
        })
        .collect();
    let mut failures = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        if let Err(e) = task.await.expect("publish task") {
            failures.push(format!("1.0.{i}: {e}"));
        }
    }
    assert!(failures.is_empty(), "failed publishes: {failures:#?}");

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("package exists");
    let expected: Vec<String> = (0..N).map(|i| format!("1.0.{i}")).collect();
    assert_eq!(versions(&state.releases), expected);
    assert_eq!(state.dist_tags.len(), 1, "one latest tag");
    assert!(expected.contains(&state.dist_tags[0].1));
    let changes = db.changes_since(before, 100).await.expect("changes");
    assert_eq!(changes.len(), N);
    assert!(changes.iter().all(|(_, c)| *c == Change::Package(state.id)));
}

pub async fn concurrent_publishes_of_one_version_yield_one_winner(db: &Db) {
    const N: usize = 10;
    let acme = seller(db, "acme").await;
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let db = db.clone();
            let new = release(&acme, "@acme/ui", "1.0.0")
                .blob(&format!("contender {i}"))
                .build();
            tokio::spawn(async move { db.publish_release(&new, at(i as i64)).await })
        })
        .collect();
    let mut winners = Vec::new();
    let mut unexpected = Vec::new();
    for task in tasks {
        match task.await.expect("publish task") {
            Ok(release) => winners.push(release),
            Err(Error::Conflict(text)) => assert_eq!(
                text,
                "cannot publish over previously published version 1.0.0"
            ),
            Err(e) => unexpected.push(e.to_string()),
        }
    }
    assert!(unexpected.is_empty(), "not a Conflict: {unexpected:#?}");
    assert_eq!(winners.len(), 1, "exactly one publish wins");

    let state = db
        .package_state(acme.id, Ecosystem::Npm, "@acme/ui")
        .await
        .expect("package state")
        .expect("package exists");
    assert_eq!(state.releases.len(), 1);
    assert_eq!(state.releases[0].id, winners[0].id);
    assert_eq!(state.releases[0].blob_sha256, winners[0].blob_sha256);
}
