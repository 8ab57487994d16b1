//! Gemspecs and `.gem` files for the crate's unit tests.

use std::io::Write;

/// `metadata.gz` of a gem built by `gem build` (RubyGems 3.3.15): two runtime
/// dependencies, a development one, a platform, a multi-line description, metadata.
pub const REAL_YAML: &str =
    include_str!("../../tests/fixtures/demo_gem-0.3.1.pre2-x86_64-linux.gemspec.yaml");

pub const YAML: &str = r#"--- !ruby/object:Gem::Specification
name: acme_pro
version: !ruby/object:Gem::Version
  version: 1.2.0
platform: x86_64-linux
authors:
- Acme
autorequire:
bindir: bin
cert_chain: []
date: 2026-11-25 00:00:00.000000000 Z
dependencies:
- !ruby/object:Gem::Dependency
  name: acme_base
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - "~>"
      - !ruby/object:Gem::Version
        version: '1.0'
    - - ">="
      - !ruby/object:Gem::Version
        version: 1.0.1
  type: :runtime
  prerelease: false
  version_requirements: !ruby/object:Gem::Requirement
    requirements:
    - - "~>"
      - !ruby/object:Gem::Version
        version: '1.0'
- !ruby/object:Gem::Dependency
  name: rake
  requirement: !ruby/object:Gem::Requirement
    requirements:
    - - ">="
      - !ruby/object:Gem::Version
        version: '0'
  type: :development
  prerelease: false
description:
email: dev@acme.example
executables: []
files:
- lib/acme_pro.rb
homepage:
licenses:
- MIT
metadata: {}
required_ruby_version: !ruby/object:Gem::Requirement
  requirements:
  - - ">="
    - !ruby/object:Gem::Version
      version: 2.7.0
required_rubygems_version: !ruby/object:Gem::Requirement
  requirements:
  - - ">="
    - !ruby/object:Gem::Version
      version: '0'
rubygems_version: 3.3.15
specification_version: 4
summary: Acme Pro
test_files: []
"#;

pub fn gem(yaml: &str, with_data: bool) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(yaml.as_bytes()).expect("gzip");
    let metadata = gz.finish().expect("gzip");
    let mut tar = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o444);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes)
            .expect("tar entry");
    };
    add("metadata.gz", &metadata);
    if with_data {
        add("data.tar.gz", b"\x1f\x8b");
    }
    tar.into_inner().expect("tar")
}
