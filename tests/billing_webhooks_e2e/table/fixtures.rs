//! The releases of the table: one package per ecosystem, each a real package its client can
//! install (npm tarball with `package/package.json`, a `.crate` with `src/lib.rs`, a Hex tarball
//! with an `.app.src`, a `.gem` with `lib/`), published over each ecosystem's publish API. Every
//! publish returns the bytes sent, which the table compares with what downloads serve and with
//! the checksums the listings announce.
//!
//! Releases fall in three classes around the boundary instant E (a whole second, because
//! Stripe's timestamps are): published before E, published exactly at E (the access rule's
//! boundary: `published_at < cutoff` must leave it out when the cutoff is E), and after E.

use std::collections::BTreeSet;

use serde_json::json;

use crate::common::http::request;
use crate::common::{self, Server};
use crate::{CRATE, GEM, HEX_PACKAGE, PACKAGE, SELLER};

/// When a release was published relative to the boundary E.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum When {
    Before,
    AtE,
    After,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Eco {
    Npm,
    Cargo,
    Hex,
    Gems,
}

/// Every release of the table: (ecosystem, version, when). RubyGems has prereleases too, so
/// that `prerelease_specs.4.8.gz` lists something on each side of E.
pub(crate) const RELEASES: &[(Eco, &str, When)] = &[
    (Eco::Npm, "1.0.0", When::Before),
    (Eco::Npm, "1.5.0", When::AtE),
    (Eco::Npm, "2.0.0", When::After),
    (Eco::Cargo, "1.0.0", When::Before),
    (Eco::Cargo, "1.5.0", When::AtE),
    (Eco::Cargo, "2.0.0", When::After),
    (Eco::Hex, "1.0.0", When::Before),
    (Eco::Hex, "1.5.0", When::AtE),
    (Eco::Hex, "2.0.0", When::After),
    (Eco::Gems, "1.0.0", When::Before),
    (Eco::Gems, "1.1.0.pre", When::Before),
    (Eco::Gems, "1.5.0", When::AtE),
    (Eco::Gems, "1.5.0.pre", When::AtE),
    (Eco::Gems, "2.0.0", When::After),
];

/// One published release and the exact bytes of its package.
pub(crate) struct Published {
    pub eco: Eco,
    pub version: &'static str,
    pub when: When,
    pub bytes: Vec<u8>,
}

/// What was published, queried by ecosystem and class.
pub(crate) struct Catalog(pub Vec<Published>);

impl Catalog {
    pub(crate) fn of(&self, eco: Eco) -> impl Iterator<Item = &Published> {
        self.0.iter().filter(move |p| p.eco == eco)
    }

    /// The versions of `eco` published in one of the classes `allowed`.
    pub(crate) fn versions(&self, eco: Eco, allowed: &[When]) -> BTreeSet<String> {
        self.of(eco)
            .filter(|p| allowed.contains(&p.when))
            .map(|p| p.version.to_owned())
            .collect()
    }

    pub(crate) fn bytes(&self, eco: Eco, version: &str) -> &[u8] {
        self.of(eco)
            .find(|p| p.version == version)
            .map_or(&[], |p| p.bytes.as_slice())
    }
}

/// Publishes every release of class `when`, in every ecosystem.
pub(crate) fn publish_all(server: &Server, token: &str, when: When, into: &mut Catalog) {
    for &(eco, version, w) in RELEASES.iter().filter(|r| r.2 == when) {
        let bytes = match eco {
            Eco::Npm => publish_npm(server, token, version),
            Eco::Cargo => publish_crate(server, token, version),
            Eco::Hex => publish_hex(server, token, version),
            Eco::Gems => publish_gem(server, token, version),
        };
        into.0.push(Published {
            eco,
            version,
            when: w,
            bytes,
        });
    }
}

/// Moves every release of class `AtE` to exactly `e_ms` in the server's database (the only
/// way to publish at a chosen millisecond), then restarts the server so that nothing it cached
/// from before the move is served.
pub(crate) fn move_to_boundary(server: &mut Server, e_ms: i64) {
    use sqlx::Connection;
    let versions: BTreeSet<&str> = RELEASES
        .iter()
        .filter(|r| r.2 == When::AtE)
        .map(|r| r.1)
        .collect();
    let expected = RELEASES.iter().filter(|r| r.2 == When::AtE).count();
    let list = versions
        .iter()
        .map(|v| format!("'{v}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!("UPDATE releases SET published_at = {e_ms} WHERE version IN ({list})");
    let url = server.database_url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let moved = runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        let done = sqlx::query(&sql)
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = conn.close().await;
        done.rows_affected()
    });
    assert_eq!(
        usize::try_from(moved).ok(),
        Some(expected),
        "{sql} moved {moved} releases"
    );
    server.restart();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// A tar of `(path, contents)` (ustar headers, fixed mode and mtime).
fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(946_684_800);
        header.set_cksum();
        tar.append_data(&mut header, path, *bytes)
            .expect("tar entry");
    }
    tar.into_inner().expect("tar")
}

/// `npm publish`'s body for a package whose `index.js` says which version it is.
fn publish_npm(server: &Server, token: &str, version: &str) -> Vec<u8> {
    let manifest = json!({"name": PACKAGE, "version": version, "main": "index.js"}).to_string();
    let index = format!("module.exports = \"{PACKAGE} {version}\";\n");
    let tgz = gzip(&tar(&[
        ("package/package.json", manifest.as_bytes()),
        ("package/index.js", index.as_bytes()),
    ]));
    let body = common::npm_publish_body(PACKAGE, version, &tgz);
    let auth = format!("Bearer {token}");
    let r = request(
        "PUT",
        &format!(
            "{}/{SELLER}/npm/{}",
            server.url(),
            common::npm_escape(PACKAGE)
        ),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body,
    )
    .expect("npm publish");
    assert_eq!(r.status, 201, "npm publish {version}: {}", r.text());
    tgz
}

/// The body `cargo publish` sends, for a library crate.
fn publish_crate(server: &Server, token: &str, version: &str) -> Vec<u8> {
    let manifest = format!(
        "[package]\nname = \"{CRATE}\"\nversion = \"{version}\"\nedition = \"2021\"\n\
         description = \"table fixture\"\nlicense = \"MIT\"\n"
    );
    let lib = format!("pub const VERSION: &str = \"{version}\";\n");
    let root = format!("{CRATE}-{version}");
    let krate = gzip(&tar(&[
        (&format!("{root}/Cargo.toml"), manifest.as_bytes()),
        (&format!("{root}/src/lib.rs"), lib.as_bytes()),
    ]));
    let meta = json!({
        "name": CRATE, "vers": version, "deps": [], "features": {}, "authors": ["Acme"],
        "description": "table fixture", "license": "MIT", "links": null
    })
    .to_string();
    let mut body = u32::try_from(meta.len())
        .expect("small")
        .to_le_bytes()
        .to_vec();
    body.extend_from_slice(meta.as_bytes());
    body.extend_from_slice(&u32::try_from(krate.len()).expect("small").to_le_bytes());
    body.extend_from_slice(&krate);
    let r = request(
        "PUT",
        &format!("{}/{SELLER}/cargo/api/v1/crates/new", server.url()),
        &[("authorization", token)],
        &body,
    )
    .expect("cargo publish");
    assert_eq!(r.status, 200, "cargo publish {version}: {}", r.text());
    krate
}

/// A Hex package (as hex_core lays it out) published through `POST /api/publish`.
fn publish_hex(server: &Server, token: &str, version: &str) -> Vec<u8> {
    let files = ["src/acme_pro.app.src", "src/acme_pro.erl"];
    let config = format!(
        "{{<<\"name\">>,<<\"{HEX_PACKAGE}\">>}}.\n{{<<\"version\">>,<<\"{version}\">>}}.\n\
         {{<<\"app\">>,<<\"{HEX_PACKAGE}\">>}}.\n{{<<\"description\">>,<<\"table fixture\">>}}.\n\
         {{<<\"licenses\">>,[<<\"MIT\">>]}}.\n{{<<\"build_tools\">>,[<<\"rebar3\">>]}}.\n\
         {{<<\"files\">>,[{}]}}.\n{{<<\"requirements\">>,[]}}.\n",
        files
            .iter()
            .map(|f| format!("<<\"{f}\">>"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let app = format!(
        "{{application,{HEX_PACKAGE},[{{description,\"table fixture\"}},{{vsn,\"{version}\"}},\
         {{applications,[kernel,stdlib]}}]}}.\n"
    );
    let module =
        format!("-module({HEX_PACKAGE}).\n-export([version/0]).\nversion() -> \"{version}\".\n");
    let body = tollgate_hex::tarball::build(
        &config,
        &[(files[0], app.as_bytes()), (files[1], module.as_bytes())],
    );
    let r = request(
        "POST",
        &format!("{}/{SELLER}/hex/api/publish", server.url()),
        &[
            ("authorization", token),
            ("content-type", "application/octet-stream"),
        ],
        &body,
    )
    .expect("hex publish");
    assert_eq!(r.status, 201, "hex publish {version}: {}", r.text());
    body
}

/// A `.gem` as `gem build` writes it (YAML gemspec in `metadata.gz`, files in `data.tar.gz`),
/// pushed like `gem push`.
fn publish_gem(server: &Server, token: &str, version: &str) -> Vec<u8> {
    let spec = format!(
        "--- !ruby/object:Gem::Specification\nname: {GEM}\nversion: !ruby/object:Gem::Version\n  version: {version}\n\
         platform: ruby\nauthors:\n- Acme\nbindir: bin\ncert_chain: []\ndate: 2026-11-25 00:00:00.000000000 Z\n\
         dependencies: []\nexecutables: []\nfiles:\n- lib/{GEM}.rb\nlicenses:\n- MIT\nmetadata: {{}}\n\
         require_paths:\n- lib\nrequired_ruby_version: !ruby/object:Gem::Requirement\n  requirements:\n  - - \">=\"\n\
         \x20   - !ruby/object:Gem::Version\n      version: '0'\nrequired_rubygems_version: !ruby/object:Gem::Requirement\n\
         \x20 requirements:\n  - - \">=\"\n    - !ruby/object:Gem::Version\n      version: '0'\n\
         rubygems_version: 3.3.15\nspecification_version: 4\nsummary: Acme gem\ntest_files: []\n"
    );
    let lib = format!("module AcmeGem\n  VERSION = \"{version}\"\nend\n");
    let data = gzip(&tar(&[(&format!("lib/{GEM}.rb"), lib.as_bytes())]));
    let gem = tar(&[
        ("metadata.gz", &gzip(spec.as_bytes())),
        ("data.tar.gz", &data),
    ]);
    let r = request(
        "POST",
        &format!("{}/{SELLER}/gems/api/v1/gems", server.url()),
        &[
            ("authorization", token),
            ("content-type", "application/octet-stream"),
        ],
        &gem,
    )
    .expect("gem push");
    assert!(
        r.status < 300,
        "gem push {version}: {} {}",
        r.status,
        r.text()
    );
    gem
}
