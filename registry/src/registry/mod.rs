//! [`Registry`]: what protocols call. It authenticates tokens, applies the access rule with
//! cached lookups, runs the publish pipeline and records downloads. Caches follow the database's
//! change log (see `changes`), so a revoke made anywhere is seen within one poll period.

mod billing;
mod caller;
mod changes;
mod database;
pub mod download;
pub mod gc;
mod last_use;
mod links;
mod orgs;
mod products;
mod reads;
mod respond;
mod seats;
mod sellers;
#[cfg(test)]
mod tests;
mod tokens;

use std::sync::Arc;
use std::sync::atomic::AtomicI64;

use crate::access::{self, Access};
use crate::cache::{Cache, Generation};
use crate::db::Db;
use crate::domain::{
    DownloadEvent, Ecosystem, Grant, NewRelease, PackageRef, PackageState, Release, Retirement,
    Seller, TokenKind, TokenRecord,
};
use crate::ids::{OrgId, PackageId, SellerId};
use crate::metrics::CoreMetrics;
use crate::store::Store;
use crate::time::Timestamp;
use crate::token;
use crate::{Error, Result};

pub use crate::change::{CHANGE_POLL, Listener};
pub use caller::{AuthError, AuthOrDbError, Caller};

const CACHE_CAP: usize = 100_000;

#[derive(Clone)]
pub struct Registry(Arc<Inner>);

struct Inner {
    db: Db,
    store: Store,
    options: Options,
    generation: Generation,
    metrics: CoreMetrics,
    sellers: Cache<String, Arc<Seller>>,
    tokens: Cache<String, Arc<TokenRecord>>,
    /// Packages that exist (a miss is asked of the database every time, never cached).
    packages: Cache<(SellerId, Ecosystem, String), Arc<PackageState>>,
    grants: Cache<(OrgId, PackageId), Arc<Vec<Grant>>>,
    /// A seller's package names in one ecosystem (for whole-repository listings).
    names: Cache<(SellerId, Ecosystem), Arc<Vec<String>>>,
    /// The last change-log entry applied to the caches.
    applied: AtomicI64,
    catching_up: tokio::sync::Mutex<()>,
    listeners: std::sync::RwLock<Vec<Listener>>,
    /// Tokens' last uses noted and not written yet (`last_use`).
    last_use: crate::last_use::LastUses,
}

/// Settings of the core that come from the server's configuration.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Answer downloads with a presigned store URL valid this long, where the store can
    /// (S3 with `TOLLGATE_S3_PRESIGN=1`); `None` streams every download through the server.
    pub presign: Option<std::time::Duration>,
}

/// How a download's bytes reach the client.
pub enum Delivery {
    /// Streamed through this server.
    Stream(crate::store::BlobStream),
    /// Fetched by the client from this short-lived URL (a redirect).
    Redirect(String),
}

/// What the access rule says about one package for one caller.
#[derive(Debug, Clone)]
pub struct PackageAccess {
    /// `None` when the package does not exist (then `access` is `Hidden`).
    pub package: Option<Arc<PackageState>>,
    pub access: Access,
    /// A warning to show with a successful answer (payment failed, grace period running).
    pub notice: Option<String>,
}

impl Registry {
    /// A registry whose caches start in sync with the database's change log.
    pub async fn open(db: Db, store: Store, options: Options) -> Result<Self> {
        let generation = Generation::default();
        let metrics = CoreMetrics::default();
        let applied = db.last_change().await?;
        Ok(Self(Arc::new(Inner {
            sellers: Cache::new(generation.clone(), CACHE_CAP, metrics.cache("sellers")),
            tokens: Cache::new(generation.clone(), CACHE_CAP, metrics.cache("tokens")),
            packages: Cache::new(generation.clone(), CACHE_CAP, metrics.cache("packages")),
            grants: Cache::new(generation.clone(), CACHE_CAP, metrics.cache("grants")),
            names: Cache::new(
                generation.clone(),
                CACHE_CAP,
                metrics.cache("package_names"),
            ),
            metrics,
            applied: AtomicI64::new(applied),
            catching_up: tokio::sync::Mutex::new(()),
            listeners: std::sync::RwLock::new(Vec::new()),
            last_use: Default::default(),
            db,
            store,
            options,
            generation,
        })))
    }

    pub(crate) fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The core's counters; protocol crates add their caches' counters here.
    pub fn metrics(&self) -> &CoreMetrics {
        &self.0.metrics
    }

    /// The generation protocol crates build their own caches on (see `cache`).
    pub fn generation(&self) -> &Generation {
        &self.0.generation
    }

    /// The seller whose URLs start with `slug`. A string that cannot be a slug is not found
    /// without a query.
    pub async fn seller(&self, slug: &str) -> Result<Arc<Seller>> {
        if !crate::domain::is_slug(slug) {
            return Err(Error::NotFound(format!("seller {slug:.64}")));
        }
        self.0
            .sellers
            .get_or_try_insert(slug.to_owned(), || async {
                self.0.db.seller(slug).await.map(Arc::new)
            })
            .await
    }

    /// Checks a presented token against `seller`. A token of another seller is `Unknown` here:
    /// nothing of one seller is visible through another's URLs.
    pub async fn authenticate(
        &self,
        seller: &Seller,
        presented: Option<&str>,
    ) -> Result<Caller, AuthOrDbError> {
        let presented = presented.ok_or(AuthError::Missing)?;
        let parsed = token::parse(presented.trim()).ok_or(AuthError::Unknown)?;
        let record = match self.0.tokens.get(&parsed.id.to_owned()) {
            Some(r) => r,
            None => {
                let at = self.0.tokens.generation();
                let Some(found) = self.0.db.token(parsed.id).await? else {
                    return Err(AuthError::Unknown.into());
                };
                let found = Arc::new(found);
                self.0
                    .tokens
                    .insert(parsed.id.to_owned(), found.clone(), at);
                found
            }
        };
        if !parsed.matches(&record.secret_hash) || record.seller_id != seller.id {
            return Err(AuthError::Unknown.into());
        }
        if let Some(why) = access::revocation(&record) {
            return Err(AuthError::Revoked(why).into());
        }
        Ok(Caller(record))
    }

    /// The names of `seller`'s packages in `ecosystem`, sorted; cached until a package changes.
    pub async fn package_names(
        &self,
        seller: SellerId,
        ecosystem: Ecosystem,
    ) -> Result<Arc<Vec<String>>> {
        self.0
            .names
            .get_or_try_insert((seller, ecosystem), || async {
                self.0
                    .db
                    .package_names(seller, ecosystem)
                    .await
                    .map(Arc::new)
            })
            .await
    }

    /// Applies the access rule to one package for `caller`.
    pub(crate) async fn package_access(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<PackageAccess> {
        let token = &caller.0;
        // Protocols check names by their ecosystem's rules first; this bound holds whatever they
        // do. "No such package" is never cached, so made-up names cannot fill the cache.
        let package = if name.is_empty() || name.len() > crate::domain::MAX_PACKAGE_NAME {
            None
        } else {
            let key = (token.seller_id, ecosystem, name.to_owned());
            match self.0.packages.get(&key) {
                Some(found) => Some(found),
                None => {
                    let at = self.0.packages.generation();
                    let found = self
                        .0
                        .db
                        .package_state(token.seller_id, ecosystem, name)
                        .await?
                        .map(Arc::new);
                    if let Some(found) = &found {
                        self.0.packages.insert(key, found.clone(), at);
                    }
                    found
                }
            }
        };
        let Some(package) = package else {
            return Ok(PackageAccess {
                package: None,
                access: Access::Hidden,
                notice: None,
            });
        };
        let grants = match token.org_id {
            Some(org) if token.kind != TokenKind::Publish => {
                self.0
                    .grants
                    .get_or_try_insert((org, package.id), || async {
                        self.0.db.grants_for(org, package.id).await.map(Arc::new)
                    })
                    .await?
            }
            _ => Arc::new(Vec::new()),
        };
        let now = Timestamp::now();
        let access = access::evaluate(token, (ecosystem, name), &grants, now);
        Ok(PackageAccess {
            package: Some(package),
            notice: access::notice(&grants, now),
            access,
        })
    }

    /// May `caller` publish `package`? See [`crate::upload::check_publish`].
    pub fn check_publish(&self, caller: &Caller, package: &PackageRef) -> Result<()> {
        crate::upload::check_publish(caller, package)
    }

    /// The publish pipeline's last two steps: the blob is stored (create-only, by sha256), then
    /// one transaction records the release and its tags. A version that exists is refused
    /// before and (racing) during the transaction, so it never points at other bytes.
    pub async fn publish(
        &self,
        caller: &Caller,
        release: NewRelease,
        bytes: &[u8],
    ) -> Result<Release> {
        self.publish_replacing(caller, release, bytes, None).await
    }

    /// `publish`, except that with `replace_since` a release of the same version published at
    /// or after that instant is replaced (reverted and published again in one transaction).
    pub async fn publish_replacing(
        &self,
        caller: &Caller,
        release: NewRelease,
        bytes: &[u8],
        replace_since: Option<Timestamp>,
    ) -> Result<Release> {
        let package = PackageRef {
            ecosystem: release.ecosystem,
            name: release.package.clone(),
        };
        self.check_publish(caller, &package)?;
        if release.seller_id != caller.0.seller_id {
            return Err(Error::Forbidden(
                "this token belongs to another seller".into(),
            ));
        }
        let existing = self
            .0
            .db
            .package_state(release.seller_id, release.ecosystem, &release.package)
            .await?;
        if let Some(old) = existing.as_ref().and_then(|p| p.release(&release.version))
            && replace_since.is_none_or(|since| old.published_at < since)
        {
            return Err(Error::Conflict(match replace_since {
                None => format!(
                    "cannot publish over previously published version {}",
                    release.version
                ),
                Some(_) => format!(
                    "version {} was published too long ago to be replaced",
                    release.version
                ),
            }));
        }
        let blob = self.0.store.put_bytes(bytes).await?;
        if blob.sha256 != release.blob_sha256 {
            return Err(Error::Invalid(
                "the stored bytes do not match their digest".into(),
            ));
        }
        let recorded = self
            .0
            .db
            .publish_release_replacing(&release, Timestamp::now(), replace_since)
            .await?;
        self.catch_up().await;
        Ok(recorded)
    }

    /// Yanks (or un-yanks) a version: hidden from new resolutions, still downloadable.
    pub async fn set_yanked(
        &self,
        caller: &Caller,
        package: &PackageRef,
        version: &str,
        yanked: bool,
    ) -> Result<()> {
        let state = self.own_package(caller, package).await?;
        self.0.db.set_yanked(state.id, version, yanked).await?;
        self.catch_up().await;
        Ok(())
    }

    /// Reverts a release published at or after `since` (see `Db::revert_release`).
    pub async fn revert(
        &self,
        caller: &Caller,
        package: &PackageRef,
        version: &str,
        since: Timestamp,
    ) -> Result<()> {
        let state = self.own_package(caller, package).await?;
        self.0
            .db
            .revert_release(state.id, version, since, Timestamp::now())
            .await?;
        self.catch_up().await;
        Ok(())
    }

    /// Retires (or with `None` un-retires) a release: listed with a warning, still installable.
    pub async fn set_retired(
        &self,
        caller: &Caller,
        package: &PackageRef,
        version: &str,
        retirement: Option<&Retirement>,
    ) -> Result<()> {
        let state = self.own_package(caller, package).await?;
        self.0.db.set_retired(state.id, version, retirement).await?;
        self.catch_up().await;
        Ok(())
    }

    /// A package `caller` may change (a publish token in scope), fresh from the database.
    async fn own_package(&self, caller: &Caller, package: &PackageRef) -> Result<PackageState> {
        self.check_publish(caller, package)?;
        self.0
            .db
            .package_state(caller.0.seller_id, package.ecosystem, &package.name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("package {}", package.name)))
    }

    pub async fn set_dist_tag(&self, package: PackageId, tag: &str, version: &str) -> Result<()> {
        self.0.db.set_dist_tag(package, tag, version).await?;
        self.catch_up().await;
        Ok(())
    }

    pub async fn remove_dist_tag(&self, package: PackageId, tag: &str) -> Result<bool> {
        let removed = self.0.db.remove_dist_tag(package, tag).await?;
        self.catch_up().await;
        Ok(removed)
    }

    /// The bytes of `release`: a presigned redirect when configured and the store offers one,
    /// else a stream (never read whole into memory).
    pub(crate) async fn deliver(&self, release: &Release) -> Result<Delivery> {
        if let Some(ttl) = self.0.options.presign
            && let Some(url) = self
                .0
                .store
                .presigned_get(&release.blob_sha256, ttl)
                .await?
        {
            return Ok(Delivery::Redirect(url));
        }
        Ok(Delivery::Stream(
            self.0.store.open(&release.blob_sha256).await?,
        ))
    }

    /// Records who fetched `release`. Failures are logged, never shown to the client. Protocols
    /// never call it: [`Registry::fetch`] records every download it delivers; it is public for
    /// fixtures that need download history without the bytes.
    pub async fn record_download(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        release: &Release,
        package: &str,
        ip: Option<String>,
    ) {
        let token = &caller.0;
        let event = DownloadEvent {
            seller_id: token.seller_id,
            release_id: release.id,
            package: package.to_owned(),
            version: release.version.clone(),
            org_id: token.org_id,
            seat_id: token.seat_id,
            token_id: token.id.clone(),
            at: Timestamp::now(),
            client_ip: ip,
        };
        self.0
            .metrics
            .download(ecosystem.as_str(), release.size.max(0) as u64);
        if let Err(e) = self.0.db.record_download(&event).await {
            tracing::error!(error = %e, release = %release.id, "could not record a download");
        }
    }
}
