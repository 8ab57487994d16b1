use std::time::{Duration, Instant};

use super::fixtures::{REAL_YAML, YAML, gem};
use super::*;

#[test]
fn reads_a_gemspec() {
    let spec = parse_gem(&gem(YAML, true)).expect("valid");
    assert_eq!(spec.name, "acme_pro");
    assert_eq!(spec.version, "1.2.0");
    assert_eq!(spec.platform, "x86_64-linux");
    assert_eq!(spec.full_name(), "acme_pro-1.2.0-x86_64-linux");
    assert_eq!(spec.dependencies.len(), 1, "development deps are left out");
    assert_eq!(spec.dependencies[0].name, "acme_base");
    assert_eq!(
        spec.dependencies[0].requirement,
        vec![("~>".into(), "1.0".into()), (">=".into(), "1.0.1".into())]
    );
    assert_eq!(
        spec.required_ruby_version,
        vec![(">=".into(), "2.7.0".into())]
    );
    assert_eq!(spec.authors, vec!["Acme".to_owned()]);
    assert_eq!(spec.email, vec!["dev@acme.example".to_owned()]);
    assert_eq!(spec.licenses, vec!["MIT".to_owned()]);
    assert_eq!(spec.date, "2026-11-25");
    assert_eq!(spec.description, None);
}

#[test]
fn reads_a_gemspec_written_by_gem_build() {
    let spec = parse_gem(&gem(REAL_YAML, true)).expect("valid");
    assert_eq!(spec.full_name(), "demo_gem-0.3.1.pre2-x86_64-linux");
    let deps: Vec<_> = spec.dependencies.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(deps, ["rake", "json"]);
    assert_eq!(
        spec.dependencies[0].requirement,
        vec![("~>".into(), "13.0".into()), (">=".into(), "13.0.1".into())]
    );
    assert_eq!(
        spec.required_ruby_version,
        vec![(">=".into(), "2.7".into())]
    );
    assert_eq!(
        spec.required_rubygems_version,
        vec![(">".into(), "1.3.1".into())]
    );
    assert_eq!(spec.authors, ["A One", "B Two"]);
    assert_eq!(spec.email, ["a@x.example", "b@x.example"]);
    assert_eq!(spec.homepage.as_deref(), Some("https://x.example/demo"));
    assert_eq!(
        spec.description.as_deref(),
        Some("A longer\nmultiline description: with colons & ampersands * stars")
    );
    assert_eq!(spec.rubygems_version, "3.3.15");
}

/// Where `gem` is installed: a gem fresh from `gem build` in a temporary directory parses,
/// `.gem` file and all (signatures, checksums, tar layout of this RubyGems).
#[test]
fn reads_a_gem_fresh_from_gem_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("lib")).expect("lib");
    std::fs::write(dir.path().join("lib/fresh.rb"), "module Fresh; end\n").expect("rb");
    std::fs::write(
        dir.path().join("fresh.gemspec"),
        r#"Gem::Specification.new do |s|
  s.name = "fresh"
  s.version = "2.0.1"
  s.summary = "Fresh"
  s.authors = ["Acme"]
  s.files = ["lib/fresh.rb"]
  s.license = "MIT"
  s.add_dependency "rake", ">= 12"
end
"#,
    )
    .expect("gemspec");
    if !tollgate_testkit::tool("gem", "apt-get install ruby") {
        return;
    }
    let built = std::process::Command::new("gem")
        .args(["build", "fresh.gemspec"])
        .current_dir(dir.path())
        .output()
        .expect("run gem build");
    assert!(built.status.success(), "{built:?}");
    let bytes = std::fs::read(dir.path().join("fresh-2.0.1.gem")).expect("built gem");
    let spec = parse_gem(&bytes).expect("a gem from gem build parses");
    assert_eq!(spec.full_name(), "fresh-2.0.1");
    assert_eq!(
        spec.dependencies,
        vec![Dependency {
            name: "rake".into(),
            requirement: vec![(">=".into(), "12".into())]
        }]
    );
}

/// Issue 16 rows 1 and 2 as `gem push` sends them: refused at once, with a sentence.
#[test]
fn refuses_hostile_gemspecs_quickly() {
    let deep = format!(
        "--- !ruby/object:Gem::Specification\nname:\n{}x\n",
        "- ".repeat(20_000)
    );
    let bomb = [
        "--- !ruby/object:Gem::Specification\n",
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n",
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        "name: *g\n",
    ]
    .concat();
    for (yaml, says) in [
        (deep, "nests deeper than 64 levels"),
        (bomb, "anchors or aliases"),
    ] {
        let gem = gem(&yaml, true);
        let started = Instant::now();
        let e = parse_gem(&gem).expect_err(says);
        assert!(e.contains(says), "{e}");
        assert!(started.elapsed() < Duration::from_millis(500));
    }
}

#[test]
fn bounds_the_gemspec_and_what_is_kept() {
    let stored = vec![0u8; (MAX_METADATA_GZ + 1) as usize];
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(stored.len() as u64);
    header.set_cksum();
    tar.append_data(&mut header, "metadata.gz", &stored[..])
        .expect("tar entry");
    let e = parse_gem(&tar.into_inner().expect("tar")).expect_err("too large");
    assert!(e.contains("larger than 2 MiB"), "{e}");
    let big = format!(
        "{YAML}files:\n{}",
        "- lib/a_file_of_a_very_large_gem.rb\n".repeat(60_000)
    );
    assert!(big.len() as u64 > MAX_GEMSPEC_BYTES);
    let e = parse_gem(&gem(&big, true)).expect_err("too large");
    assert!(e.contains("larger than 2 MiB"), "{e}");
    // Just under the limit and under the value count: accepted.
    let fits = format!("{YAML}files:\n{}", "- lib/a.rb\n".repeat(90_000));
    assert!((fits.len() as u64) < MAX_GEMSPEC_BYTES);
    parse_gem(&gem(&fits, true)).expect("a large but real-shaped gemspec");

    let authors = format!("{}\n", "- Someone\n".repeat(MAX_LIST + 1));
    let many = YAML.replace("authors:\n- Acme\n", &format!("authors:\n{authors}"));
    let e = parse_yaml(&many).expect_err("too many authors");
    assert!(e.contains("more than 1024 authors"), "{e}");
    let long = YAML.replace(
        "summary: Acme Pro",
        &format!("summary: {}", "x".repeat(MAX_TEXT + 1)),
    );
    let e = parse_yaml(&long).expect_err("too long");
    assert!(e.contains("summary is longer than 32 KiB"), "{e}");
    let pairs = "  - - \">=\"\n    - !ruby/object:Gem::Version\n      version: '1'\n"
        .repeat(MAX_REQUIREMENTS + 1);
    let section = "required_rubygems_version: !ruby/object:Gem::Requirement\n  requirements:\n";
    let reqs = YAML.replace(section, &format!("{section}{pairs}"));
    assert_ne!(reqs, YAML);
    let e = parse_yaml(&reqs).expect_err("too many pairs");
    assert!(e.contains("more than 32 parts"), "{e}");
}

#[test]
fn looks_at_a_bounded_number_of_tar_entries() {
    let mut tar = tar::Builder::new(Vec::new());
    for i in 0..MAX_ENTRIES {
        let mut header = tar::Header::new_ustar();
        header.set_size(0);
        header.set_cksum();
        tar.append_data(&mut header, format!("junk{i}"), &[][..])
            .expect("tar entry");
    }
    let mut bytes = tar.into_inner().expect("tar");
    bytes.truncate(bytes.len() - 1024);
    bytes.extend(gem(YAML, true));
    let e = parse_gem(&bytes).expect_err("too many entries");
    assert!(e.contains("more than 16 entries"), "{e}");
    // A name twice, as `gem install` would refuse it.
    let mut twice = gem(YAML, true);
    twice.truncate(twice.len() - 1024);
    twice.extend(gem("--- {}\n", false));
    let e = parse_gem(&twice).expect_err("twice");
    assert!(e.contains("holds `metadata.gz` twice"), "{e}");
}

fn tar_of_nothing() -> Vec<u8> {
    tar::Builder::new(Vec::new()).into_inner().expect("tar")
}

#[test]
fn refuses_malformed_gems() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not a tar".to_vec(), "not a valid gem archive"),
        (tar_of_nothing(), "no metadata.gz"),
        (gem(YAML, false), "no data.tar.gz"),
        (gem("--- [", true), "not valid YAML"),
        (
            gem(&YAML.replace("name: acme_pro", "name: 'a b'"), true),
            "invalid gem name",
        ),
        (
            gem(&YAML.replace("version: 1.2.0\n", "version: 1..2\n"), true),
            "invalid gem version",
        ),
        (
            gem(&YAML.replace("\"~>\"", "\"=~\""), true),
            "invalid requirement",
        ),
        (gem("--- {}\n", true), "no name"),
    ];
    for (bytes, text) in cases {
        let e = parse_gem(&bytes).expect_err(text);
        assert!(e.contains(text), "{e} should mention {text}");
    }
}
