//! Copy-paste client set-up for a buyer: one snippet per ecosystem the product has, with the
//! seller's real URLs and the org token (welcome mail; the org admin page later).

use tollgate_registry::domain::{Ecosystem, PackageRef};

/// (title, snippet) for each ecosystem among `packages`, in a fixed order.
pub fn snippets(
    public_url: &str,
    seller: &str,
    packages: &[PackageRef],
    token: &str,
    hex_fingerprint: Option<&str>,
) -> Vec<(String, String)> {
    let has = |e: Ecosystem| packages.iter().any(|p| p.ecosystem == e);
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .trim_end_matches('/');
    let hostname = host.split(':').next().unwrap_or(host);
    let mut out = Vec::new();
    if has(Ecosystem::Npm) {
        let scopes: Vec<&str> = packages
            .iter()
            .filter(|p| p.ecosystem == Ecosystem::Npm)
            .filter_map(|p| p.name.strip_prefix('@')?.split_once('/').map(|(s, _)| s))
            .collect();
        let registry = match scopes.first() {
            Some(scope) => format!("@{scope}:registry={public_url}/{seller}/npm/"),
            None => format!("registry={public_url}/{seller}/npm/"),
        };
        out.push((
            "npm (.npmrc)".into(),
            format!("{registry}\n//{host}/{seller}/npm/:_authToken={token}"),
        ));
    }
    if has(Ecosystem::Cargo) {
        let env = seller.to_ascii_uppercase().replace('-', "_");
        out.push((
            "Cargo (.cargo/config.toml)".into(),
            format!(
                "[registries.{seller}]\nindex = \"sparse+{public_url}/{seller}/cargo/index/\"\ncredential-provider = [\"cargo:token\"]\n\n# then: export CARGO_REGISTRIES_{env}_TOKEN={token}"
            ),
        ));
    }
    if has(Ecosystem::Hex) {
        let fingerprint = hex_fingerprint.unwrap_or("SHA256:…");
        out.push((
            "Hex (mix)".into(),
            format!(
                "mix hex.repo add {seller} {public_url}/{seller}/hex --fetch-public-key {fingerprint} --auth-key {token}"
            ),
        ));
        out.push((
            "Hex (rebar3, rebar.config)".into(),
            format!(
                "{{hex, [{{repos, replace, [#{{name => <<\"{seller}\">>, repo_url => <<\"{public_url}/{seller}/hex\">>,\n  repo_public_key => <<\"(the text of {public_url}/{seller}/hex/public_key)\">>,\n  repo_key => <<\"{token}\">>}}]}}]}}."
            ),
        ));
    }
    if has(Ecosystem::Rubygems) {
        out.push((
            "Bundler".into(),
            format!(
                "bundle config set --global {hostname} {token}\n# Gemfile: source \"{public_url}/{seller}/gems/\" do … end"
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_snippet_per_ecosystem_with_real_urls() {
        let packages: Vec<PackageRef> = ["npm:@acme/ui-pro", "cargo:acme-core", "hex:acme_pro"]
            .iter()
            .map(|p| p.parse().expect("package ref"))
            .collect();
        let s = snippets(
            "https://pkg.example.com",
            "acme",
            &packages,
            "tg_x",
            Some("SHA256:abc"),
        );
        let titles: Vec<&str> = s.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            titles,
            [
                "npm (.npmrc)",
                "Cargo (.cargo/config.toml)",
                "Hex (mix)",
                "Hex (rebar3, rebar.config)"
            ]
        );
        assert!(
            s[0].1
                .contains("@acme:registry=https://pkg.example.com/acme/npm/")
        );
        assert!(
            s[0].1
                .contains("//pkg.example.com/acme/npm/:_authToken=tg_x")
        );
        assert!(s[1].1.contains("CARGO_REGISTRIES_ACME_TOKEN=tg_x"));
        assert!(
            s[2].1
                .contains("--fetch-public-key SHA256:abc --auth-key tg_x")
        );
    }
}
