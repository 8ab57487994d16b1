//! Renders packuments (full and abbreviated) from a package's releases, showing exactly the
//! versions the caller may download. Pure: the handler caches the bytes.

use std::collections::HashMap;

use serde_json::{Map, Value, json};
use tollgate_registry::access::Visibility;
use tollgate_registry::document::Document;
use tollgate_registry::domain::{Ecosystem, PackageState, Release};
use tollgate_registry::ids::ReleaseId;

use crate::name::basename;

/// Fields of a version that the abbreviated ("corgi") document keeps.
const CORGI_FIELDS: &[&str] = &[
    "name",
    "version",
    "deprecated",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bundleDependencies",
    "bundledDependencies",
    "acceptDependencies",
    "bin",
    "directories",
    "engines",
    "os",
    "cpu",
    "funding",
    "license",
    "_hasShrinkwrap",
];

/// The package.json of each release, as published.
pub type Manifests = HashMap<ReleaseId, Value>;

/// `tarball_base` is `{public_url}/{seller}/npm`.
pub fn render(
    pkg: &PackageState,
    manifests: &Manifests,
    visibility: Visibility,
    tarball_base: &str,
    abbreviated: bool,
) -> Document {
    let visible = visible_releases(pkg, visibility);
    let empty = Value::Object(Map::new());
    let mut versions = Map::new();
    for r in &visible {
        let manifest = manifests.get(&r.id).unwrap_or(&empty);
        let doc = if abbreviated {
            corgi_version(r, manifest, &pkg.name, tarball_base)
        } else {
            full_version(r, manifest, &pkg.name, tarball_base)
        };
        versions.insert(r.version.clone(), doc);
    }
    let tags = dist_tags(pkg, &visible);
    let modified = visible
        .last()
        .map_or(pkg.created_at, |r| r.published_at)
        .rfc3339();
    let mut doc = json!({
        "name": pkg.name,
        "modified": modified,
        "dist-tags": tags,
        "versions": versions,
    });
    if !abbreviated {
        let latest = visible.last().and_then(|r| manifests.get(&r.id));
        add_full_fields(&mut doc, pkg, &visible, latest, &modified);
    }
    Document::new(serde_json::to_vec(&doc).unwrap_or_default(), visible.len())
}

/// The releases a caller with `visibility` may see, oldest first (the core's yank table: npm
/// drops yanked releases from the packument).
pub fn visible_releases(pkg: &PackageState, visibility: Visibility) -> Vec<&Release> {
    tollgate_registry::yanked::listed(pkg, Ecosystem::Npm, visibility).collect()
}

fn add_full_fields(
    doc: &mut Value,
    pkg: &PackageState,
    visible: &[&Release],
    latest: Option<&Value>,
    modified: &str,
) {
    let mut time = Map::new();
    time.insert("created".into(), pkg.created_at.rfc3339().into());
    time.insert("modified".into(), modified.into());
    for r in visible {
        time.insert(r.version.clone(), r.published_at.rfc3339().into());
    }
    doc["_id"] = pkg.name.clone().into();
    doc["time"] = time.into();
    if let Some(latest) = latest {
        for key in [
            "description",
            "license",
            "repository",
            "homepage",
            "keywords",
            "readme",
        ] {
            if let Some(v) = latest.get(key) {
                doc[key] = v.clone();
            }
        }
    }
}

fn dist(r: &Release, manifest: &Value, name: &str, tarball_base: &str) -> Value {
    let mut dist = manifest.get("dist").cloned().unwrap_or_else(|| json!({}));
    dist["tarball"] = format!(
        "{tarball_base}/{name}/-/{}-{}.tgz",
        basename(name),
        r.version
    )
    .into();
    dist
}

fn corgi_version(r: &Release, manifest: &Value, name: &str, tarball_base: &str) -> Value {
    let mut out = Map::new();
    for key in CORGI_FIELDS {
        if let Some(v) = manifest.get(*key) {
            out.insert((*key).into(), v.clone());
        }
    }
    let scripts = manifest.get("scripts");
    let has_install_script = ["preinstall", "install", "postinstall"]
        .iter()
        .any(|s| scripts.and_then(|v| v.get(*s)).is_some());
    if has_install_script {
        out.insert("hasInstallScript".into(), true.into());
    }
    out.insert("dist".into(), dist(r, manifest, name, tarball_base));
    out.into()
}

fn full_version(r: &Release, manifest: &Value, name: &str, tarball_base: &str) -> Value {
    let mut doc = manifest.clone();
    doc["_id"] = format!("{name}@{}", r.version).into();
    doc["dist"] = dist(r, manifest, name, tarball_base);
    doc
}

/// The package's tags that point at a visible version, with `latest` always set (npm picks
/// `latest` whenever it satisfies the range, so it must never name a hidden version).
pub fn dist_tags(pkg: &PackageState, visible: &[&Release]) -> Map<String, Value> {
    let is_visible = |v: &str| visible.iter().any(|r| r.version == v);
    let mut tags: Map<String, Value> = pkg
        .dist_tags
        .iter()
        .filter(|(_, v)| is_visible(v))
        .map(|(t, v)| (t.clone(), Value::from(v.clone())))
        .collect();
    if !tags.contains_key("latest") {
        let parsed = visible
            .iter()
            .filter_map(|r| semver::Version::parse(&r.version).ok());
        let best = parsed
            .clone()
            .filter(|v| v.pre.is_empty())
            .max()
            .or_else(|| parsed.max());
        if let Some(best) = best {
            tags.insert("latest".into(), best.to_string().into());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollgate_registry::domain::Ecosystem;
    use tollgate_registry::ids::{PackageId, SellerId};
    use tollgate_registry::time::Timestamp;

    fn release(version: &str, at: i64) -> Release {
        Release {
            id: ReleaseId(at),
            version: version.into(),
            blob_sha256: "0".repeat(64),
            size: 3,
            published_at: Timestamp(at),
            yanked: false,
            retired: None,
        }
    }

    fn manifests() -> Manifests {
        pkg()
            .releases
            .iter()
            .map(|r| {
                let m = json!({"name": "@acme/ui", "version": r.version, "description": "d",
                    "scripts": {"postinstall": "x"},
                    "dist": {"integrity": "sha512-x", "shasum": "y", "tarball": "http://evil/"}});
                (r.id, m)
            })
            .collect()
    }

    fn pkg() -> PackageState {
        PackageState {
            id: PackageId(1),
            seller_id: SellerId(1),
            ecosystem: Ecosystem::Npm,
            name: "@acme/ui".into(),
            created_at: Timestamp(0),
            releases: vec![
                release("1.0.0", 10),
                release("1.1.0", 20),
                release("2.0.0", 30),
            ],
            dist_tags: vec![
                ("latest".into(), "2.0.0".into()),
                ("beta".into(), "1.1.0".into()),
            ],
        }
    }

    fn parse(r: &Document) -> Value {
        serde_json::from_slice(&r.body).expect("json")
    }

    #[test]
    fn abbreviated_lists_visible_versions_with_absolute_tarballs() {
        let r = render(
            &pkg(),
            &manifests(),
            Visibility::All,
            "http://h/acme/npm",
            true,
        );
        let doc = parse(&r);
        assert_eq!(r.entries, 3);
        let v = &doc["versions"]["1.0.0"];
        assert_eq!(
            v["dist"]["tarball"],
            "http://h/acme/npm/@acme/ui/-/ui-1.0.0.tgz"
        );
        assert_eq!(v["dist"]["integrity"], "sha512-x");
        assert_eq!(v["hasInstallScript"], true);
        assert!(v.get("description").is_none());
        assert_eq!(doc["dist-tags"]["latest"], "2.0.0");
    }

    #[test]
    fn hidden_versions_and_their_tags_are_absent() {
        let r = render(
            &pkg(),
            &manifests(),
            Visibility::PublishedBefore(Timestamp(25)),
            "http://h/a/npm",
            false,
        );
        let doc = parse(&r);
        assert_eq!(r.entries, 2);
        assert!(doc["versions"].get("2.0.0").is_none());
        assert!(doc["time"].get("2.0.0").is_none());
        // `latest` pointed at the hidden 2.0.0: it falls back to the best visible version.
        assert_eq!(doc["dist-tags"]["latest"], "1.1.0");
        assert_eq!(doc["dist-tags"]["beta"], "1.1.0");
        assert_eq!(doc["versions"]["1.0.0"]["_id"], "@acme/ui@1.0.0");
    }

    #[test]
    fn etag_follows_content() {
        let a = render(
            &pkg(),
            &manifests(),
            Visibility::All,
            "http://h/a/npm",
            true,
        );
        let b = render(
            &pkg(),
            &manifests(),
            Visibility::PublishedBefore(Timestamp(25)),
            "http://h/a/npm",
            true,
        );
        assert_ne!(a.etag, b.etag);
        assert_eq!(
            a.etag,
            render(
                &pkg(),
                &manifests(),
                Visibility::All,
                "http://h/a/npm",
                true
            )
            .etag
        );
    }
}
