//! The shop every test of this suite buys from, built over the real publish endpoints (no client
//! tools needed): seller `acme` sells product `pro` = npm `@acme/ui-pro` (which depends on the
//! paid `@acme/core`) and `@acme/core`, the crate `acme-core`, the gem `acme_gem` and the Hex
//! package `acme_pro`, each at 1.0.0 and 1.1.0, to org `globex`.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use crate::common::Server;
use crate::common::Token;
use crate::common::http::{Response, request};

pub const SELLER: &str = "acme";
pub const ORG: &str = "globex";
pub const PRODUCT: &str = "pro";
pub const UI_PRO: &str = "@acme/ui-pro";
pub const CORE: &str = "@acme/core";
pub const CRATE: &str = "acme-core";
pub const GEM: &str = "acme_gem";
pub const HEX: &str = "acme_pro";
pub const VERSIONS: [&str; 2] = ["1.0.0", "1.1.0"];
const PACKAGES: [&str; 5] = [
    "npm:@acme/ui-pro",
    "npm:@acme/core",
    "cargo:acme-core",
    "rubygems:acme_gem",
    "hex:acme_pro",
];

/// The shop: seller, product, org `globex` with a live grant; `ecosystems` (of npm, cargo,
/// gems, hex) get their packages published at both versions.
pub struct Shop;

impl Shop {
    /// Opens the shop; the answer is the seller's publish token.
    pub fn open(server: &Server, ecosystems: &[&str]) -> Token {
        server.seller(SELLER);
        server.product(SELLER, PRODUCT, &PACKAGES);
        server.org(SELLER, ORG);
        server.grant(SELLER, ORG, PRODUCT, &[]);
        let publisher = server.publish_token(SELLER, &[]);
        for version in VERSIONS {
            for eco in ecosystems {
                match *eco {
                    "npm" => {
                        publish_npm(server, &publisher, CORE, version, &[]);
                        publish_npm(server, &publisher, UI_PRO, version, &[(CORE, "^1.0.0")]);
                    }
                    "cargo" => publish(server, &publisher, Cargo(CRATE), version),
                    "gems" => publish(server, &publisher, Gem(GEM), version),
                    "hex" => publish(server, &publisher, Hex(HEX), version),
                    other => panic!("no such ecosystem {other}"),
                }
            }
        }
        publisher
    }
}

/// A bot token of `org` (`tollgate token create --bot LABEL [--scope SCOPE]`).
pub fn bot_token(server: &Server, org: &str, label: &str, scope: &str) -> Token {
    server.token(SELLER, &["--org", org, "--bot", label, "--scope", scope])
}

/// A gzipped tar of `(path, bytes)`.
pub fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    gzip(&tar_of(files))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(data).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(946_684_800);
        tar.append_data(&mut header, path, *data)
            .expect("tar entry");
    }
    tar.into_inner().expect("tar")
}

fn sent(res: std::io::Result<Response>, what: &str) -> Response {
    let res = res.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(res.status < 300, "{what}: {} {}", res.status, res.text());
    res
}

/// Publishes `name@version` with `dependencies`, the way `npm publish` sends it: the manifest
/// and a real tarball (`package/package.json`, `package/index.js`).
pub fn publish_npm(
    server: &Server,
    publisher: &Token,
    name: &str,
    version: &str,
    dependencies: &[(&str, &str)],
) {
    use base64::Engine;
    let deps: serde_json::Map<String, serde_json::Value> = dependencies
        .iter()
        .map(|(n, r)| ((*n).to_owned(), serde_json::Value::from(*r)))
        .collect();
    let manifest = serde_json::json!({
        "name": name, "version": version, "main": "index.js", "license": "UNLICENSED",
        "description": "fixture", "dependencies": deps,
    });
    let index = format!("module.exports = {:?};\n", format!("{name} {version}"));
    let tarball = tgz(&[
        ("package/package.json", manifest.to_string().as_bytes()),
        ("package/index.js", index.as_bytes()),
    ]);
    let data = base64::engine::general_purpose::STANDARD.encode(&tarball);
    let short = name.rsplit('/').next().unwrap_or(name);
    let body = serde_json::json!({
        "_id": name, "name": name, "dist-tags": {"latest": version},
        "versions": {version: manifest},
        "_attachments": {format!("{short}-{version}.tgz"): {
            "content_type": "application/octet-stream", "data": data, "length": tarball.len()}}
    });
    let url = format!("{}/{SELLER}/npm/{}", server.url(), name.replace('/', "%2f"));
    let auth = format!("Bearer {}", publisher.secret);
    sent(
        request(
            "PUT",
            &url,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body.to_string().as_bytes(),
        ),
        &format!("publish {name}@{version}"),
    );
}

/// A package of one of the other ecosystems.
enum Other<'a> {
    Cargo(&'a str),
    Gem(&'a str),
    Hex(&'a str),
}
use Other::{Cargo, Gem, Hex};

/// Publishes `what` at `version` over its ecosystem's publish endpoint, with the token raw in
/// `Authorization` as cargo, gem and mix send it.
fn publish(server: &Server, publisher: &Token, what: Other<'_>, version: &str) {
    let (path, body, name) = match what {
        Cargo(name) => ("cargo/api/v1/crates/new", cargo_body(name, version), name),
        Gem(name) => ("gems/api/v1/gems", gem(name, version), name),
        Hex(name) => ("hex/api/publish", hex_tarball(name, version), name),
    };
    let url = format!("{}/{SELLER}/{path}", server.url());
    sent(
        request(
            if path.starts_with("cargo") {
                "PUT"
            } else {
                "POST"
            },
            &url,
            &[
                ("authorization", &publisher.secret),
                ("content-type", "application/octet-stream"),
                ("accept", "application/json"),
            ],
            &body,
        ),
        &format!("publish {name} {version}"),
    );
}

/// Cargo's publish body around a real `.crate` (NAME-VERS/Cargo.toml, NAME-VERS/src/lib.rs).
fn cargo_body(name: &str, vers: &str) -> Vec<u8> {
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"{vers}\"\nedition = \"2021\"\n\
         description = \"fixture\"\nlicense = \"MIT\"\n"
    );
    let lib = format!("pub const VERSION: &str = {vers:?};\n");
    let krate = tgz(&[
        (&format!("{name}-{vers}/Cargo.toml"), manifest.as_bytes()),
        (&format!("{name}-{vers}/src/lib.rs"), lib.as_bytes()),
    ]);
    let meta = serde_json::json!({
        "name": name, "vers": vers, "deps": [], "features": {}, "authors": ["Acme"],
        "description": "fixture", "license": "MIT", "links": null
    });
    let json = serde_json::to_vec(&meta).expect("metadata json");
    let mut body = (json.len() as u32).to_le_bytes().to_vec();
    body.extend_from_slice(&json);
    body.extend_from_slice(&(krate.len() as u32).to_le_bytes());
    body.extend_from_slice(&krate);
    body
}

/// A `.gem` as `gem build` lays it out, with the gemspec YAML `Gem::Specification#to_yaml`
/// writes.
fn gem(name: &str, version: &str) -> Vec<u8> {
    let req = |op: &str, v: &str| {
        format!(
            "!ruby/object:Gem::Requirement\n  requirements:\n  - - \"{op}\"\n    - !ruby/object:Gem::Version\n      version: '{v}'\n"
        )
    };
    let yaml = format!(
        "--- !ruby/object:Gem::Specification\nname: {name}\nversion: !ruby/object:Gem::Version\n  version: {version}\n\
         platform: ruby\nauthors:\n- Acme\nautorequire:\nbindir: bin\ncert_chain: []\n\
         date: 2026-01-01 00:00:00.000000000 Z\ndependencies: []\ndescription: fixture\n\
         email: dev@acme.example\nexecutables: []\nextensions: []\nextra_rdoc_files: []\n\
         files:\n- lib/{name}.rb\nhomepage: https://acme.example\nlicenses:\n- Nonstandard\n\
         metadata: {{}}\npost_install_message:\nrdoc_options: []\nrequire_paths:\n- lib\n\
         required_ruby_version: {}required_rubygems_version: {}requirements: []\n\
         rubygems_version: 3.3.15\nsigning_key:\nspecification_version: 4\nsummary: fixture\n\
         test_files: []\n",
        req(">=", "2.7"),
        req(">=", "0")
    );
    let data = tgz(&[(&format!("lib/{name}.rb"), b"module AcmeGem; end\n")]);
    let metadata = gzip(yaml.as_bytes());
    tar_of(&[("metadata.gz", &metadata), ("data.tar.gz", &data)])
}

/// A Hex package tarball (format 3) with a correct checksum.
fn hex_tarball(name: &str, version: &str) -> Vec<u8> {
    let bin = |s: &str| format!("<<\"{s}\">>");
    let meta = [
        ("name", bin(name)),
        ("version", bin(version)),
        ("app", bin(name)),
        ("description", bin("fixture")),
        ("build_tools", format!("[{}]", bin("rebar3"))),
        ("licenses", format!("[{}]", bin("Proprietary"))),
        ("files", format!("[{}]", bin(&format!("src/{name}.erl")))),
        ("requirements", "[]".to_owned()),
    ]
    .iter()
    .map(|(k, v)| format!("{{{},{v}}}.\n", bin(k)))
    .collect::<String>();
    let module = format!("-module({name}).\n");
    let contents = tgz(&[(&format!("src/{name}.erl"), module.as_bytes())]);
    let checksum = Sha256::new()
        .chain_update(b"3")
        .chain_update(meta.as_bytes())
        .chain_update(&contents)
        .finalize();
    let checksum: String = checksum.iter().map(|b| format!("{b:02X}")).collect();
    tar_of(&[
        ("VERSION", b"3"),
        ("CHECKSUM", checksum.as_bytes()),
        ("metadata.config", meta.as_bytes()),
        ("contents.tar.gz", &contents),
    ])
}
