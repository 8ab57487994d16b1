//! npm as the rest of the server sees it: mount, names, `.npmrc` set-up and publish snippets.

use tollgate_registry::domain::Ecosystem;
use tollgate_registry::ecosystem::{EcosystemInfo, Place, Setup, Snippet};

/// The npm registry's descriptor.
pub struct Npm;

pub static ECOSYSTEM: Npm = Npm;

impl Npm {
    /// `@{scope}:registry=…` and `//host/seller/npm/:_authToken=…`.
    fn npmrc(&self, place: &Place<'_>, scope: Option<&str>, token: &str) -> String {
        let url = self.repository_url(place);
        let registry = match scope {
            Some(scope) => format!("@{scope}:registry={url}"),
            None => format!("registry={url}"),
        };
        let (host, seller, mount) = (place.host(), place.seller, self.mount());
        format!("{registry}\n//{host}/{seller}/{mount}/:_authToken={token}")
    }
}

impl EcosystemInfo for Npm {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Npm
    }

    fn mount(&self) -> &'static str {
        "npm"
    }

    fn display_name(&self) -> &'static str {
        "npm"
    }

    fn repository_url(&self, place: &Place<'_>) -> String {
        format!("{}/", place.mount_url(self))
    }

    /// The scope of the first scoped package goes to the seller's registry; without one, the
    /// whole registry does.
    fn setup(&self, s: &Setup<'_>) -> Vec<Snippet> {
        let scope = s
            .packages
            .iter()
            .find_map(|name| name.strip_prefix('@')?.split_once('/').map(|(s, _)| s));
        vec![Snippet::new(
            "npm (.npmrc)",
            self.npmrc(&s.place, scope, s.token),
        )]
    }

    fn publish(&self, place: &Place<'_>, token: &str) -> Snippet {
        Snippet::new(
            "npm, in the package's .npmrc:",
            self.npmrc(place, Some(place.seller), token),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLACE: Place<'static> = Place {
        public_url: "https://pkg.example.com",
        seller: "acme",
    };

    #[test]
    fn the_npmrc_routes_the_scope_and_carries_the_token() {
        let s = ECOSYSTEM.setup(&Setup {
            place: PLACE,
            token: "tg_x",
            packages: &["plain", "@acme/ui-pro"],
            key_fingerprint: None,
        });
        assert_eq!(
            s,
            [Snippet::new(
                "npm (.npmrc)",
                "@acme:registry=https://pkg.example.com/acme/npm/\n//pkg.example.com/acme/npm/:_authToken=tg_x"
            )]
        );
        let unscoped = ECOSYSTEM.setup(&Setup {
            packages: &["plain"],
            ..Setup {
                place: PLACE,
                token: "T",
                packages: &[],
                key_fingerprint: None,
            }
        });
        assert!(
            unscoped[0]
                .text
                .starts_with("registry=https://pkg.example.com/acme/npm/\n"),
            "{unscoped:?}"
        );
        assert_eq!(
            ECOSYSTEM.publish(&PLACE, "T").text,
            "@acme:registry=https://pkg.example.com/acme/npm/\n//pkg.example.com/acme/npm/:_authToken=T"
        );
        assert_eq!(
            ECOSYSTEM.repository_url(&PLACE),
            "https://pkg.example.com/acme/npm/"
        );
    }
}
