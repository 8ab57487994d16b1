//! The database port: one method per unit of work (never table CRUD), transactions inside
//! each backend. `Db` is an enum chosen by URL; PostgreSQL becomes a second variant.

mod sqlite;

pub use sqlite::SqliteDb;

use crate::Result;
use crate::change::Change;
use crate::domain::{
    DownloadEvent, Ecosystem, Entitlement, Grant, NewRelease, NewToken, Org, PackageRef,
    PackageState, Product, Release, Seat, Seller, TokenRecord, VersionRule,
};
use crate::ids::{OrgId, PackageId, ProductId, ReleaseId, SellerId, TokenId};
use crate::time::Timestamp;

/// The database, chosen by `TOLLGATE_DATABASE_URL` (a path or `sqlite:` URL means SQLite).
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqliteDb),
}

impl Db {
    /// Opens the database at `url` and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        Ok(Self::Sqlite(SqliteDb::connect(url).await?))
    }
}

/// Forwards each port method to the backend in use.
macro_rules! port {
    ($( $(#[$m:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        impl Db {$(
            $(#[$m])*
            pub async fn $name(&self $(, $arg: $ty)*) -> Result<$ret> {
                match self {
                    Self::Sqlite(db) => db.$name($($arg),*).await,
                }
            }
        )*}
    };
}

port! {
    fn create_seller(&self, slug: &str, name: &str, email: &str) -> Seller;
    /// `Error::NotFound` if no seller has this slug.
    fn seller(&self, slug: &str) -> Seller;
    fn sellers(&self) -> Vec<Seller>;
    /// Creates the product and names its packages (creating package rows that do not exist yet).
    fn create_product(&self, seller: SellerId, slug: &str, name: &str, packages: &[PackageRef]) -> Product;
    fn product(&self, seller: SellerId, slug: &str) -> Product;
    fn products(&self, seller: SellerId) -> Vec<Product>;
    fn create_org(&self, seller: SellerId, slug: &str, name: &str) -> Org;
    fn org(&self, seller: SellerId, slug: &str) -> Org;
    fn orgs(&self, seller: SellerId) -> Vec<Org>;
    fn grant(&self, org: OrgId, product: ProductId, starts_at: Timestamp, ends_at: Option<Timestamp>, rule: VersionRule, source: &str) -> Entitlement;
    /// Ends every open entitlement of `org` to `product` at `at`; returns how many.
    fn end_grants(&self, org: OrgId, product: ProductId, at: Timestamp) -> u64;
    fn entitlements(&self, org: OrgId) -> Vec<Entitlement>;
    /// Adds a seat, or re-activates a revoked one with the same e-mail.
    fn add_seat(&self, org: OrgId, email: &str, role: &str) -> Seat;
    /// Revokes the seat and every token it holds, in one transaction.
    fn revoke_seat(&self, org: OrgId, email: &str, at: Timestamp) -> Seat;
    fn seats(&self, org: OrgId) -> Vec<Seat>;
    fn create_token(&self, token: &NewToken) -> ();
    fn revoke_token(&self, id: &TokenId, at: Timestamp) -> TokenRecord;
    /// The token with this public id, whatever its state.
    fn token(&self, id: &str) -> Option<TokenRecord>;
    fn tokens(&self, seller: Option<SellerId>) -> Vec<TokenRecord>;
    fn package_state(&self, seller: SellerId, ecosystem: Ecosystem, name: &str) -> Option<PackageState>;
    /// The ecosystem metadata of every release of `package`, for rendering listings.
    fn release_metadata(&self, package: PackageId) -> Vec<(ReleaseId, serde_json::Value)>;
    /// The entitlements of `org` to every product that contains `package`.
    fn grants_for(&self, org: OrgId, package: PackageId) -> Vec<Grant>;
    /// Records a release whose blob is already durable; `Error::Conflict` if the version exists.
    fn publish_release(&self, release: &NewRelease, at: Timestamp) -> Release;
    fn set_dist_tag(&self, package: PackageId, tag: &str, version: &str) -> ();
    fn remove_dist_tag(&self, package: PackageId, tag: &str) -> bool;
    fn record_download(&self, event: &DownloadEvent) -> ();
    fn downloads(&self, seller: SellerId, limit: i64) -> Vec<DownloadEvent>;
    /// The sequence number of the last change (0 if none).
    fn last_change(&self) -> i64;
    /// Changes after `seq`, oldest first, at most `limit` (see `change`).
    fn changes_since(&self, seq: i64, limit: i64) -> Vec<(i64, Change)>;
    fn prune_changes(&self, before: Timestamp) -> u64;
}
