//! Hex as the rest of the server sees it: mount, names, mix and rebar3 set-up (with the
//! fingerprint of the seller's signing key, which this crate computes) and the publish command.

use tollgate_registry::domain::Ecosystem;
use tollgate_registry::ecosystem::{EcosystemInfo, Place, SellerKeyUse, Setup, Snippet};

use crate::signing;

/// The Hex repository's descriptor.
pub struct Hex;

pub static ECOSYSTEM: Hex = Hex;

impl EcosystemInfo for Hex {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Hex
    }

    fn mount(&self) -> &'static str {
        "hex"
    }

    fn display_name(&self) -> &'static str {
        "Hex"
    }

    fn repository_url(&self, place: &Place<'_>) -> String {
        place.mount_url(self)
    }

    /// mix checks the key by fingerprint (a placeholder until the key is made); rebar3 is
    /// given the key's text.
    fn setup(&self, s: &Setup<'_>) -> Vec<Snippet> {
        let (seller, token, url) = (s.place.seller, s.token, self.repository_url(&s.place));
        let fingerprint = s.key_fingerprint.unwrap_or("SHA256:…");
        vec![
            Snippet::new(
                "Hex (mix)",
                format!(
                    "mix hex.repo add {seller} {url} --fetch-public-key {fingerprint} --auth-key {token}"
                ),
            ),
            Snippet::new(
                "Hex (rebar3, rebar.config)",
                format!(
                    "{{hex, [{{repos, replace, [#{{name => <<\"{seller}\">>, repo_url => <<\"{url}\">>,\n  repo_public_key => <<\"(the text of {url}/public_key)\">>,\n  repo_key => <<\"{token}\">>}}]}}]}}."
                ),
            ),
        ]
    }

    fn publish(&self, place: &Place<'_>, token: &str) -> Snippet {
        Snippet::new(
            "Hex (mix):",
            format!(
                "HEX_API_URL={}/api HEX_API_KEY={token} mix hex.publish package --yes",
                place.mount_url(self)
            ),
        )
    }

    fn seller_key(&self) -> Option<SellerKeyUse> {
        Some(SellerKeyUse {
            purpose: signing::PURPOSE,
            fingerprint: signing::fingerprint_of_pem,
            public_key_path: "public_key",
            checked_by: "mix hex.repo add … --fetch-public-key",
        })
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
    fn mix_checks_the_fingerprint_and_rebar3_the_key() {
        let setup = |key_fingerprint| {
            ECOSYSTEM.setup(&Setup {
                place: PLACE,
                token: "tg_x",
                packages: &["acme_pro"],
                key_fingerprint,
            })
        };
        let s = setup(Some("SHA256:abc"));
        let titles: Vec<&str> = s.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["Hex (mix)", "Hex (rebar3, rebar.config)"]);
        assert_eq!(
            s[0].text,
            "mix hex.repo add acme https://pkg.example.com/acme/hex --fetch-public-key SHA256:abc --auth-key tg_x"
        );
        assert!(
            s[1].text
                .contains("repo_public_key => <<\"(the text of https://pkg.example.com/acme/hex/public_key)\">>"),
            "{}",
            s[1].text
        );
        assert!(setup(None)[0].text.contains("--fetch-public-key SHA256:… "));
        assert_eq!(
            ECOSYSTEM.publish(&PLACE, "T").text,
            "HEX_API_URL=https://pkg.example.com/acme/hex/api HEX_API_KEY=T mix hex.publish package --yes"
        );
    }

    #[test]
    fn the_key_fingerprint_is_the_signing_keys() {
        let key = signing::SigningKey::from_pem(include_str!("../tests/fixtures/test_key.pem"))
            .expect("test key");
        let use_ = ECOSYSTEM.seller_key().expect("hex checks a key");
        assert_eq!(use_.purpose, signing::PURPOSE);
        assert_eq!(
            (use_.fingerprint)(key.public_pem()).as_deref(),
            Some(key.fingerprint())
        );
        assert_eq!((use_.fingerprint)("not a key"), None);
    }
}
