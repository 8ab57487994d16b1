//! RubyGems as the rest of the server sees it: mount, names, Bundler set-up and `gem push`.

use tollgate_registry::domain::Ecosystem;
use tollgate_registry::ecosystem::{EcosystemInfo, Place, Setup, Snippet};

/// The gem source's descriptor.
pub struct Rubygems;

pub static ECOSYSTEM: Rubygems = Rubygems;

impl EcosystemInfo for Rubygems {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Rubygems
    }

    fn mount(&self) -> &'static str {
        "gems"
    }

    fn display_name(&self) -> &'static str {
        "RubyGems"
    }

    /// With the slash: clients request the source URL (`…/gems/`) itself, and axum matches a
    /// nested `/` only at the exact prefix.
    fn nest_path(&self) -> String {
        format!("/{{seller}}/{}/", self.mount())
    }

    fn repository_url(&self, place: &Place<'_>) -> String {
        format!("{}/", place.mount_url(self))
    }

    /// Bundler looks the credentials up by host name.
    fn setup(&self, s: &Setup<'_>) -> Vec<Snippet> {
        let (hostname, token, url) = (s.place.hostname(), s.token, self.repository_url(&s.place));
        vec![Snippet::new(
            "Bundler",
            format!(
                "bundle config set --global {hostname} {token}\n# Gemfile: source \"{url}\" do … end"
            ),
        )]
    }

    fn publish(&self, place: &Place<'_>, token: &str) -> Snippet {
        Snippet::new(
            "RubyGems:",
            format!(
                "GEM_HOST_API_KEY={token} gem push your_gem-1.0.0.gem --host {}",
                place.mount_url(self)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundler_gets_the_token_by_host_name() {
        let place = Place {
            public_url: "http://127.0.0.1:8080",
            seller: "acme",
        };
        let s = ECOSYSTEM.setup(&Setup {
            place,
            token: "tg_x",
            packages: &["acme_pro"],
            key_fingerprint: None,
        });
        assert_eq!(
            s,
            [Snippet::new(
                "Bundler",
                "bundle config set --global 127.0.0.1 tg_x\n# Gemfile: source \"http://127.0.0.1:8080/acme/gems/\" do … end"
            )]
        );
        assert_eq!(
            ECOSYSTEM.publish(&place, "T").text,
            "GEM_HOST_API_KEY=T gem push your_gem-1.0.0.gem --host http://127.0.0.1:8080/acme/gems"
        );
        assert_eq!(ECOSYSTEM.nest_path(), "/{seller}/gems/");
    }
}
