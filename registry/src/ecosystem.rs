//! What the rest of the server knows about an ecosystem, in one place: each protocol crate
//! describes itself with an [`EcosystemInfo`] (its mount under `/{seller}/`, display name,
//! metrics label, repository URL, buyer set-up and publish snippets, and the seller key its
//! clients check), and the binary hands the list of them, [`Ecosystems`], to the router
//! assembly, the pages and billing. None of those needs the protocol crates for it.

use crate::Registry;
use crate::domain::{Ecosystem, PackageRef};
use crate::ids::SellerId;

/// Where a seller's repositories are: the public base URL (without a trailing `/`) and the
/// seller's slug.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub public_url: &'a str,
    pub seller: &'a str,
}

impl Place<'_> {
    /// `{public_url}/{seller}`.
    pub fn base(&self) -> String {
        format!("{}/{}", self.public_url, self.seller)
    }

    /// `host[:port]` of the public URL, without scheme or trailing `/`.
    pub fn host(&self) -> &str {
        self.public_url
            .split_once("://")
            .map_or(self.public_url, |(_, rest)| rest)
            .trim_end_matches('/')
    }

    /// The host name alone, without the port.
    pub fn hostname(&self) -> &str {
        let host = self.host();
        host.split(':').next().unwrap_or(host)
    }

    /// `{public_url}/{seller}/{mount}`: where `ecosystem`'s router answers for this seller.
    pub fn mount_url(&self, ecosystem: &dyn EcosystemInfo) -> String {
        format!("{}/{}/{}", self.public_url, self.seller, ecosystem.mount())
    }
}

/// One titled piece of text to paste: a client's configuration or a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub title: String,
    pub text: String,
}

impl Snippet {
    pub fn new(title: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            text: text.into(),
        }
    }
}

/// What a buyer's set-up of one ecosystem is made from.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    pub place: Place<'a>,
    /// The token, or a placeholder where the reader puts one.
    pub token: &'a str,
    /// The names of the buyer's packages in this ecosystem, in the product's order (never empty).
    pub packages: &'a [&'a str],
    /// The fingerprint of the seller's key of [`EcosystemInfo::seller_key`], once it is made.
    pub key_fingerprint: Option<&'a str>,
}

/// A seller key an ecosystem's clients check (Hex's repository signing key).
#[derive(Debug, Clone, Copy)]
pub struct SellerKeyUse {
    /// Its `seller_keys.purpose`.
    pub purpose: &'static str,
    /// The fingerprint buyers check, from the stored public key; `None` if it is not one.
    pub fingerprint: fn(&str) -> Option<String>,
    /// Where the public key is served, under the mount (`public_key`).
    pub public_key_path: &'static str,
    /// The client command that checks the fingerprint, as the settings page names it.
    pub checked_by: &'static str,
}

/// One ecosystem as the server outside its protocol crate sees it. Each protocol crate has one
/// (`tollgate_npm::ECOSYSTEM`, …).
pub trait EcosystemInfo: Send + Sync + 'static {
    /// Its identity in the database and in package references.
    fn ecosystem(&self) -> Ecosystem;

    /// The path segment its router is nested at under `/{seller}/` (`gems`).
    fn mount(&self) -> &'static str;

    /// How pages name it (`RubyGems`).
    fn display_name(&self) -> &'static str;

    /// The `protocol`/`ecosystem` label of its metrics (`rubygems`).
    fn metrics_label(&self) -> &'static str {
        self.ecosystem().as_str()
    }

    /// The route the binary nests its router at.
    fn nest_path(&self) -> String {
        format!("/{{seller}}/{}", self.mount())
    }

    /// How the settings page's repository table names it.
    fn repository_label(&self) -> &'static str {
        self.display_name()
    }

    /// The repository URL buyers configure their client with.
    fn repository_url(&self, place: &Place<'_>) -> String;

    /// The buyer's client set-up: one snippet per client (several clients may share an
    /// ecosystem, as mix and rebar3 do).
    fn setup(&self, setup: &Setup<'_>) -> Vec<Snippet>;

    /// How the seller publishes with a publish token.
    fn publish(&self, place: &Place<'_>, token: &str) -> Snippet;

    /// The seller key its clients check, if any.
    fn seller_key(&self) -> Option<SellerKeyUse> {
        None
    }

    /// Is the release stored under `key` part of `version` as people write it? One release
    /// is one key: a version for most ecosystems; a file name for PyPI, where one version has
    /// several files (and `1.0` is `1.0.0`).
    fn is_of_version(&self, key: &str, version: &str) -> bool {
        key == version
    }
}

/// A seller key as the settings page shows it.
#[derive(Debug, Clone)]
pub struct SellerKeyShown {
    pub display_name: &'static str,
    /// `None` until the protocol has made the key.
    pub fingerprint: Option<String>,
    pub repository_url: String,
    pub public_key_url: String,
    pub checked_by: &'static str,
}

/// The ecosystems this server serves, in the order pages list them.
#[derive(Clone, Copy)]
pub struct Ecosystems(&'static [&'static dyn EcosystemInfo]);

impl std::fmt::Debug for Ecosystems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|e| e.metrics_label()))
            .finish()
    }
}

/// None: for configurations in tests that serve no repository.
impl Default for Ecosystems {
    fn default() -> Self {
        Self(&[])
    }
}

impl Ecosystems {
    pub const fn new(list: &'static [&'static dyn EcosystemInfo]) -> Self {
        Self(list)
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static dyn EcosystemInfo> + use<> {
        self.0.iter().copied()
    }

    pub fn get(&self, ecosystem: Ecosystem) -> Option<&'static dyn EcosystemInfo> {
        self.iter().find(|e| e.ecosystem() == ecosystem)
    }

    /// The ecosystem mounted at `segment` (the path segment after the seller's).
    pub fn mounted_at(&self, segment: &str) -> Option<&'static dyn EcosystemInfo> {
        self.iter().find(|e| e.mount() == segment)
    }

    /// The set-up of each ecosystem among `packages`, with the fingerprints of the seller's
    /// keys from `fingerprint` (given the key's use, `None` while there is none).
    pub fn setup_with(
        &self,
        place: Place<'_>,
        packages: &[PackageRef],
        token: &str,
        fingerprint: impl Fn(&SellerKeyUse) -> Option<String>,
    ) -> Vec<Snippet> {
        let mut out = Vec::new();
        for e in self.iter() {
            let names: Vec<&str> = packages
                .iter()
                .filter(|p| p.ecosystem == e.ecosystem())
                .map(|p| p.name.as_str())
                .collect();
            if names.is_empty() {
                continue;
            }
            let key_fingerprint = e.seller_key().and_then(|k| fingerprint(&k));
            out.extend(e.setup(&Setup {
                place,
                token,
                packages: &names,
                key_fingerprint: key_fingerprint.as_deref(),
            }));
        }
        out
    }

    /// [`Ecosystems::setup_with`] the seller's stored keys.
    pub async fn setup(
        &self,
        registry: &Registry,
        place: Place<'_>,
        seller: SellerId,
        packages: &[PackageRef],
        token: &str,
    ) -> crate::Result<Vec<Snippet>> {
        let mut fingerprints = Vec::new();
        for e in self.iter() {
            if let Some(key) = e.seller_key()
                && packages.iter().any(|p| p.ecosystem == e.ecosystem())
            {
                let stored = registry.db().seller_key(seller, key.purpose).await?;
                let fingerprint = stored.and_then(|k| (key.fingerprint)(&k.public));
                fingerprints.push((key.purpose, fingerprint));
            }
        }
        Ok(self.setup_with(place, packages, token, |key| {
            fingerprints
                .iter()
                .find(|(purpose, _)| *purpose == key.purpose)
                .and_then(|(_, f)| f.clone())
        }))
    }

    /// Each ecosystem's publish snippet with `token`.
    pub fn publish(&self, place: Place<'_>, token: &str) -> Vec<Snippet> {
        self.iter().map(|e| e.publish(&place, token)).collect()
    }

    /// The seller keys buyers check, as far as they are made.
    pub async fn seller_keys(
        &self,
        registry: &Registry,
        place: Place<'_>,
        seller: SellerId,
    ) -> crate::Result<Vec<SellerKeyShown>> {
        let mut out = Vec::new();
        for e in self.iter() {
            let Some(key) = e.seller_key() else { continue };
            let stored = registry.db().seller_key(seller, key.purpose).await?;
            let mount = place.mount_url(e);
            out.push(SellerKeyShown {
                display_name: e.display_name(),
                fingerprint: stored.and_then(|k| (key.fingerprint)(&k.public)),
                repository_url: e.repository_url(&place),
                public_key_url: format!("{mount}/{}", key.public_key_path),
                checked_by: key.checked_by,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(Ecosystem, &'static str);

    impl EcosystemInfo for Fake {
        fn ecosystem(&self) -> Ecosystem {
            self.0
        }
        fn mount(&self) -> &'static str {
            self.1
        }
        fn display_name(&self) -> &'static str {
            "Fake"
        }
        fn repository_url(&self, place: &Place<'_>) -> String {
            place.mount_url(self)
        }
        fn setup(&self, s: &Setup<'_>) -> Vec<Snippet> {
            vec![Snippet::new(
                self.1,
                format!(
                    "{} {} {} {}",
                    self.repository_url(&s.place),
                    s.packages.join(","),
                    s.token,
                    s.key_fingerprint.unwrap_or("-")
                ),
            )]
        }
        fn publish(&self, place: &Place<'_>, token: &str) -> Snippet {
            Snippet::new(self.1, format!("{} {token}", place.host()))
        }
        fn seller_key(&self) -> Option<SellerKeyUse> {
            (self.0 == Ecosystem::Hex).then_some(SellerKeyUse {
                purpose: "fake",
                fingerprint: |pem| Some(format!("fp({pem})")),
                public_key_path: "key",
                checked_by: "check",
            })
        }
    }

    static LIST: Ecosystems = Ecosystems::new(&[
        &Fake(Ecosystem::Npm, "n"),
        &Fake(Ecosystem::Hex, "h"),
        &Fake(Ecosystem::Rubygems, "g"),
    ]);

    const PLACE: Place<'static> = Place {
        public_url: "https://pkg.example.com:8443",
        seller: "acme",
    };

    #[test]
    fn set_up_only_the_ecosystems_bought_in_list_order() {
        let packages: Vec<PackageRef> = ["rubygems:b", "npm:x", "npm:y"]
            .iter()
            .map(|p| p.parse().expect("package ref"))
            .collect();
        let s = LIST.setup_with(PLACE, &packages, "tg_x", |_| None);
        assert_eq!(
            s,
            [
                Snippet::new("n", "https://pkg.example.com:8443/acme/n x,y tg_x -"),
                Snippet::new("g", "https://pkg.example.com:8443/acme/g b tg_x -"),
            ]
        );
    }

    #[test]
    fn the_key_fingerprint_reaches_only_the_ecosystem_that_checks_it() {
        let packages: Vec<PackageRef> = ["hex:h1", "npm:x"]
            .iter()
            .map(|p| p.parse().expect("package ref"))
            .collect();
        let s = LIST.setup_with(PLACE, &packages, "T", |k| Some(format!("{}!", k.purpose)));
        assert_eq!(s[0].text, "https://pkg.example.com:8443/acme/n x T -");
        assert_eq!(s[1].text, "https://pkg.example.com:8443/acme/h h1 T fake!");
    }

    #[test]
    fn places_and_mounts() {
        assert_eq!(PLACE.base(), "https://pkg.example.com:8443/acme");
        assert_eq!(PLACE.host(), "pkg.example.com:8443");
        assert_eq!(PLACE.hostname(), "pkg.example.com");
        assert_eq!(
            LIST.mounted_at("g").map(|e| e.metrics_label()),
            Some("rubygems")
        );
        assert!(LIST.mounted_at("x").is_none());
        assert_eq!(LIST.get(Ecosystem::Hex).map(|e| e.mount()), Some("h"));
        assert_eq!(
            LIST.iter().next().map(|e| e.nest_path()).as_deref(),
            Some("/{seller}/n")
        );
        assert_eq!(
            LIST.publish(PLACE, "T")[2],
            Snippet::new("g", "pkg.example.com:8443 T")
        );
    }
}
