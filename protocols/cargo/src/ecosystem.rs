//! Cargo as the rest of the server sees it: mount, names, `.cargo/config.toml` set-up and the
//! publish command.

use tollgate_registry::domain::Ecosystem;
use tollgate_registry::ecosystem::{EcosystemInfo, Place, Setup, Snippet};

/// The Cargo sparse registry's descriptor.
pub struct Cargo;

pub static ECOSYSTEM: Cargo = Cargo;

/// Cargo's variable for the token of the registry named `registry` (`CARGO_REGISTRIES_ACME_TOKEN`).
pub fn token_env(registry: &str) -> String {
    format!(
        "CARGO_REGISTRIES_{}_TOKEN",
        registry.to_ascii_uppercase().replace('-', "_")
    )
}

impl EcosystemInfo for Cargo {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Cargo
    }

    fn mount(&self) -> &'static str {
        "cargo"
    }

    fn display_name(&self) -> &'static str {
        "Cargo"
    }

    fn repository_label(&self) -> &'static str {
        "Cargo (sparse index)"
    }

    fn repository_url(&self, place: &Place<'_>) -> String {
        format!("sparse+{}/index/", place.mount_url(self))
    }

    /// A registry named after the seller, its token from the environment.
    fn setup(&self, s: &Setup<'_>) -> Vec<Snippet> {
        let (seller, url) = (s.place.seller, self.repository_url(&s.place));
        let (env, token) = (token_env(seller), s.token);
        vec![Snippet::new(
            "Cargo (.cargo/config.toml)",
            format!(
                "[registries.{seller}]\nindex = \"{url}\"\ncredential-provider = [\"cargo:token\"]\n\n# then: export {env}={token}"
            ),
        )]
    }

    fn publish(&self, place: &Place<'_>, token: &str) -> Snippet {
        let seller = place.seller;
        Snippet::new(
            format!("Cargo (with [registries.{seller}] in .cargo/config.toml, see Settings):"),
            format!(
                "{}={token} cargo publish --registry {seller}",
                token_env(seller)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_named_after_the_seller() {
        let place = Place {
            public_url: "https://pkg.example.com",
            seller: "acme-inc",
        };
        let s = ECOSYSTEM.setup(&Setup {
            place,
            token: "tg_x",
            packages: &["acme-core"],
            key_fingerprint: None,
        });
        assert_eq!(
            s[0].text,
            "[registries.acme-inc]\nindex = \"sparse+https://pkg.example.com/acme-inc/cargo/index/\"\ncredential-provider = [\"cargo:token\"]\n\n# then: export CARGO_REGISTRIES_ACME_INC_TOKEN=tg_x"
        );
        assert_eq!(
            ECOSYSTEM.publish(&place, "T").text,
            "CARGO_REGISTRIES_ACME_INC_TOKEN=T cargo publish --registry acme-inc"
        );
    }
}
