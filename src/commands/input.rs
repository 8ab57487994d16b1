//! What several commands check or default in their arguments.

use anyhow::bail;

/// The public URL given, without its trailing `/`, or the default listen address.
pub fn public_url_or_default(url: Option<String>) -> String {
    url.unwrap_or_else(|| "http://127.0.0.1:8080".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

/// Slugs appear in URLs: lowercase letters, digits and `-`.
pub fn check_slug(slug: &str) -> anyhow::Result<()> {
    if !tollgate_registry::domain::is_slug(slug) {
        bail!("`{slug}` is not a valid slug: use lowercase letters, digits and `-`");
    }
    Ok(())
}
