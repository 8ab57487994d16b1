//! More of this test target's cases (split by size).

#[allow(unused_imports)]
use super::*;

#[tokio::test]
pub(crate) async fn an_upload_is_checked_against_its_file() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    // twine posts to the index's base URL.
    let r = app
        .post_form(
            "/acme/pypi/",
            Some(&app.publish),
            &twine_fields(WHEEL_1, &w1),
            WHEEL_1,
            &w1,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // The same bytes again: a retried upload succeeds.
    let r = app.upload(WHEEL_1, &w1).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // Other bytes under the same file name.
    let (_, other) = pro_wheel("1.0.0", "X = 2\n");
    assert_ne!(other, w1);
    let r = app.upload(WHEEL_1, &other).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.reason().starts_with("File already exists"), "{r:?}");

    // One sdist per release, whatever the file name spells the version as.
    let s1 = sdist(
        "acme_pro-1.0.0",
        &core_metadata("acme-pro", "1.0.0", ">=3.8"),
    );
    app.upload_ok(SDIST_1, &s1).await;
    let second = "acme_pro-1.0.tar.gz";
    let s2 = sdist("acme_pro-1.0", &core_metadata("acme-pro", "1.0", ">=3.8"));
    let r = app.upload(second, &s2).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.reason().contains("Only one sdist"), "{r:?}");

    // The form's name is another project than the file's (acme-core is the seller's too).
    let (_, w) = pro_wheel("1.1.0", "X = 1\n");
    let file = "acme_pro-1.1.0-py3-none-any.whl";
    let fields = with(twine_fields(file, &w), "name", "acme-core");
    let r = app
        .post_form("/acme/pypi/upload/", Some(&app.publish), &fields, file, &w)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(
        r.reason().contains("Start filename for 'acme-core'"),
        "{r:?}"
    );

    // METADATA says another version than the file name.
    let file = "acme_pro-1.2.0-py3-none-any.whl";
    let w = wheel(
        "acme_pro",
        "1.2.0",
        &core_metadata("acme-pro", "1.2.1", ">=3.8"),
        "X = 1\n",
    );
    let r = app.upload(file, &w).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert_eq!(
        r.reason(),
        "Version in filename should be '1.2.1' not '1.2.0'.",
        "{r:?}"
    );

    // A digest that is not the bytes'.
    let (_, w) = pro_wheel("1.3.0", "X = 1\n");
    let file = "acme_pro-1.3.0-py3-none-any.whl";
    for field in ["sha256_digest", "blake2_256_digest", "md5_digest"] {
        // poetry adds an MD5 digest.
        let mut fields = twine_fields(file, &w);
        fields.push(("md5_digest", hex::encode(md5::Md5::digest(&w))));
        let fields = with(fields, field, &sha256(b"other bytes")[..32]);
        let r = app
            .post_form("/acme/pypi/upload/", Some(&app.publish), &fields, file, &w)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {r:?}");
        assert!(r.reason().contains(field), "{r:?}");
    }
    // The same file with its digests right is taken: only the digest was wrong. uv sends
    // no type on the file part, and its digests in upper case hex is still the same digest.
    let fields = with(
        twine_fields(file, &w),
        "sha256_digest",
        &sha256(&w).to_uppercase(),
    );
    let (content_type, body) = multipart_with(&fields, file, &w, None);
    let r = app
        .post_body("/acme/pypi/upload/", Some(&app.publish), content_type, body)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // Only what was accepted is listed.
    let page = app.page_json("acme-pro", &app.org).await;
    let mut files: Vec<&str> = page["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["filename"].as_str().expect("filename"))
        .collect();
    files.sort_unstable();
    assert_eq!(files, [WHEEL_1, SDIST_1, file]);
    let listed = page["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["filename"] == WHEEL_1)
        .expect("wheel 1");
    assert_eq!(
        listed["hashes"]["sha256"],
        sha256(&w1),
        "the first bytes stay"
    );
}

#[tokio::test]
pub(crate) async fn only_a_publish_token_uploads() {
    let app = TestApp::new().await;
    let (_, w) = pro_wheel("1.0.0", "X = 1\n");
    let fields = twine_fields(WHEEL_1, &w);

    let r = app
        .post_form("/acme/pypi/upload/", Some(&app.org), &fields, WHEEL_1, &w)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");

    let r = app
        .post_form("/acme/pypi/upload/", None, &fields, WHEEL_1, &w)
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");
    assert!(
        r.header(header::WWW_AUTHENTICATE).starts_with("Basic "),
        "{:?}",
        r.headers
    );
    assert!(r.reason().contains("twine upload"), "{r:?}");

    let r = app
        .post_form(
            "/acme/pypi/upload/",
            Some("tg_not_a_token"),
            &fields,
            WHEEL_1,
            &w,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{r:?}");

    // Nothing was stored: the seller's own upload is the first.
    app.upload_ok(WHEEL_1, &w).await;
    let page = app.page_json("acme-pro", &app.org).await;
    assert_eq!(page["files"].as_array().expect("files").len(), 1);
}

/// pip and uv send credentials they have only after a Basic challenge; the seller's own
/// token reads its pages (`uv publish --check-url`).
#[tokio::test]
pub(crate) async fn reading_needs_a_token_and_the_seller_reads_its_own() {
    let app = TestApp::new().await;
    let (_, w) = pro_wheel("1.0.0", "X = 1\n");
    let r = app
        .post_form(
            "/acme/pypi/legacy/",
            Some(&app.publish),
            &twine_fields(WHEEL_1, &w),
            WHEEL_1,
            &w,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    for path in [
        "/acme/pypi/simple/".to_owned(),
        "/acme/pypi/simple/acme-pro/".to_owned(),
        format!("/acme/pypi/files/{WHEEL_1}"),
        format!("/acme/pypi/files/{WHEEL_1}.metadata"),
    ] {
        for token in [None, Some("tg_not_a_token")] {
            let r = app.get_with(&path, token, &[("accept", JSON)]).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {r:?}");
            assert!(
                r.header(header::WWW_AUTHENTICATE).starts_with("Basic "),
                "{path}"
            );
            assert!(!r.text().contains(WHEEL_1), "{path}: {r:?}");
        }
    }
    let page = app.page_json("acme-pro", &app.publish).await;
    assert_eq!(page["files"][0]["hashes"]["sha256"], sha256(&w), "{page}");
    let r = app
        .get("/acme/pypi/simple/", &app.publish, Some(JSON))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        r.json()["projects"],
        serde_json::json!([{"name": "acme-pro"}])
    );
}

#[tokio::test]
pub(crate) async fn the_pages_list_every_file_with_its_hashes() {
    let app = TestApp::new().await;
    let (meta1, w1) = pro_wheel("1.0.0", "X = 1\n");
    let s1 = sdist(
        "acme_pro-1.0.0",
        &core_metadata("acme-pro", "1.0.0", ">=3.8"),
    );
    let meta2 = core_metadata("acme-pro", "2.0.0", ">=3.9");
    let w2 = wheel("acme_pro", "2.0.0", &meta2, "X = 2\n");
    for (file, bytes) in [(WHEEL_2, &w2), (WHEEL_1, &w1), (SDIST_1, &s1)] {
        app.upload_ok(file, bytes).await;
    }
    let wheels = [(WHEEL_1, &w1, &meta1), (WHEEL_2, &w2, &meta2)];

    // PEP 658: the METADATA bytes as they are in the wheel.
    for (file, _, meta) in wheels {
        let r = app
            .get(&format!("/acme/pypi/files/{file}.metadata"), &app.org, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert_eq!(r.text(), *meta);
    }

    // JSON, as pip asks for it.
    let r = app
        .get("/acme/pypi/simple/acme-pro/", &app.org, Some(PIP_ACCEPT))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.header(header::CONTENT_TYPE), JSON);
    assert_eq!(r.header(header::VARY), "Accept");
    assert_eq!(r.header(header::CACHE_CONTROL), "private, no-cache");
    let json_etag = r.header(header::ETAG).to_owned();
    let page = r.json();
    assert_eq!(page["meta"]["api-version"], "1.1");
    assert_eq!(page["name"], "acme-pro");
    assert_eq!(page["versions"], serde_json::json!(["1.0.0", "2.0.0"]));
    let files = page["files"].as_array().expect("files");
    assert_eq!(files.len(), 3, "{page}");
    for (file, bytes, meta) in wheels {
        let f = files
            .iter()
            .find(|f| f["filename"] == file)
            .unwrap_or_else(|| panic!("{file} listed: {page}"));
        assert_eq!(f["hashes"]["sha256"], sha256(bytes), "{file}");
        assert_eq!(f["size"], bytes.len(), "{file}");
        assert_eq!(f["url"], format!("../../files/{file}"));
        assert_eq!(f["core-metadata"]["sha256"], sha256(meta.as_bytes()));
        assert_eq!(f["yanked"], false);
        assert!(
            f["upload-time"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.len() == 27),
            "{f}"
        );
    }
    let f2 = files.iter().find(|f| f["filename"] == WHEEL_2).expect("2");
    assert_eq!(f2["requires-python"], ">=3.9");
    let sd = files
        .iter()
        .find(|f| f["filename"] == SDIST_1)
        .expect("sdist");
    assert_eq!(sd["hashes"]["sha256"], sha256(&s1));
    assert_eq!(sd["core-metadata"], false, "no PEP 658 file for an sdist");

    // HTML, asked for and by default.
    let mut html_etag = None;
    for accept in [Some("text/html"), None] {
        let r = app
            .get("/acme/pypi/simple/acme-pro/", &app.org, accept)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        assert!(r.header(header::CONTENT_TYPE).starts_with("text/html"));
        assert_eq!(r.header(header::VARY), "Accept");
        let html = r.text();
        for (file, bytes, meta) in wheels {
            let link = format!("<a href=\"../../files/{file}#sha256={}\"", sha256(bytes));
            let at = html.find(&link).unwrap_or_else(|| panic!("{link}: {html}"));
            let tag = &html[at..at + html[at..].find('>').expect("tag end")];
            assert!(
                tag.contains(&format!(
                    "data-core-metadata=\"sha256={}\"",
                    sha256(meta.as_bytes())
                )),
                "{tag}"
            );
            assert!(!tag.contains("data-yanked"), "{tag}");
        }
        assert!(html.contains("data-requires-python=\"&gt;=3.9\""), "{html}");
        let link = format!("<a href=\"../../files/{SDIST_1}#sha256={}\"", sha256(&s1));
        let at = html.find(&link).unwrap_or_else(|| panic!("{link}: {html}"));
        let tag = &html[at..at + html[at..].find('>').expect("tag end")];
        assert!(!tag.contains("core-metadata"), "{tag}");
        html_etag = Some(r.header(header::ETAG).to_owned());
    }
    let html_etag = html_etag.expect("etag");
    // Every link, followed as pip follows it, is the file its fragment's hash names.
    let html = app
        .get("/acme/pypi/simple/acme-pro/", &app.org, Some("text/html"))
        .await
        .text();
    let mut followed = 0;
    for line in html.lines().filter(|l| l.starts_with("<a href=\"")) {
        let start = "<a href=\"".len();
        let href = &line[start..start + line[start..].find('"').expect("end")];
        let (url, hash) = href.split_once("#sha256=").expect("a hash");
        let r = app
            .get(&resolve("/acme/pypi/simple/acme-pro/", url), &app.org, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{href}: {r:?}");
        assert_eq!(sha256(&r.body), hash, "{href}");
        followed += 1;
    }
    assert_eq!(followed, 3, "{html}");
    assert_ne!(html_etag, json_etag);

    // Revalidation: the same page is 304; the other form's tag is not this one's.
    let path = "/acme/pypi/simple/acme-pro/";
    let r = app
        .get_with(
            path,
            Some(&app.org),
            &[("accept", JSON), ("if-none-match", &json_etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{r:?}");
    assert!(r.body.is_empty());
    assert_eq!(r.header(header::ETAG), json_etag);
    let r = app
        .get_with(
            path,
            Some(&app.org),
            &[("accept", JSON), ("if-none-match", &html_etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    // A new file changes the page.
    let (_, w3) = pro_wheel("3.0.0", "X = 3\n");
    app.upload_ok("acme_pro-3.0.0-py3-none-any.whl", &w3).await;
    let r = app
        .get_with(
            path,
            Some(&app.org),
            &[("accept", JSON), ("if-none-match", &json_etag)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(
        r.json()["versions"],
        serde_json::json!(["1.0.0", "2.0.0", "3.0.0"])
    );

    // Other spellings of the name go to the normalized one (PEP 503).
    for from in [
        "/acme/pypi/simple/Acme_Pro/",
        "/acme/pypi/simple/acme.pro/",
        "/acme/pypi/simple/Acme_Pro",
        "/acme/pypi/simple/acme-pro",
    ] {
        let r = app.get(from, &app.org, Some(JSON)).await;
        assert!(r.status.is_redirection(), "{from}: {r:?}");
        assert_eq!(
            resolve(from, r.header(header::LOCATION)),
            "/acme/pypi/simple/acme-pro/",
            "{from}"
        );
    }
}

#[tokio::test]
pub(crate) async fn each_org_sees_what_its_licence_covers() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    let core = wheel(
        "acme_core",
        "1.0.0",
        &core_metadata("acme-core", "1.0.0", ">=3.8"),
        "C = 1\n",
    );
    let core_file = "acme_core-1.0.0-py3-none-any.whl";
    app.upload_ok(core_file, &core).await;
    // A product of acme-core alone, and an org licensed to it only.
    let core_only = app
        .registry
        .create_product(
            app.seller,
            "core",
            "Acme Core",
            &["pypi:acme-core".parse().expect("ref")],
        )
        .await
        .expect("product");
    let partial_org = app
        .registry
        .create_org(app.seller, "partial", "Partial")
        .await
        .expect("org");
    app.grant(partial_org.id, core_only.id, None, VersionRule::WhileActive)
        .await;
    let partial = token_of(
        &app.registry,
        TokenKind::Org,
        app.seller,
        Some(partial_org.id),
    )
    .await;
    let stranger = app.org_token("stranger", None).await;

    let names = |r: &Resp| -> Vec<String> {
        let mut n: Vec<String> = r.json()["projects"]
            .as_array()
            .expect("projects")
            .iter()
            .map(|p| p["name"].as_str().expect("name").to_owned())
            .collect();
        n.sort_unstable();
        n
    };
    let r = app.get("/acme/pypi/simple/", &app.org, Some(JSON)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(names(&r), ["acme-core", "acme-pro"]);
    let r = app.get("/acme/pypi/simple/", &partial, Some(JSON)).await;
    assert_eq!(names(&r), ["acme-core"]);
    let r = app
        .get("/acme/pypi/simple/", &partial, Some("text/html"))
        .await;
    let html = r.text();
    assert!(
        html.contains("<a href=\"acme-core/\">acme-core</a>"),
        "{html}"
    );
    assert!(!html.contains("acme-pro"), "{html}");
    let r = app.get("/acme/pypi/simple/", &stranger, Some(JSON)).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(names(&r).is_empty(), "{r:?}");

    // What is not listed is not found, on the page and the file.
    for (token, path) in [
        (&partial, "/acme/pypi/simple/acme-pro/".to_owned()),
        (&partial, format!("/acme/pypi/files/{WHEEL_1}")),
        (&partial, format!("/acme/pypi/files/{WHEEL_1}.metadata")),
        (&stranger, "/acme/pypi/simple/acme-pro/".to_owned()),
        (&stranger, "/acme/pypi/simple/acme-core/".to_owned()),
        (&stranger, format!("/acme/pypi/files/{core_file}")),
    ] {
        let r = app.get(&path, token, Some(JSON)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {r:?}");
    }
    let r = app
        .get(&format!("/acme/pypi/files/{core_file}"), &partial, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body, core);
}

#[tokio::test]
pub(crate) async fn an_ended_licence_says_when_it_ended() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    let lapsed = app
        .org_token("lapsed", Some((Some(ENDED), VersionRule::WhileActive)))
        .await;
    for path in [
        "/acme/pypi/simple/".to_owned(),
        "/acme/pypi/simple/acme-pro/".to_owned(),
        format!("/acme/pypi/files/{WHEEL_1}"),
        format!("/acme/pypi/files/{WHEEL_1}.metadata"),
    ] {
        let r = app.get(&path, &lapsed, Some(PIP_ACCEPT)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {r:?}");
        let reason = r.reason();
        assert!(
            reason.contains("ended on 2025-10-01") && reason.contains("Acme Pro"),
            "{path}: {reason}"
        );
    }
}
