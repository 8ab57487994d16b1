//! PyPI as the rest of the server sees it: mount, names, the pip / uv / poetry set-up and
//! `twine upload`.

use tollgate_registry::domain::Ecosystem;
use tollgate_registry::ecosystem::{EcosystemInfo, Place, Setup, Snippet};

/// The Python package index's descriptor.
pub struct Pypi;

pub static ECOSYSTEM: Pypi = Pypi;

/// The variable uv reads a named index's credentials from: `UV_INDEX_{NAME}_USERNAME`, the name
/// upper-cased with every other character as `_`.
pub fn uv_env(index: &str, field: &str) -> String {
    let name: String = index
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("UV_INDEX_{name}_{field}")
}

impl EcosystemInfo for Pypi {
    fn ecosystem(&self) -> Ecosystem {
        Ecosystem::Pypi
    }

    fn mount(&self) -> &'static str {
        "pypi"
    }

    fn display_name(&self) -> &'static str {
        "PyPI"
    }

    /// With the slash: twine posts to the index's base URL (`…/pypi/`) itself, and axum matches
    /// a nested `/` only at the exact prefix.
    fn nest_path(&self) -> String {
        format!("/{{seller}}/{}/", self.mount())
    }

    fn repository_url(&self, place: &Place<'_>) -> String {
        format!("{}/simple/", place.mount_url(self))
    }

    /// uv and poetry keep the paid packages on this index only (an explicit index, named per
    /// package, so that a same-named package elsewhere cannot stand in for them); pip has no
    /// per-package index, so its line uses this index alone.
    fn setup(&self, s: &Setup<'_>) -> Vec<Snippet> {
        let url = self.repository_url(&s.place);
        let (scheme, rest) = url.split_once("://").unwrap_or(("http", &url));
        let index = s.place.seller;
        let first = s.packages.first().copied().unwrap_or_default();
        let sources: String = s
            .packages
            .iter()
            .map(|p| format!("{p} = {{ index = \"{index}\" }}\n"))
            .collect();
        vec![
            Snippet::new(
                "pip",
                format!(
                    "pip install --index-url {scheme}://__token__:{}@{rest} {first}",
                    s.token
                ),
            ),
            Snippet::new(
                "uv (pyproject.toml)",
                format!(
                    "[[tool.uv.index]]\nname = \"{index}\"\nurl = \"{url}\"\nexplicit = true\n\n[tool.uv.sources]\n{sources}\n# then: {}=__token__ {}={} uv sync",
                    uv_env(index, "USERNAME"),
                    uv_env(index, "PASSWORD"),
                    s.token
                ),
            ),
            Snippet::new(
                "poetry",
                format!(
                    "poetry source add --priority=explicit {index} {url}\npoetry config http-basic.{index} __token__ {}\npoetry add --source {index} {}",
                    s.token,
                    s.packages.join(" ")
                ),
            ),
        ]
    }

    /// A release is one file: every file whose name carries `version` (parsed, PEP 440).
    fn is_of_version(&self, key: &str, version: &str) -> bool {
        key == version
            || crate::filename::parse(key).is_ok_and(|d| crate::version::same(&d.version, version))
    }

    fn publish(&self, place: &Place<'_>, token: &str) -> Snippet {
        Snippet::new(
            "PyPI:",
            format!(
                "twine upload --repository-url {}/ -u __token__ -p {token} dist/*",
                place.mount_url(self)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_paid_package_is_pinned_to_the_index() {
        let place = Place {
            public_url: "http://127.0.0.1:8080",
            seller: "acme",
        };
        let s = ECOSYSTEM.setup(&Setup {
            place,
            token: "tg_x",
            packages: &["acme-pro", "acme-core"],
            key_fingerprint: None,
        });
        assert_eq!(
            s[0].text,
            "pip install --index-url http://__token__:tg_x@127.0.0.1:8080/acme/pypi/simple/ acme-pro"
        );
        assert!(
            s[1].text
                .contains("acme-pro = { index = \"acme\" }\nacme-core = { index = \"acme\" }")
        );
        assert!(
            s[1].text
                .contains("UV_INDEX_ACME_USERNAME=__token__ UV_INDEX_ACME_PASSWORD=tg_x")
        );
        assert!(
            s[2].text
                .ends_with("poetry add --source acme acme-pro acme-core")
        );
        assert_eq!(
            ECOSYSTEM.publish(&place, "T").text,
            "twine upload --repository-url http://127.0.0.1:8080/acme/pypi/ -u __token__ -p T dist/*"
        );
        assert_eq!(uv_env("acme-2", "PASSWORD"), "UV_INDEX_ACME_2_PASSWORD");
        assert!(ECOSYSTEM.is_of_version("acme_pro-1.0-py3-none-any.whl", "1.0.0"));
        assert!(ECOSYSTEM.is_of_version("acme-pro-1.0.0.tar.gz", "1.0.0"));
        assert!(!ECOSYSTEM.is_of_version("acme_pro-1.0.1-py3-none-any.whl", "1.0"));
    }
}
