//! Reads the protocols need fresh from the database, beside the cached ones in `mod.rs`.

use super::Registry;
use crate::Result;
use crate::domain::{Ecosystem, PackageState};
use crate::ids::{PackageId, ReleaseId, SellerId};

impl Registry {
    /// Each release's stored metadata (the protocol's own JSON), read when a listing is rendered.
    pub async fn release_metadata(
        &self,
        package: PackageId,
    ) -> Result<Vec<(ReleaseId, serde_json::Value)>> {
        self.db().release_metadata(package).await
    }

    /// A package with its releases, from the database rather than the cache (a publish deciding
    /// on what exists).
    pub async fn package_state(
        &self,
        seller: SellerId,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<Option<PackageState>> {
        self.db().package_state(seller, ecosystem, name).await
    }

    /// The seller's package names in `ecosystem`, from the database rather than the cache.
    pub async fn stored_package_names(
        &self,
        seller: SellerId,
        ecosystem: Ecosystem,
    ) -> Result<Vec<String>> {
        self.db().package_names(seller, ecosystem).await
    }
}
