//! Assertions on port results, and the reads that tests compare against.

use std::fmt::Debug;
use std::future::Future;

use crate::Error;
use crate::change::Change;
use crate::db::Db;
use crate::domain::Release;

#[track_caller]
pub fn assert_conflict<T: Debug>(result: crate::Result<T>, expected: &str) {
    match result {
        Err(Error::Conflict(text)) => assert_eq!(text, expected),
        other => panic!("expected Conflict({expected:?}), got {other:?}"),
    }
}

#[track_caller]
pub fn assert_not_found<T: Debug>(result: crate::Result<T>, expected: &str) {
    match result {
        Err(e @ Error::NotFound(_)) => assert_eq!(e.to_string(), expected),
        other => panic!("expected NotFound ({expected:?}), got {other:?}"),
    }
}

/// Runs `write` and returns its output with the changes it appended to the change log.
pub async fn logged<T>(db: &Db, write: impl Future<Output = T>) -> (T, Vec<Change>) {
    let before = db.last_change().await.expect("last change");
    let output = write.await;
    let changes = db
        .changes_since(before, 100)
        .await
        .expect("changes since")
        .into_iter()
        .map(|(_, change)| change)
        .collect();
    (output, changes)
}

pub async fn all_seqs(db: &Db) -> Vec<i64> {
    db.changes_since(0, 10_000)
        .await
        .expect("changes since 0")
        .into_iter()
        .map(|(seq, _)| seq)
        .collect()
}

pub fn versions(releases: &[Release]) -> Vec<&str> {
    releases.iter().map(|r| r.version.as_str()).collect()
}

pub fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(tag, version)| ((*tag).to_owned(), (*version).to_owned()))
        .collect()
}
