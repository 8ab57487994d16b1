//! Tests of `metadata`.

use super::*;

fn req(name: &str, requirement: &str, optional: bool, repo: Option<&str>) -> Requirement {
    Requirement {
        name: name.into(),
        requirement: requirement.into(),
        optional,
        app: Some(name.into()),
        repository: repo.map(Into::into),
    }
}

/// Written by `r3_hex_tarball:create/2` (hex_core 0.7.1 inside rebar3 3.19, OTP 25) from a map
/// whose `requirements` and `links` were maps: it writes both as lists of tuples, and writes
/// the UTF-8 bytes of `ünï` bare inside `<<"...">>`.
pub(super) const HEX_CORE_0_7_1: &str = r#"{<<"app">>,<<"tollgate_fixture">>}.
{<<"build_tools">>,[<<"rebar3">>]}.
{<<"description">>,<<"A fixture \"quoted\" \\ ünï">>}.
{<<"files">>,
 [<<"src/tollgate_fixture.erl">>,<<"src/tollgate_fixture.app.src">>]}.
{<<"licenses">>,[<<"Apache-2.0">>]}.
{<<"links">>,[{<<"GitHub">>,<<"https://example.com/x">>}]}.
{<<"name">>,<<"tollgate_fixture">>}.
{<<"requirements">>,
 [{<<"acme_dep">>,
   [{<<"app">>,<<"acme_dep">>},
{<<"optional">>,true},
{<<"requirement">>,<<">= 0.1.0">>}]},
  {<<"cowlib">>,
   [{<<"app">>,<<"cowlib">>},
{<<"optional">>,false},
{<<"repository">>,<<"hexpm">>},
{<<"requirement">>,<<"~> 2.12">>}]}]}.
{<<"version">>,<<"1.2.3">>}.
"#;

#[test]
fn reads_what_hex_core_0_7_1_writes() {
    let meta = parse(HEX_CORE_0_7_1).expect("parses");
    assert_eq!(
        meta,
        Metadata {
            name: "tollgate_fixture".into(),
            version: "1.2.3".into(),
            app: Some("tollgate_fixture".into()),
            description: Some("A fixture \"quoted\" \\ ünï".into()),
            licenses: vec!["Apache-2.0".into()],
            build_tools: vec!["rebar3".into()],
            requirements: vec![
                Requirement {
                    repository: None,
                    ..req("acme_dep", ">= 0.1.0", true, None)
                },
                req("cowlib", "~> 2.12", false, Some("hexpm")),
            ],
            files: vec![
                "src/tollgate_fixture.erl".into(),
                "src/tollgate_fixture.app.src".into()
            ],
            elixir: None,
            links: vec![("GitHub".into(), "https://example.com/x".into())],
        }
    );
    // The same file read as bytes, and as Latin-1 (what hex_core falls back to).
    assert_eq!(parse_bytes(HEX_CORE_0_7_1.as_bytes()), Ok(meta.clone()));
    assert_eq!(parse(&latin1(HEX_CORE_0_7_1.as_bytes())), Ok(meta));
}

/// What current hex_core (`io_lib_pretty:print(.., [{encoding, utf8}])`, as used by Mix's
/// `hex.build`) writes: non-ASCII binaries get `/utf8`, nested maps become kv-lists.
const HEX_CORE_CURRENT: &str = r#"{<<"app">>,<<"plug_acme">>}.
{<<"build_tools">>,[<<"mix">>]}.
{<<"description">>,<<"Ünïcödé plug, \"quoted\"\ttab"/utf8>>}.
{<<"elixir">>,<<"~> 1.14">>}.
{<<"extra">>,[{<<"maintainers">>,[<<"A">>]}]}.
{<<"files">>,[<<"lib">>,<<"lib/plug_acme.ex">>,<<"mix.exs">>,<<"README.md">>]}.
{<<"licenses">>,[<<"MIT">>]}.
{<<"links">>,
 [{<<"Docs">>,<<"https://acme.dev">>},
  {<<"GitHub">>,<<"https://github.com/acme/plug">>}]}.
{<<"name">>,<<"plug_acme">>}.
{<<"requirements">>,
 [{<<"plug">>,
   [{<<"app">>,<<"plug">>},
{<<"optional">>,false},
{<<"repository">>,<<"hexpm">>},
{<<"requirement">>,<<"~> 1.14">>}]},
  {<<"jason">>,
   [{<<"app">>,<<"jason">>},
{<<"optional">>,true},
{<<"repository">>,<<"hexpm">>},
{<<"requirement">>,<<"~> 1.0">>}]}]}.
{<<"version">>,<<"2.0.0-rc.1+build.5">>}.
"#;

#[test]
fn reads_what_current_hex_core_writes() {
    let meta = parse(HEX_CORE_CURRENT).expect("parses");
    assert_eq!(meta.name, "plug_acme");
    assert_eq!(meta.version, "2.0.0-rc.1+build.5");
    assert_eq!(
        meta.description.as_deref(),
        Some("Ünïcödé plug, \"quoted\"\ttab")
    );
    assert_eq!(meta.elixir.as_deref(), Some("~> 1.14"));
    assert_eq!(meta.build_tools, ["mix"]);
    assert_eq!(meta.files.len(), 4);
    assert_eq!(meta.links[1].1, "https://github.com/acme/plug");
    // Sorted by name although written plug, jason.
    assert_eq!(
        meta.requirements,
        [
            req("jason", "~> 1.0", true, Some("hexpm")),
            req("plug", "~> 1.14", false, Some("hexpm"))
        ]
    );
}

#[test]
fn reads_requirements_as_a_map_with_comments_and_atoms() {
    let text = r#"
        %% written by hand
        {<<"name">>, <<"acme">>}. % trailing comment
        {<<"version">>, <<"0.1.0">>}.
        {<<"requirements">>, #{
            <<"zlib">> => #{<<"app">> => <<"zlib">>, <<"optional">> => false,
                            <<"requirement">> => <<"~> 1.0">>, <<"repository">> => <<"hexpm">>},
            <<"abc">> => [{<<"requirement">>, <<">= 2.0.0">>}, {<<"app">>, nil},
                          {'optional', 'true'}]
        }}.
        {<<"links">>, #{<<"Home">> => <<"https://acme.dev">>}}.
        {<<"unknown">>, {1, 2.5e3, -16#ff, $a, [x|y]}}.
    "#;
    // The unknown key holds an improper list, which this parser does not support.
    assert!(parse(text).expect_err("improper list").contains("line 12"));
    let meta = parse(&text.replace("[x|y]", "[x, 'Y', \"y\"]")).expect("parses");
    assert_eq!(
        meta.requirements,
        [
            Requirement {
                app: None,
                ..req("abc", ">= 2.0.0", true, None)
            },
            req("zlib", "~> 1.0", false, Some("hexpm")),
        ]
    );
    assert_eq!(meta.links, [("Home".into(), "https://acme.dev".into())]);
    assert!(meta.licenses.is_empty() && meta.files.is_empty() && meta.app.is_none());
}

#[test]
fn reads_old_mix_requirements_with_a_name_key() {
    let text = r#"{<<"name">>,<<"old">>}.
{<<"version">>,<<"0.0.1">>}.
{<<"requirements">>,[[{<<"name">>,<<"poison">>},{<<"app">>,<<"poison">>},
  {<<"optional">>,false},{<<"requirement">>,<<"~> 1.0">>}]]}.
"#;
    let meta = parse(text).expect("parses");
    assert_eq!(meta.requirements, [req("poison", "~> 1.0", false, None)]);
    let empty = text.replace(
        &text[text.find("{<<\"requirements").expect("present")..],
        "{<<\"requirements\">>,[]}.\n",
    );
    assert_eq!(parse(&empty).expect("parses").requirements, []);
}

#[test]
fn reads_escapes_strings_and_charlists() {
    let text = "{<<\"name\">>, \"str\" \"ing\"}.\n\
        {version, [49, 46, 48, $., $0]}.\n\
        {<<\"description\">>, <<\"a\\nb\\tc\\\\d\\\"e\\x{1F600}\\101\\s\\x41\"/utf8, 33>>}.\n\
        {<<\"app\">>, 'quoted atom ignored for text'}.\n";
    let meta = parse(text);
    // An atom is not text.
    assert!(meta.expect_err("atom app").contains("line 4: `app`"));
    let meta = parse(&text.replace("'quoted atom ignored for text'", "nil")).expect("parses");
    assert_eq!(meta.name, "string");
    assert_eq!(meta.version, "1.0.0");
    assert_eq!(
        meta.description.as_deref(),
        Some("a\nb\tc\\d\"e\u{1F600}A A!")
    );
    assert_eq!(meta.app, None);
}

#[test]
fn reads_latin1_bytes() {
    let mut bytes = b"{<<\"name\">>,<<\"x\">>}.{<<\"version\">>,<<\"1.0.0\">>}.".to_vec();
    assert!(
        parse_bytes(&bytes)
            .expect_err("no space after dot")
            .contains("line 1")
    );
    bytes = b"{<<\"name\">>,<<\"x\">>}.\n{<<\"version\">>,<<\"1.0.0\">>}.\n".to_vec();
    bytes.extend_from_slice(b"{<<\"description\">>,<<\"caf\xe9\">>}.\n");
    assert_eq!(
        parse_bytes(&bytes).expect("parses").description.as_deref(),
        Some("café")
    );
}

#[test]
fn errors_name_the_key_and_line() {
    let base = "{<<\"name\">>,<<\"x\">>}.\n{<<\"version\">>,<<\"1.0.0\">>}.\n";
    let cases = [
        (
            "{<<\"version\">>,<<\"1.0.0\">>}.\n".to_string(),
            "`name` is missing",
        ),
        (
            "{<<\"name\">>,<<\"x\">>}.\n".to_string(),
            "`version` is missing",
        ),
        (
            format!("{base}{{<<\"requirements\">>, <<\"nope\">>}}.\n"),
            "line 3: `requirements`: expected a map or a list",
        ),
        (
            format!(
                "{base}{{<<\"requirements\">>, [{{<<\"d\">>, [{{<<\"app\">>, <<\"d\">>}}]}}]}}.\n"
            ),
            "line 3: `requirements`: `d`: `requirement` is missing",
        ),
        (
            format!(
                "{base}{{<<\"requirements\">>, [{{<<\"d\">>, [{{<<\"optional\">>, 1}}, {{<<\"requirement\">>, <<\"1.0.0\">>}}]}}]}}.\n"
            ),
            "`d`: `optional` is not true or false",
        ),
        (
            format!("{base}\n{{<<\"licenses\">>, [<<\"MIT\">>, 7]}}.\n"),
            "line 4: `licenses`: item 2 is not a string",
        ),
        (
            format!("{base}{{<<\"files\">>, [}}.\n"),
            "line 3: unexpected `}`",
        ),
        (
            format!("{base}{{<<\"files\">>, Files}}.\n"),
            "line 3: variables",
        ),
        (
            format!("{base}{{<<\"files\">>, []}}\n"),
            "line 4: expected `.`",
        ),
        (format!("{base}{{<<\"files\">>, <<\"a\n"), "unterminated"),
        (
            format!("{base}[<<\"files\">>].\n"),
            "line 3: expected a {Key, Value} tuple",
        ),
        (
            format!("{base}{{<<\"x\">>, 99999999999999999999}}.\n"),
            "too large",
        ),
        (
            format!("{base}{{<<\"x\">>, <<256>>}}.\n"),
            "string or a byte",
        ),
        ("{<<\"name\">>, <<\"a\"/utf16>>}.".to_string(), "`utf16`"),
    ];
    for (text, want) in cases {
        let err = parse(&text).expect_err(&text);
        assert!(err.contains(want), "{text:?}: {err:?} lacks {want:?}");
    }
    let deep = format!(
        "{base}{{<<\"x\">>, {}{}}}.\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    assert!(
        parse(&deep)
            .expect_err("deep")
            .contains("nested more than 32 deep")
    );
}

#[test]
fn bounds_depth_terms_and_size() {
    let base = "{<<\"name\">>,<<\"acme\">>}.\n{<<\"version\">>,<<\"1.0.0\">>}.\n";
    // A megabyte of brackets: refused at depth 33, long before the stack is in danger.
    let deep = format!("{base}{{x, {}}}.\n", "[".repeat(1 << 20));
    let e = parse(&deep).expect_err("deep");
    assert!(e.contains("nested more than 32 deep"), "{e}");
    let deep = format!("{base}{{x, {}}}.\n", "#{a => ".repeat(100_000));
    assert!(parse(&deep).expect_err("deep maps").contains("nested"));
    // Tiny terms, each costing far more parsed than sent.
    let wide = format!("{base}{{<<\"files\">>, [{}1]}}.\n", "1,".repeat(200_000));
    let e = parse(&wide).expect_err("wide");
    assert!(e.contains("more than 100000 terms"), "{e}");
    let big = format!("{base}%{}\n", "x".repeat(MAX_SIZE));
    let e = parse_bytes(big.as_bytes()).expect_err("big");
    assert!(e.contains("more than the maximum of 1048576"), "{e}");
}
