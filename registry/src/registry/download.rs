//! The one read path: every protocol asks here what a caller may list of a package and whether
//! it may download a release, then fetches the bytes here (which records the download). A
//! protocol only maps its URL onto these calls and the answer onto its client's envelope.

use std::sync::Arc;

use super::{Caller, Delivery, Registry};
use crate::Result;
use crate::access::{self, Access, Visibility};
use crate::domain::{Ecosystem, PackageState, Release};
use crate::yanked;

/// Why a read is refused, for the protocol to say in its client's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The token or its seat was revoked after it authenticated: the text says which.
    Unauthenticated(String),
    /// Nothing of the package is visible to the caller (no such package, or none of the
    /// caller's licenses covers it): answer "not found", never revealing that it exists.
    Hidden,
    /// The caller's license ended and does not cover this (the text gives the product, the org,
    /// the date and what perpetual fallback keeps).
    Lapsed(String),
    /// The caller may list the release but its token may not download it (a bot token of scope
    /// `metadata`): every protocol answers 403 with the text, which names the token's scope and
    /// what to use instead.
    Forbidden(String),
    /// The package is visible but this version is not there (or is yanked where yanked
    /// releases do not download). `lapsed` is the license's end, when one explains the gap.
    NoSuchVersion { lapsed: Option<String> },
}

/// A package the caller may list something of.
#[derive(Debug, Clone)]
pub struct Readable {
    pub package: Arc<PackageState>,
    pub ecosystem: Ecosystem,
    pub visibility: Visibility,
    /// The license's end, when the caller sees only what perpetual fallback keeps.
    pub lapsed: Option<String>,
    /// What to print with a successful answer: the lapse, or a live grant's warning.
    pub notice: Option<String>,
}

impl Readable {
    /// The releases a listing shows, oldest first (see [`crate::yanked`]).
    pub fn listed(&self) -> impl Iterator<Item = &Release> {
        yanked::listed(&self.package, self.ecosystem, self.visibility)
    }

    /// The refusal for a listing that turned out empty (every release is newer than the
    /// fallback's cutoff, or yanked).
    pub fn refusal_when_empty(&self) -> Refusal {
        match &self.lapsed {
            Some(reason) => Refusal::Lapsed(reason.clone()),
            None => Refusal::Hidden,
        }
    }
}

/// Every package of one ecosystem the caller may list something of (whole-repository
/// listings: Hex `names`/`versions`, RubyGems `/versions`, `specs`).
#[derive(Debug, Clone, Default)]
pub struct Shelf {
    /// By name, as [`Registry::package_names`] sorts them.
    pub readable: Vec<Readable>,
    /// The first ended license met, to explain an answer that lists nothing.
    pub lapsed: Option<String>,
}

/// A release the caller may download, decided but not yet fetched (a protocol may still answer
/// 304 from its checksum without a download being recorded).
#[derive(Debug, Clone)]
pub struct Allowed {
    pub package: Arc<PackageState>,
    pub release: Release,
    pub ecosystem: Ecosystem,
}

/// What a caller asks of a release: its bytes, or only what describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Archive,
    Metadata,
}

/// A download under way: the release and how its bytes reach the client.
pub struct Download {
    pub release: Release,
    pub delivery: Delivery,
}

impl Registry {
    /// What `caller` may list of `name` in `ecosystem`. The name must already pass the
    /// ecosystem's own rules (checked before any lookup by the protocol).
    pub async fn readable(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        name: &str,
    ) -> Result<Result<Readable, Refusal>> {
        let pa = self.package_access(caller, ecosystem, name).await?;
        let lapsed = match &pa.access {
            Access::Lapsed { reason, .. } => Some(reason.clone()),
            _ => None,
        };
        let (Some(package), Some(visibility)) = (pa.package, pa.access.visibility()) else {
            return Ok(Err(match pa.access {
                Access::Unauthenticated(why) => Refusal::Unauthenticated(why),
                Access::Lapsed { reason, .. } => Refusal::Lapsed(reason),
                Access::Hidden | Access::Granted(_) => Refusal::Hidden,
            }));
        };
        Ok(Ok(Readable {
            package,
            ecosystem,
            visibility,
            notice: lapsed.clone().or(pa.notice),
            lapsed,
        }))
    }

    /// Every package of the caller's seller in `ecosystem` that `caller` may list something of.
    pub async fn readable_all(&self, caller: &Caller, ecosystem: Ecosystem) -> Result<Shelf> {
        let mut shelf = Shelf::default();
        let names = self.package_names(caller.0.seller_id, ecosystem).await?;
        for name in names.iter() {
            match self.readable(caller, ecosystem, name).await? {
                Ok(readable) => {
                    if shelf.lapsed.is_none() {
                        shelf.lapsed.clone_from(&readable.lapsed);
                    }
                    shelf.readable.push(readable);
                }
                Err(Refusal::Lapsed(reason)) => {
                    shelf.lapsed.get_or_insert(reason);
                }
                Err(_) => {}
            }
        }
        Ok(shelf)
    }

    /// May `caller` download `version` of `name`? Decides with the access rule, the yank
    /// table and the token's scope (a metadata-only token never downloads an archive); nothing
    /// is recorded until [`Registry::fetch`].
    pub async fn downloadable(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
    ) -> Result<Result<Allowed, Refusal>> {
        self.release_for(caller, ecosystem, name, version, Want::Archive)
            .await
    }

    /// The release `version` of `name` whose metadata `caller` may read (a RubyGems gemspec,
    /// Hex's release API): [`Registry::downloadable`] without the scope check, so a
    /// metadata-only token reads it too.
    pub async fn describable(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
    ) -> Result<Result<Allowed, Refusal>> {
        self.release_for(caller, ecosystem, name, version, Want::Metadata)
            .await
    }

    async fn release_for(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
        want: Want,
    ) -> Result<Result<Allowed, Refusal>> {
        let readable = match self.readable(caller, ecosystem, name).await? {
            Ok(readable) => readable,
            Err(refusal) => return Ok(Err(refusal)),
        };
        let release = readable
            .package
            .release(version)
            .filter(|r| yanked::downloadable(r, ecosystem));
        let Some(release) = release else {
            return Ok(Err(Refusal::NoSuchVersion {
                lapsed: readable.lapsed,
            }));
        };
        if !readable.visibility.allows(release.published_at) {
            return Ok(Err(readable.refusal_when_empty()));
        }
        // Only once the caller may see the release: a metadata-only token learns nothing here
        // that its listings do not show.
        if want == Want::Archive
            && let Some(why) = access::archive_refusal(&caller.0)
        {
            return Ok(Err(Refusal::Forbidden(why)));
        }
        Ok(Ok(Allowed {
            release: release.clone(),
            package: readable.package,
            ecosystem,
        }))
    }

    /// The first of `candidates` (name, version) that names a release the caller may download,
    /// for file names that split more than one way (RubyGems' `name-version-platform`). When
    /// none does, the first refusal that says more than "not found" is the answer.
    pub async fn downloadable_any(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        candidates: &[(&str, &str)],
    ) -> Result<Result<Allowed, Refusal>> {
        self.first_of(caller, ecosystem, candidates, Want::Archive)
            .await
    }

    /// [`Registry::downloadable_any`] for metadata ([`Registry::describable`]).
    pub async fn describable_any(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        candidates: &[(&str, &str)],
    ) -> Result<Result<Allowed, Refusal>> {
        self.first_of(caller, ecosystem, candidates, Want::Metadata)
            .await
    }

    async fn first_of(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        candidates: &[(&str, &str)],
        want: Want,
    ) -> Result<Result<Allowed, Refusal>> {
        let mut refused = Refusal::Hidden;
        for &(name, version) in candidates {
            match self
                .release_for(caller, ecosystem, name, version, want)
                .await?
            {
                Ok(allowed) => return Ok(Ok(allowed)),
                Err(Refusal::Hidden) => {}
                Err(missing @ Refusal::NoSuchVersion { .. }) => {
                    if refused == Refusal::Hidden {
                        refused = missing;
                    }
                }
                Err(other) => {
                    if matches!(refused, Refusal::Hidden | Refusal::NoSuchVersion { .. }) {
                        refused = other;
                    }
                }
            }
        }
        Ok(Err(refused))
    }

    /// Fetches an allowed release's bytes and records the download (who, which release, from
    /// where). The only place downloads are recorded.
    pub async fn fetch(
        &self,
        caller: &Caller,
        allowed: Allowed,
        client_ip: Option<String>,
    ) -> Result<Download> {
        let delivery = self.deliver(&allowed.release).await?;
        self.record_download(
            caller,
            allowed.ecosystem,
            &allowed.release,
            &allowed.package.name,
            client_ip,
        )
        .await;
        Ok(Download {
            release: allowed.release,
            delivery,
        })
    }

    /// [`Registry::downloadable`] then [`Registry::fetch`]: the whole download.
    pub async fn download(
        &self,
        caller: &Caller,
        ecosystem: Ecosystem,
        name: &str,
        version: &str,
        client_ip: Option<String>,
    ) -> Result<Result<Download, Refusal>> {
        match self.downloadable(caller, ecosystem, name, version).await? {
            Ok(allowed) => self.fetch(caller, allowed, client_ip).await.map(Ok),
            Err(refusal) => Ok(Err(refusal)),
        }
    }
}

#[cfg(test)]
mod tests;
