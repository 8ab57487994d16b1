//! Fixtures: small builders over the port, so every test builds its data through [`Db`] itself.

use crate::db::Db;
use crate::domain::{
    DownloadEvent, Ecosystem, Entitlement, NewRelease, NewToken, Org, PackageRef, Product, Release,
    Seat, Seller, TokenKind, TokenScope, VersionRule,
};
use crate::ids::{PackageId, TokenId};
use crate::time::Timestamp;
use sha2::{Digest, Sha256};

/// A fixed point in time (2026-09) plus `ms`, so tests choose the order of events.
pub fn at(ms: i64) -> Timestamp {
    Timestamp(1_790_000_000_000 + ms)
}

pub fn sha(seed: &str) -> String {
    hex::encode(Sha256::digest(seed.as_bytes()))
}

pub fn npm(name: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Npm,
        name: name.to_owned(),
    }
}

pub fn cargo(name: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Cargo,
        name: name.to_owned(),
    }
}

pub async fn seller(db: &Db, slug: &str) -> Seller {
    db.create_seller(
        slug,
        &format!("{slug} Ltd"),
        &format!("billing@{slug}.test"),
    )
    .await
    .expect("create seller")
}

pub async fn product(db: &Db, seller: &Seller, slug: &str, packages: &[PackageRef]) -> Product {
    db.create_product(seller.id, slug, &format!("{slug} plan"), packages)
        .await
        .expect("create product")
}

pub async fn org(db: &Db, seller: &Seller, slug: &str) -> Org {
    db.create_org(seller.id, slug, &format!("{slug} GmbH"))
        .await
        .expect("create org")
}

/// An open `while_active` entitlement from `at(0)`.
pub async fn grant(db: &Db, org: &Org, product: &Product) -> Entitlement {
    db.grant(
        org.id,
        product.id,
        at(0),
        None,
        VersionRule::WhileActive,
        "manual",
    )
    .await
    .expect("grant")
}

pub async fn seat(db: &Db, org: &Org, email: &str) -> Seat {
    db.add_seat(org.id, email, "member")
        .await
        .expect("add seat")
}

pub async fn package_id(db: &Db, seller: &Seller, package: &PackageRef) -> PackageId {
    db.package_state(seller.id, package.ecosystem, &package.name)
        .await
        .expect("package state")
        .unwrap_or_else(|| panic!("package {package} should exist"))
        .id
}

/// A release of an npm package with a blob digest derived from its name and version, small
/// metadata and no dist-tags unless asked.
pub struct ReleaseBuilder(NewRelease);

pub fn release(seller: &Seller, package: &str, version: &str) -> ReleaseBuilder {
    ReleaseBuilder(NewRelease {
        seller_id: seller.id,
        ecosystem: Ecosystem::Npm,
        package: package.to_owned(),
        version: version.to_owned(),
        blob_sha256: sha(&format!("{package}@{version}")),
        size: 1024 + version.len() as i64,
        metadata: serde_json::json!({ "name": package, "version": version }),
        dist_tags: Vec::new(),
    })
}

impl ReleaseBuilder {
    pub fn ecosystem(mut self, ecosystem: Ecosystem) -> Self {
        self.0.ecosystem = ecosystem;
        self
    }

    pub fn blob(mut self, seed: &str) -> Self {
        self.0.blob_sha256 = sha(seed);
        self
    }

    pub fn size(mut self, size: i64) -> Self {
        self.0.size = size;
        self
    }

    pub fn metadata(mut self, metadata: serde_json::Value) -> Self {
        self.0.metadata = metadata;
        self
    }

    pub fn tag(mut self, tag: &str) -> Self {
        let version = self.0.version.clone();
        self.0.dist_tags.push((tag.to_owned(), version));
        self
    }

    pub fn build(self) -> NewRelease {
        self.0
    }

    pub async fn try_publish(self, db: &Db, when: Timestamp) -> crate::Result<Release> {
        db.publish_release(&self.0, when).await
    }

    pub async fn publish(self, db: &Db, when: Timestamp) -> Release {
        let what = format!("{}@{}", self.0.package, self.0.version);
        self.try_publish(db, when)
            .await
            .unwrap_or_else(|e| panic!("publish {what}: {e}"))
    }
}

/// A token row: a publish token of `seller` unless made an org or seat token.
pub struct TokenBuilder(NewToken);

pub fn token(id: &str, seller: &Seller) -> TokenBuilder {
    TokenBuilder(NewToken {
        id: TokenId(id.to_owned()),
        secret_hash: sha(&format!("secret of {id}")),
        kind: TokenKind::Publish,
        seller_id: seller.id,
        org_id: None,
        seat_id: None,
        packages: Vec::new(),
        label: None,
        scope: TokenScope::Read,
    })
}

impl TokenBuilder {
    pub fn org(mut self, org: &Org) -> Self {
        self.0.kind = TokenKind::Org;
        self.0.org_id = Some(org.id);
        self
    }

    /// A bot token of `org`: an org token with a label and a scope.
    pub fn bot(mut self, org: &Org, label: &str, scope: TokenScope) -> Self {
        self = self.org(org);
        self.0.label = Some(label.to_owned());
        self.0.scope = scope;
        self
    }

    pub fn seat(mut self, seat: &Seat) -> Self {
        self.0.kind = TokenKind::Seat;
        self.0.org_id = Some(seat.org_id);
        self.0.seat_id = Some(seat.id);
        self
    }

    pub fn packages(mut self, packages: &[PackageRef]) -> Self {
        self.0.packages = packages.to_vec();
        self
    }

    pub async fn create(self, db: &Db) -> TokenId {
        db.create_token(&self.0).await.expect("create token");
        self.0.id
    }
}

pub fn download(release: &Release, org: &Org, token: &str, when: Timestamp) -> DownloadEvent {
    DownloadEvent {
        seller_id: org.seller_id,
        release_id: release.id,
        package: String::new(),
        version: String::new(),
        org_id: Some(org.id),
        seat_id: None,
        token_id: TokenId(token.to_owned()),
        at: when,
        client_ip: Some("192.0.2.7".to_owned()),
    }
}
