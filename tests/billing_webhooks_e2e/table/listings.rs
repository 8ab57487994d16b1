//! Every listing and download endpoint of the four ecosystems, asked over HTTP with one org's
//! token and compared with the versions the policy allows it.
//!
//! The rules, the same everywhere:
//! - a listing lists a version only if it is allowed, and every allowed version;
//! - "not listed" means absent from a 200 listing, or a clean refusal of the whole package
//!   (402, 403 or 404); any other status (5xx above all) is a failure, never "not listed";
//! - an allowed version downloads with 200 and exactly the published bytes, and the checksum
//!   its listing announces is those bytes' checksum; any other version is refused cleanly
//!   (402, 403 or 404).

use std::collections::BTreeSet;

use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use super::decode;
use super::fixtures::{Catalog, Eco};
use crate::common::http::{self, request};
use crate::common::{self, Server};
use crate::{CRATE, GEM, HEX_PACKAGE, PACKAGE, SELLER};

/// A whole package (or whole listing) refused, cleanly.
const REFUSALS: [u16; 3] = [402, 403, 404];

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One org's view, and the problems found so far.
pub(crate) struct Check<'a> {
    pub server: &'a Server,
    pub token: &'a str,
    pub catalog: &'a Catalog,
    pub label: &'a str,
    pub problems: &'a mut Vec<String>,
}

/// Numeric-first version order (`1.10.0` after `1.9.0`; `1.5.0.pre` before `1.5.0`).
fn version_key(v: &str) -> Vec<(u64, String)> {
    let mut key: Vec<(u64, String)> = v
        .split(['.', '-'])
        .map(|p| match p.parse::<u64>() {
            Ok(n) => (n, String::new()),
            Err(_) => (0, p.to_owned()),
        })
        .collect();
    // A release sorts after its prereleases: pad it with a part above any prerelease tag.
    if key.iter().all(|(_, tag)| tag.is_empty()) {
        key.push((0, "~".into()));
    }
    key
}

fn is_prerelease(v: &str) -> bool {
    v.chars().any(|c| c.is_ascii_alphabetic())
}

/// The newest release (not prerelease) among `versions`.
pub(crate) fn newest(versions: &BTreeSet<String>) -> Option<String> {
    versions
        .iter()
        .filter(|v| !is_prerelease(v))
        .max_by_key(|v| version_key(v))
        .cloned()
}

impl Check<'_> {
    fn problem(&mut self, what: String) {
        self.problems.push(format!("{}: {what}", self.label));
    }

    fn get(&self, path: &str, accept: Option<&str>) -> http::Response {
        let url = format!("{}/{SELLER}/{path}", self.server.url());
        let bearer = format!("Bearer {}", self.token);
        // npm sends a bearer token; the other clients send the bare token.
        let auth = if path.starts_with("npm/") {
            bearer.as_str()
        } else {
            self.token
        };
        let mut headers = vec![("authorization", auth)];
        if let Some(a) = accept {
            headers.push(("accept", a));
        }
        request("GET", &url, &headers, b"").unwrap_or_else(|e| panic!("GET {url}: {e}"))
    }

    /// The body of a listing that answered 200, `None` for a clean refusal; any other answer
    /// is a problem (and `None`).
    fn listing(&mut self, path: &str, accept: Option<&str>) -> Option<Vec<u8>> {
        let r = self.get(path, accept);
        match r.status {
            200 => Some(r.body),
            s if REFUSALS.contains(&s) => None,
            s => {
                let accept = accept.map_or(String::new(), |a| format!(" (accept: {a})"));
                self.problem(format!("GET {path}{accept} → {s} ({})", r.text().trim()));
                None
            }
        }
    }

    fn compare(&mut self, what: &str, listed: &BTreeSet<String>, expected: &BTreeSet<String>) {
        if listed != expected {
            self.problem(format!(
                "{what} lists {listed:?}, the policy allows {expected:?}"
            ));
        }
    }

    /// A download of an allowed version: 200 and the published bytes; of any other: a clean
    /// refusal.
    fn download(&mut self, path: &str, allowed: bool, bytes: &[u8]) {
        let r = self.get(path, None);
        match (allowed, r.status) {
            (true, 200) if r.body == bytes => {}
            (true, 200) => self.problem(format!(
                "GET {path} → 200 with {} bytes that are not the {} published",
                r.body.len(),
                bytes.len()
            )),
            (false, s) if REFUSALS.contains(&s) => {}
            (false, 200) => self.problem(format!(
                "GET {path} → 200 ({} bytes) but the version is not allowed",
                r.body.len()
            )),
            (_, s) => self.problem(format!(
                "GET {path} → {s} but the version is {} ({})",
                if allowed { "allowed" } else { "not allowed" },
                r.text().trim()
            )),
        }
    }

    /// A per-version document that is not the package itself (Hex API release, RubyGems quick
    /// gemspec): 200 with a body when allowed, a clean refusal otherwise.
    fn per_version(&mut self, path: &str, allowed: bool) {
        let r = self.get(path, None);
        let ok = if allowed {
            r.status == 200 && !r.body.is_empty()
        } else {
            REFUSALS.contains(&r.status)
        };
        if !ok {
            self.problem(format!(
                "GET {path} → {} but the version is {}",
                r.status,
                if allowed { "allowed" } else { "not allowed" }
            ));
        }
    }

    // ---- npm -----------------------------------------------------------------------------------

    /// Full and abbreviated packument (versions, `time`, `dist-tags`, each listed version's
    /// tarball URL and integrity), the `dist-tags` endpoint, tarballs.
    pub(crate) fn npm(&mut self, expected: &BTreeSet<String>) {
        let name = common::npm_escape(PACKAGE);
        let newest = newest(expected);
        for (what, accept) in [
            ("packument", "application/json"),
            (
                "abbreviated packument",
                "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
            ),
        ] {
            let Some(body) = self.listing(&format!("npm/{name}"), Some(accept)) else {
                self.compare(what, &BTreeSet::new(), expected);
                continue;
            };
            let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let versions = doc["versions"].as_object().cloned().unwrap_or_default();
            let listed: BTreeSet<String> = versions.keys().cloned().collect();
            self.compare(what, &listed, expected);
            for (v, manifest) in &versions {
                let bytes = self.catalog.bytes(Eco::Npm, v);
                let integrity = format!(
                    "sha512-{}",
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        Sha512::digest(bytes)
                    )
                );
                if manifest["dist"]["integrity"] != integrity.as_str() {
                    self.problem(format!(
                        "{what}: {v} dist.integrity {} is not the published tarball's",
                        manifest["dist"]["integrity"]
                    ));
                }
                let url = format!(
                    "{}/{SELLER}/npm/{PACKAGE}/-/ui-pro-{v}.tgz",
                    self.server.url()
                );
                if manifest["dist"]["tarball"] != url.as_str() {
                    self.problem(format!("{what}: {v} dist.tarball {}", manifest["dist"]));
                }
            }
            if doc["dist-tags"]["latest"].as_str() != newest.as_deref() {
                self.problem(format!(
                    "{what}: dist-tags {} (newest allowed: {newest:?})",
                    doc["dist-tags"]
                ));
            }
            if what == "packument" {
                let timed: BTreeSet<String> = doc["time"]
                    .as_object()
                    .map(|t| {
                        t.keys()
                            .filter(|k| !matches!(k.as_str(), "created" | "modified"))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                self.compare("packument `time`", &timed, expected);
            }
        }
        let tags = self
            .listing(&format!("npm/-/package/{name}/dist-tags"), None)
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null));
        let tagged: BTreeSet<String> = tags
            .as_ref()
            .and_then(Value::as_object)
            .map(|t| {
                t.values()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let latest = tags.as_ref().and_then(|t| t["latest"].as_str());
        if latest != newest.as_deref() || !tagged.is_subset(expected) {
            self.problem(format!(
                "dist-tags endpoint {tags:?} (newest allowed: {newest:?})"
            ));
        }
        for p in self.catalog.of(Eco::Npm) {
            let path = format!("npm/{PACKAGE}/-/ui-pro-{}.tgz", p.version);
            self.download(&path, expected.contains(p.version), &p.bytes);
        }
    }

    // ---- Cargo ---------------------------------------------------------------------------------

    /// The sparse index file, search's `max_version`, `.crate` downloads.
    pub(crate) fn cargo(&mut self, expected: &BTreeSet<String>) {
        let index = self.listing(&format!("cargo/index/ac/me/{CRATE}"), None);
        let mut listed = BTreeSet::new();
        for line in index
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default()
            .lines()
        {
            let entry: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            let v = entry["vers"].as_str().unwrap_or_default().to_owned();
            let want = sha256_hex(self.catalog.bytes(Eco::Cargo, &v));
            if entry["cksum"] != want.as_str() || entry["yanked"] != false {
                self.problem(format!(
                    "index line {line} (cksum of the published crate: {want})"
                ));
            }
            listed.insert(v);
        }
        self.compare("the sparse index file", &listed, expected);

        let search = self
            .listing(&format!("cargo/api/v1/crates?q={CRATE}"), None)
            .map(|b| serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null));
        let found: BTreeSet<String> = search
            .as_ref()
            .and_then(|s| s["crates"].as_array())
            .map(|c| {
                c.iter()
                    .filter(|c| c["name"] == CRATE)
                    .filter_map(|c| c["max_version"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        self.compare(
            "search's max_version",
            &found,
            &newest(expected).into_iter().collect(),
        );

        for p in self.catalog.of(Eco::Cargo) {
            let path = format!("cargo/api/v1/crates/{CRATE}/{}/download", p.version);
            self.download(&path, expected.contains(p.version), &p.bytes);
        }
    }

    // ---- Hex -----------------------------------------------------------------------------------

    /// Signed `packages/NAME`, `names`, `versions`; the API's package and releases; tarballs.
    pub(crate) fn hex(&mut self, expected: &BTreeSet<String>) {
        let mut listed = BTreeSet::new();
        if let Some(body) = self.listing(&format!("hex/packages/{HEX_PACKAGE}"), None) {
            match decode::hex_package(&body) {
                Ok((name, releases)) => {
                    if name != HEX_PACKAGE {
                        self.problem(format!("hex packages/{HEX_PACKAGE} names {name}"));
                    }
                    for r in releases {
                        let bytes = self.catalog.bytes(Eco::Hex, &r.version);
                        if r.outer_checksum != Sha256::digest(bytes).as_slice() {
                            self.problem(format!(
                                "hex packages/{HEX_PACKAGE}: {} outer checksum is not the published tarball's",
                                r.version
                            ));
                        }
                        listed.insert(r.version);
                    }
                }
                Err(e) => self.problem(format!("hex packages/{HEX_PACKAGE}: {e}")),
            }
        }
        self.compare("hex packages/NAME", &listed, expected);

        for resource in ["names", "versions"] {
            let Some(body) = self.listing(&format!("hex/{resource}"), None) else {
                self.compare(&format!("hex {resource}"), &BTreeSet::new(), expected);
                continue;
            };
            match decode::hex_listing(&body) {
                Ok(l) => {
                    if l.repository != SELLER {
                        self.problem(format!("hex {resource}: repository {}", l.repository));
                    }
                    let ours: Vec<&(String, Vec<String>)> =
                        l.packages.iter().filter(|p| p.0 == HEX_PACKAGE).collect();
                    if ours.len() > 1 {
                        self.problem(format!("hex {resource} lists {HEX_PACKAGE} twice"));
                    }
                    if resource == "names" {
                        if ours.is_empty() != expected.is_empty() {
                            self.problem(format!(
                                "hex names {} {HEX_PACKAGE}, the policy allows {expected:?}",
                                if ours.is_empty() { "omits" } else { "lists" }
                            ));
                        }
                    } else {
                        let versions: BTreeSet<String> =
                            ours.iter().flat_map(|p| p.1.iter().cloned()).collect();
                        self.compare("hex versions", &versions, expected);
                    }
                }
                Err(e) => self.problem(format!("hex {resource}: {e}")),
            }
        }

        let api = self.listing(&format!("hex/api/packages/{HEX_PACKAGE}"), None);
        let mut api_listed = BTreeSet::new();
        if let Some(body) = api {
            match tollgate_hex::etf::decode(&body) {
                Ok(term) => {
                    if let Some(tollgate_hex::etf::Term::List(releases)) = term.get("releases") {
                        for r in releases {
                            if let Some(v) = r.get("version").and_then(|v| v.as_str()) {
                                api_listed.insert(v.to_owned());
                            }
                        }
                    }
                }
                Err(e) => self.problem(format!("hex api/packages/{HEX_PACKAGE}: {e}")),
            }
        }
        self.compare("hex api/packages/NAME", &api_listed, expected);

        for p in self.catalog.of(Eco::Hex) {
            let allowed = expected.contains(p.version);
            let path = format!("hex/tarballs/{HEX_PACKAGE}-{}.tar", p.version);
            self.download(&path, allowed, &p.bytes);
            let path = format!("hex/api/packages/{HEX_PACKAGE}/releases/{}", p.version);
            self.per_version(&path, allowed);
        }
    }

    // ---- RubyGems ------------------------------------------------------------------------------

    /// The compact index (`info/NAME`, `versions`, `names`), the legacy specs files, quick
    /// gemspecs and `.gem` downloads.
    pub(crate) fn gems(&mut self, expected: &BTreeSet<String>) {
        let info = self.listing(&format!("gems/info/{GEM}"), None);
        let mut listed = BTreeSet::new();
        let info_text = info
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        for line in info_text.lines().skip_while(|l| *l != "---").skip(1) {
            let Some((version, rest)) = line.split_once(' ') else {
                self.problem(format!("info/{GEM} line {line:?}"));
                continue;
            };
            let want = sha256_hex(self.catalog.bytes(Eco::Gems, version));
            if !rest.contains(&format!("checksum:{want}")) {
                self.problem(format!(
                    "info/{GEM}: {line:?} does not carry the published gem's checksum {want}"
                ));
            }
            listed.insert(version.to_owned());
        }
        self.compare("info/NAME", &listed, expected);

        // `/versions`: `name v1,v2 md5(info/NAME)` lines; refused only when nothing is listed.
        let versions = self.listing("gems/versions", None);
        let mut in_versions = BTreeSet::new();
        let text = versions
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        for line in text.lines().skip_while(|l| *l != "---").skip(1) {
            let parts: Vec<&str> = line.split(' ').collect();
            if parts.first() != Some(&GEM) {
                continue;
            }
            let [_, list, md5] = parts[..] else {
                self.problem(format!("versions line {line:?}"));
                continue;
            };
            in_versions.extend(list.split(',').map(str::to_owned));
            let info_md5 = info
                .as_deref()
                .map(tollgate_rubygems::compact::md5_hex)
                .unwrap_or_default();
            if md5 != info_md5 {
                self.problem(format!(
                    "versions line {line:?}: md5 is not that of info/{GEM} ({info_md5})"
                ));
            }
        }
        self.compare("/versions", &in_versions, expected);

        let names = self.listing("gems/names", None);
        let named = names
            .as_deref()
            .map(String::from_utf8_lossy)
            .is_some_and(|t| t.lines().any(|l| l == GEM));
        if named == expected.is_empty() {
            self.problem(format!(
                "/names {} {GEM}, the policy allows {expected:?}",
                if named { "lists" } else { "omits" }
            ));
        }

        let releases: BTreeSet<String> = expected
            .iter()
            .filter(|v| !is_prerelease(v))
            .cloned()
            .collect();
        let prereleases: BTreeSet<String> = expected
            .iter()
            .filter(|v| is_prerelease(v))
            .cloned()
            .collect();
        let latest: BTreeSet<String> = newest(expected).into_iter().collect();
        for (file, want) in [
            ("specs.4.8.gz", &releases),
            ("latest_specs.4.8.gz", &latest),
            ("prerelease_specs.4.8.gz", &prereleases),
        ] {
            let mut got = BTreeSet::new();
            if let Some(body) = self.listing(&format!("gems/{file}"), None) {
                match decode::gem_specs(&body) {
                    Ok(entries) => {
                        for (name, version, platform) in entries {
                            if name == GEM {
                                if platform != "ruby" {
                                    self.problem(format!("{file}: {version} on {platform}"));
                                }
                                got.insert(version);
                            }
                        }
                    }
                    Err(e) => self.problem(format!("{file}: {e}")),
                }
            }
            self.compare(file, &got, want);
        }

        for p in self.catalog.of(Eco::Gems) {
            let allowed = expected.contains(p.version);
            self.download(
                &format!("gems/gems/{GEM}-{}.gem", p.version),
                allowed,
                &p.bytes,
            );
            let path = format!("gems/quick/Marshal.4.8/{GEM}-{}.gemspec.rz", p.version);
            self.per_version(&path, allowed);
        }
    }
}
