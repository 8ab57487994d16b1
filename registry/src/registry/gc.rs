//! `tollgate gc`: removes blobs no release references. A crash between storing a blob and
//! recording its release leaves such an orphan; nothing else does.

use std::time::Duration;

use serde::Serialize;

use super::Registry;
use crate::Result;
use crate::time::Timestamp;

/// What a collection did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GcReport {
    /// Orphan blobs deleted.
    pub removed: u64,
    /// Blobs some release references.
    pub kept: u64,
    /// Orphans younger than the grace period, left for a later run.
    pub too_young: u64,
}

impl Registry {
    /// Deletes blobs that no release references and that are older than `grace`, so a publish
    /// in flight (blob stored, release not yet recorded) is never touched.
    pub async fn collect_garbage(&self, grace: Duration) -> Result<GcReport> {
        let cutoff = Timestamp(Timestamp::now().0 - grace.as_millis() as i64);
        // List first, read references second: a blob referenced in between is then in the set.
        let blobs = self.0.store.list_blobs().await?;
        let referenced = self.0.db.referenced_blobs().await?;
        let mut report = GcReport::default();
        for (sha256, modified) in blobs {
            if referenced.contains(&sha256) {
                report.kept += 1;
            } else if modified <= cutoff {
                self.0.store.delete_blob(&sha256).await?;
                tracing::info!(%sha256, "removed an orphan blob");
                report.removed += 1;
            } else {
                report.too_young += 1;
            }
        }
        Ok(report)
    }
}
