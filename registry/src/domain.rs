//! The domain of DESIGN.md: sellers, products, packages, releases, orgs, entitlements, seats,
//! tokens and download events.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::ids::{
    EntitlementId, OrgId, PackageId, PlanId, ProductId, ReleaseId, SeatId, SellerId, TokenId,
};
use crate::time::Timestamp;

/// A package ecosystem: one wire protocol, one naming rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Npm,
    Cargo,
    Hex,
    Rubygems,
    Pypi,
}

impl Ecosystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Npm => "npm",
            Self::Cargo => "cargo",
            Self::Hex => "hex",
            Self::Rubygems => "rubygems",
            Self::Pypi => "pypi",
        }
    }
}

/// How one ecosystem treats a yanked release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YankRule {
    /// Still in the package's listings (marked as yanked where the format can say so).
    pub listed: bool,
    /// Still downloadable by name and version (so existing lockfiles keep installing).
    pub downloads: bool,
}

impl Ecosystem {
    /// Its row of the yank table (`crate::yanked`).
    pub const fn yank_rule(self) -> YankRule {
        match self {
            Self::Npm => YankRule {
                listed: false,
                downloads: false,
            },
            // PEP 592: a yanked file stays on the simple page, marked, and installs when pinned.
            Self::Cargo | Self::Hex | Self::Pypi => YankRule {
                listed: true,
                downloads: true,
            },
            Self::Rubygems => YankRule {
                listed: false,
                downloads: true,
            },
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Ecosystem {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "npm" => Ok(Self::Npm),
            "cargo" => Ok(Self::Cargo),
            "hex" => Ok(Self::Hex),
            "rubygems" | "gem" | "gems" => Ok(Self::Rubygems),
            "pypi" | "python" => Ok(Self::Pypi),
            other => Err(format!(
                "unknown ecosystem `{other}` (expected npm, cargo, hex, rubygems or pypi)"
            )),
        }
    }
}

/// `eco:name`, the way the CLI and publish-token scopes name a package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PackageRef {
    pub ecosystem: Ecosystem,
    pub name: String,
}

impl FromStr for PackageRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (eco, name) = s.split_once(':').ok_or_else(|| {
            format!("`{s}` should look like ecosystem:name, e.g. npm:@acme/ui-pro")
        })?;
        if name.is_empty() {
            return Err(format!("`{s}` has an empty package name"));
        }
        Ok(Self {
            ecosystem: eco.parse()?,
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for PackageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.ecosystem, self.name)
    }
}

/// What an org keeps when its entitlement ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionRule {
    /// Any version, only while the entitlement is live.
    WhileActive,
    /// After the end, every version published before `ends_at` stays available.
    PerpetualFallback,
}

impl VersionRule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhileActive => "while_active",
            Self::PerpetualFallback => "perpetual_fallback",
        }
    }
}

impl FromStr for VersionRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "while_active" => Ok(Self::WhileActive),
            "perpetual_fallback" => Ok(Self::PerpetualFallback),
            other => Err(format!(
                "unknown version rule `{other}` (expected while_active or perpetual_fallback)"
            )),
        }
    }
}

/// How a plan's seats follow the subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatMode {
    /// The subscription quantity caps the org's active seats.
    PerQuantity,
    /// Any number of seats.
    Unlimited,
}

impl SeatMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerQuantity => "per_quantity",
            Self::Unlimited => "unlimited",
        }
    }
}

impl FromStr for SeatMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "per_quantity" | "per-quantity" => Ok(Self::PerQuantity),
            "unlimited" => Ok(Self::Unlimited),
            other => Err(format!(
                "unknown seat mode `{other}` (expected per-quantity or unlimited)"
            )),
        }
    }
}

/// A Stripe price (or legacy plan) sold as a product.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub id: PlanId,
    pub seller_id: SellerId,
    pub slug: String,
    pub product_id: ProductId,
    pub product_slug: String,
    pub product_name: String,
    pub stripe_price: String,
    pub seats: SeatMode,
    pub rule: VersionRule,
    pub grace_days: u32,
}

/// The three kinds of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Shared by an org, for CI.
    Org,
    /// Belongs to one seat (one person); dies with the seat.
    Seat,
    /// A seller's token for publishing, optionally limited to some packages.
    Publish,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Org => "org",
            Self::Seat => "seat",
            Self::Publish => "publish",
        }
    }
}

impl FromStr for TokenKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "org" => Ok(Self::Org),
            "seat" => Ok(Self::Seat),
            "publish" => Ok(Self::Publish),
            other => Err(format!("unknown token kind `{other}`")),
        }
    }
}

/// What a token may read. Every token reads (lists and installs); an org's bot token may be
/// limited to metadata: version listings and checksums, enough for an update bot (Renovate) and
/// for lockfile-only updates (`npm install --package-lock-only`, `cargo update`, `bundle lock
/// --update`), but never an archive.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Listings and archives: installs.
    #[default]
    Read,
    /// Listings and checksums only: every archive download is refused (403, naming the scope).
    Metadata,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Metadata => "metadata",
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "read" => Ok(Self::Read),
            "metadata" => Ok(Self::Metadata),
            other => Err(format!(
                "unknown token scope `{other}` (expected read or metadata)"
            )),
        }
    }
}

/// A bot token's label: what it is for ("renovate", "CI deploy"), shown on the org's tokens
/// page and in `tollgate token list`. 1 to 64 characters, no control characters.
pub fn check_token_label(label: &str) -> Result<String, String> {
    let label = label.trim();
    if label.is_empty() {
        return Err("a bot token needs a label (what it is for, e.g. `renovate`)".into());
    }
    if label.chars().count() > MAX_TOKEN_LABEL {
        return Err(format!(
            "a token label has at most {MAX_TOKEN_LABEL} characters"
        ));
    }
    if label.chars().any(char::is_control) {
        return Err("a token label may not contain control characters".into());
    }
    Ok(label.to_owned())
}

/// The longest token label.
pub const MAX_TOKEN_LABEL: usize = 64;

#[derive(Debug, Clone, Serialize)]
pub struct Seller {
    pub id: SellerId,
    pub slug: String,
    pub name: String,
    pub email: String,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    pub id: ProductId,
    pub seller_id: SellerId,
    pub slug: String,
    pub name: String,
    pub packages: Vec<PackageRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Org {
    pub id: OrgId,
    pub seller_id: SellerId,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Entitlement {
    pub id: EntitlementId,
    pub org_id: OrgId,
    pub product_id: ProductId,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub rule: VersionRule,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Seat {
    pub id: SeatId,
    pub org_id: OrgId,
    pub email: String,
    pub role: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// One immutable version of a package: what access checks and downloads need. Its ecosystem
/// metadata (npm: the package.json) is loaded separately, only when a listing is rendered,
/// so that the cached state of many packages stays small.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    pub id: ReleaseId,
    pub version: String,
    pub blob_sha256: String,
    pub size: i64,
    pub published_at: Timestamp,
    pub yanked: bool,
    /// Set when the seller retired the release: still installable, clients warn.
    pub retired: Option<Retirement>,
}

/// Why a release was retired (Hex's reasons: `other`, `invalid`, `security`, `deprecated`,
/// `renamed`) and the seller's message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

/// A package with every release and tag.
#[derive(Debug, Clone, Serialize)]
pub struct PackageState {
    pub id: PackageId,
    pub seller_id: SellerId,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub created_at: Timestamp,
    /// Ordered by publication time.
    pub releases: Vec<Release>,
    pub dist_tags: Vec<(String, String)>,
}

impl PackageState {
    pub fn release(&self, version: &str) -> Option<&Release> {
        self.releases.iter().find(|r| r.version == version)
    }
}

/// A token as the server sees it after lookup: never the secret, only its hash.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRecord {
    pub id: TokenId,
    #[serde(skip)]
    pub secret_hash: String,
    pub kind: TokenKind,
    pub seller_id: SellerId,
    pub seller_slug: String,
    pub org_id: Option<OrgId>,
    pub org_slug: Option<String>,
    pub seat_id: Option<SeatId>,
    pub seat_email: Option<String>,
    /// `false` once the seat this token belongs to was revoked.
    pub seat_active: bool,
    /// Publish tokens: the packages they are limited to (empty = all of the seller's).
    pub packages: Vec<PackageRef>,
    /// A bot token's label (org tokens made for a machine); `None` for other tokens.
    pub label: Option<String>,
    /// What the token may read (`metadata`: never an archive).
    pub scope: TokenScope,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// A new token's row: the caller has generated the secret and shows it once.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: TokenId,
    pub secret_hash: String,
    pub kind: TokenKind,
    pub seller_id: SellerId,
    pub org_id: Option<OrgId>,
    pub seat_id: Option<SeatId>,
    pub packages: Vec<PackageRef>,
    /// A bot token's label (see [`check_token_label`]).
    pub label: Option<String>,
    pub scope: TokenScope,
}

/// An entitlement as the access rule needs it, with the names its messages use.
#[derive(Debug, Clone, Serialize)]
pub struct Grant {
    pub product: String,
    pub org: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub rule: VersionRule,
    /// Shown to clients while the grant is live (a failed payment's grace period).
    pub warning: Option<String>,
}

/// What a publish writes, after the protocol validated it and the blob is durable.
#[derive(Debug, Clone)]
pub struct NewRelease {
    pub seller_id: SellerId,
    pub ecosystem: Ecosystem,
    pub package: String,
    pub version: String,
    pub blob_sha256: String,
    pub size: i64,
    pub metadata: serde_json::Value,
    pub dist_tags: Vec<(String, String)>,
}

/// Who fetched which release, when.
#[derive(Debug, Clone, Serialize)]
pub struct DownloadEvent {
    /// The seller whose package it is (the token's seller: a token only opens its own seller).
    pub seller_id: SellerId,
    pub release_id: ReleaseId,
    pub package: String,
    pub version: String,
    pub org_id: Option<OrgId>,
    pub seat_id: Option<SeatId>,
    pub token_id: TokenId,
    pub at: Timestamp,
    pub client_ip: Option<String>,
}

/// Seller, org and product slugs appear in URLs: 1 to 64 lowercase letters, digits and `-`,
/// not starting with `-`. Checked before any lookup, so a hostile path costs no query.
pub fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 64
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
}

/// No ecosystem allows a package name longer than this (npm's 214 is the longest rule); a
/// longer name is not looked up at all.
pub const MAX_PACKAGE_NAME: usize = 214;
