//! More of this test target's cases (split by size).

#[allow(unused_imports)]
use super::*;

#[tokio::test]
pub(crate) async fn perpetual_fallback_keeps_the_files_published_before_the_end() {
    let app = TestApp::new().await;
    let (meta1, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let end = Timestamp::now();
    let loyal = app
        .org_token("loyal", Some((Some(end), VersionRule::PerpetualFallback)))
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (_, w2) = pro_wheel("2.0.0", "X = 2\n");
    app.upload_ok(WHEEL_2, &w2).await;

    let page = app.page_json("acme-pro", &loyal).await;
    assert_eq!(page["versions"], serde_json::json!(["1.0.0"]), "{page}");
    let files = page["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{page}");
    assert_eq!(files[0]["filename"], WHEEL_1);
    let html = app
        .get("/acme/pypi/simple/acme-pro/", &loyal, Some("text/html"))
        .await
        .text();
    assert!(html.contains(WHEEL_1) && !html.contains(WHEEL_2), "{html}");
    // The buyer with a live licence sees both.
    assert_eq!(
        app.page_json("acme-pro", &app.org).await["versions"],
        serde_json::json!(["1.0.0", "2.0.0"])
    );

    let r = app
        .get(&format!("/acme/pypi/files/{WHEEL_1}"), &loyal, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.body, w1);
    let r = app
        .get(
            &format!("/acme/pypi/files/{WHEEL_1}.metadata"),
            &loyal,
            None,
        )
        .await;
    assert_eq!(r.text(), meta1);
    // An org whose fallback ended before anything was published keeps nothing: the reason,
    // not a 404 that would send uv to its next index.
    let early = app
        .org_token("early", Some((Some(ENDED), VersionRule::PerpetualFallback)))
        .await;
    for path in [
        "/acme/pypi/simple/".to_owned(),
        "/acme/pypi/simple/acme-pro/".to_owned(),
        format!("/acme/pypi/files/{WHEEL_1}"),
    ] {
        let r = app.get(&path, &early, Some(JSON)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {r:?}");
        assert!(r.reason().contains("ended on 2025-10-01"), "{path}: {r:?}");
    }

    for path in [
        format!("/acme/pypi/files/{WHEEL_2}"),
        format!("/acme/pypi/files/{WHEEL_2}.metadata"),
    ] {
        let r = app.get(&path, &loyal, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {r:?}");
        let reason = r.reason();
        assert!(
            reason.contains(&format!("ended on {}", end.date()))
                && reason.contains("published before then stay available"),
            "{reason}"
        );
    }
}

#[tokio::test]
pub(crate) async fn downloads_are_the_uploaded_bytes_yanked_or_not() {
    let app = TestApp::new().await;
    let (meta1, w1) = pro_wheel("1.0.0", "X = 1\n");
    let (_, w2) = pro_wheel("2.0.0", "X = 2\n");
    let s1 = sdist(
        "acme_pro-1.0.0",
        &core_metadata("acme-pro", "1.0.0", ">=3.8"),
    );
    for (file, bytes) in [(WHEEL_1, &w1), (WHEEL_2, &w2), (SDIST_1, &s1)] {
        app.upload_ok(file, bytes).await;
    }
    for (file, bytes) in [(WHEEL_1, &w1), (WHEEL_2, &w2), (SDIST_1, &s1)] {
        let r = app
            .get(&format!("/acme/pypi/files/{file}"), &app.org, None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{file}: {r:?}");
        assert_eq!(r.header(header::CONTENT_TYPE), "application/octet-stream");
        assert!(r.body == **bytes, "{file}: other bytes");
    }
    // PEP 658 metadata is a wheel's only.
    let r = app
        .get(
            &format!("/acme/pypi/files/{SDIST_1}.metadata"),
            &app.org,
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    // A file that is not there.
    for file in [
        "acme_pro-9.0.0-py3-none-any.whl",
        "acme_pro-9.0.0-py3-none-any.whl.metadata",
    ] {
        let r = app
            .get(&format!("/acme/pypi/files/{file}"), &app.org, None)
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{file}: {r:?}");
    }

    // Yanked (PEP 592): listed as such, and still downloads.
    app.yank(WHEEL_1, true).await;
    let page = app.page_json("acme-pro", &app.org).await;
    for f in page["files"].as_array().expect("files") {
        let yanked = f["filename"] == WHEEL_1;
        assert_eq!(f["yanked"], yanked, "{f}");
    }
    assert_eq!(page["versions"], serde_json::json!(["1.0.0", "2.0.0"]));
    let html = app
        .get("/acme/pypi/simple/acme-pro/", &app.org, Some("text/html"))
        .await
        .text();
    let line = |file: &str| {
        html.lines()
            .find(|l| l.contains(&format!("files/{file}#")))
            .unwrap_or_else(|| panic!("{file}: {html}"))
            .to_owned()
    };
    assert!(line(WHEEL_1).contains(" data-yanked"), "{html}");
    assert!(!line(WHEEL_2).contains("data-yanked"), "{html}");
    assert!(!line(SDIST_1).contains("data-yanked"), "{html}");
    let r = app
        .get(&format!("/acme/pypi/files/{WHEEL_1}"), &app.org, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(r.body == w1);
    let r = app
        .get(
            &format!("/acme/pypi/files/{WHEEL_1}.metadata"),
            &app.org,
            None,
        )
        .await;
    assert_eq!((r.status, r.text()), (StatusCode::OK, meta1));
    // Unyanked again.
    app.yank(WHEEL_1, false).await;
    let page = app.page_json("acme-pro", &app.org).await;
    assert!(
        page["files"]
            .as_array()
            .expect("files")
            .iter()
            .all(|f| f["yanked"] == false)
    );
}

#[tokio::test]
pub(crate) async fn impossible_names_are_404_without_a_lookup() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    let long = "a".repeat(300);
    for path in [
        "/acme/pypi/simple/..%2f..%2fetc/".to_owned(),
        "/acme/pypi/simple/..%2f..%2fetc".to_owned(),
        "/acme/pypi/simple/a%20b/".to_owned(),
        "/acme/pypi/simple/%C3%A9/".to_owned(),
        "/acme/pypi/simple/-acme/".to_owned(),
        format!("/acme/pypi/simple/{long}/"),
        format!("/acme/pypi/simple/{long}"),
        format!("/acme/pypi/files/..%2f..%2f{WHEEL_1}"),
        format!("/acme/pypi/files/..%2f..%2f{WHEEL_1}.metadata"),
        format!("/acme/pypi/files/acme_pro%5c{WHEEL_1}"),
        format!("/acme/pypi/files/{long}-1.0-py3-none-any.whl"),
        format!("/acme/pypi/files/{long}-1.0-py3-none-any.whl.metadata"),
        format!(
            "/acme/pypi/files/acme_pro-{}-py3-none-any.whl",
            "1.".repeat(150)
        ),
        "/acme/pypi/files/acme_pro-1.0.0.zip".to_owned(),
        "/acme/pypi/files/acme_pro-1.0.0+local.tar.gz".to_owned(),
        "/acme/pypi/files/acme_pro-1.0.0-py3-any.whl".to_owned(),
        "/acme/pypi/files/acme%20pro-1.0.0.tar.gz".to_owned(),
    ] {
        let before = app.lookups();
        let r = app.get(&path, &app.org, Some(JSON)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {r:?}");
        assert_eq!(app.lookups() - before, 0, "{path}: no package lookup");
        assert!(r.body.len() < 250, "{path}: the name is not echoed whole");
    }
    // The counter does count: a plausible name is looked up.
    for path in [
        "/acme/pypi/simple/nothere/",
        "/acme/pypi/files/nothere-1.0.tar.gz",
        "/acme/pypi/files/nothere-1.0-py3-none-any.whl.metadata",
    ] {
        let before = app.lookups();
        let r = app.get(path, &app.org, Some(JSON)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {r:?}");
        assert!(app.lookups() > before, "{path}: looked up");
    }
    let before = app.lookups();
    let r = app
        .get(&format!("/acme/pypi/files/{WHEEL_1}"), &app.org, None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(app.lookups() > before);
}

/// What twine, uv and poetry may send wrong, each refused with the sentence they print.
#[tokio::test]
pub(crate) async fn every_refused_upload_says_why() {
    let app = TestApp::new().await;
    let (_, w) = pro_wheel("1.0.0", "X = 1\n");
    let post = |fields: Fields, file: &'static str, bytes: Vec<u8>| {
        let app = &app;
        async move {
            app.post_form(
                "/acme/pypi/upload/",
                Some(&app.publish),
                &fields,
                file,
                &bytes,
            )
            .await
        }
    };
    let no_record = {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("acme_pro-1.0.0.dist-info/METADATA", options)
            .expect("zip");
        zip.write_all(core_metadata("acme-pro", "1.0.0", ">=3.8").as_bytes())
            .expect("zip");
        zip.start_file("acme_pro-1.0.0.dist-info/WHEEL", options)
            .expect("zip");
        zip.finish().expect("zip").into_inner()
    };
    let other_name = wheel(
        "acme_pro",
        "1.0.0",
        &core_metadata("acme-core", "1.0.0", ">=3.8"),
        "X = 1\n",
    );
    let sdist_pkg_info = sdist("acme_pro-1.0.0", &core_metadata("acme-pro", "1.0.1", ""));
    // (what, the form's fields, the file name, its bytes, the reason)
    let cases: Vec<(&str, Fields, &'static str, Vec<u8>, &str)> = vec![
        (
            "register, as poetry sends it first",
            with(twine_fields(WHEEL_1, &w), ":action", "submit"),
            WHEEL_1,
            w.clone(),
            "Unsupported :action 'submit'",
        ),
        (
            "a wheel with no RECORD",
            twine_fields(WHEEL_1, &no_record),
            WHEEL_1,
            no_record.clone(),
            "RECORD is missing",
        ),
        (
            "METADATA of another project",
            twine_fields(WHEEL_1, &other_name),
            WHEEL_1,
            other_name.clone(),
            "('acme-core') is not the project of its file name ('acme-pro')",
        ),
        (
            "PKG-INFO of another version",
            twine_fields(SDIST_1, &sdist_pkg_info),
            SDIST_1,
            sdist_pkg_info.clone(),
            "Version in filename should be '1.0.1' not '1.0.0'.",
        ),
        (
            "the form's version is another",
            with(twine_fields(WHEEL_1, &w), "version", "1.0.1"),
            WHEEL_1,
            w.clone(),
            "Version in filename should be '1.0.1' not '1.0.0'.",
        ),
        (
            "filetype sdist for a wheel",
            with(twine_fields(WHEEL_1, &w), "filetype", "sdist"),
            WHEEL_1,
            w.clone(),
            "filetype 'sdist' does not match",
        ),
        (
            "a local version",
            twine_fields("acme_pro-1.0.0-py3-none-any.whl", &w),
            "acme_pro-1.0.0+local-py3-none-any.whl",
            w.clone(),
            "Invalid wheel file name",
        ),
        (
            "a path as the file name",
            twine_fields(WHEEL_1, &w),
            "../acme_pro-1.0.0-py3-none-any.whl",
            w.clone(),
            "Invalid distribution file name",
        ),
        (
            "an egg",
            twine_fields(WHEEL_1, &w),
            "acme_pro-1.0.0-py3.12.egg",
            w.clone(),
            "Invalid file extension",
        ),
    ];
    for (what, fields, file, bytes, reason) in cases {
        let r = post(fields, file, bytes).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {r:?}");
        assert!(r.reason().contains(reason), "{what}: {r:?}");
    }

    // twine sends the name as METADATA spells it; any spelling of the project is the project.
    let r = post(
        with(twine_fields(WHEEL_1, &w), "name", "Acme_Pro"),
        WHEEL_1,
        w.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");

    // Not a form at all.
    let req = Request::builder()
        .method("POST")
        .uri("/acme/pypi/upload/")
        .header(header::AUTHORIZATION, basic(&app.publish))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .expect("request");
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{r:?}");
    assert!(r.reason().contains("multipart/form-data"), "{r:?}");

    // Larger than the limit (4 MiB here).
    let big = vec![7u8; 5 * 1024 * 1024];
    let file = "acme_pro-1.1.0-py3-none-any.whl";
    let r = post(twine_fields(file, &big), file, big.clone()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{r:?}");

    let page = app.page_json("acme-pro", &app.org).await;
    assert_eq!(page["files"].as_array().expect("files").len(), 1, "{page}");
}

/// `versions` (PEP 700) lists releases: two spellings of one version are one release, and
/// the order is PEP 440's.
#[tokio::test]
pub(crate) async fn versions_are_releases_in_pep_440_order() {
    let app = TestApp::new().await;
    let short = wheel(
        "acme_pro",
        "1.0",
        &core_metadata("acme-pro", "1.0", ">=3.8"),
        "X = 1\n",
    );
    app.upload_ok("acme_pro-1.0-py3-none-any.whl", &short).await;
    let s = sdist(
        "acme_pro-1.0.0",
        &core_metadata("acme-pro", "1.0.0", ">=3.8"),
    );
    app.upload_ok(SDIST_1, &s).await;
    for v in ["1.10.0", "1.9.0", "2.0.0rc1", "2.0.0"] {
        let (_, w) = pro_wheel(v, "X = 1\n");
        app.upload_ok(&format!("acme_pro-{v}-py3-none-any.whl"), &w)
            .await;
    }
    let page = app.page_json("acme-pro", &app.org).await;
    let versions: Vec<&str> = page["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v.as_str().expect("version"))
        .collect();
    assert_eq!(versions.len(), 5, "one entry per release: {versions:?}");
    assert!(matches!(versions[0], "1.0" | "1.0.0"), "{versions:?}");
    assert_eq!(versions[1..], ["1.9.0", "1.10.0", "2.0.0rc1", "2.0.0"]);
}

/// A download is recorded once per file fetched; `HEAD` (uv asks a wheel's size first) and
/// the PEP 658 metadata are not downloads, and `HEAD` follows the licence as `GET` does.
#[tokio::test]
pub(crate) async fn only_a_fetched_file_is_a_recorded_download() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    app.upload_ok(WHEEL_1, &w1).await;
    let recorded = || async {
        app.registry
            .downloads(app.seller, 100)
            .await
            .expect("downloads")
    };
    let path = format!("/acme/pypi/files/{WHEEL_1}");
    let head = |token: String| {
        let path = path.clone();
        let app = &app;
        async move {
            let req = Request::builder()
                .method("HEAD")
                .uri(path)
                .header(header::AUTHORIZATION, basic(&token))
                .body(Body::empty())
                .expect("request");
            app.send(req).await
        }
    };
    let r = head(app.org.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert_eq!(r.header(header::CONTENT_LENGTH), w1.len().to_string());
    assert!(r.body.is_empty());
    let r = app.get(&format!("{path}.metadata"), &app.org, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    assert!(
        recorded().await.is_empty(),
        "HEAD and metadata are not downloads"
    );

    let stranger = app.org_token("stranger", None).await;
    let r = head(stranger).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{r:?}");
    let lapsed = app
        .org_token("lapsed", Some((Some(ENDED), VersionRule::WhileActive)))
        .await;
    let r = head(lapsed).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{r:?}");

    let r = app.get(&path, &app.org, None).await;
    assert_eq!(r.status, StatusCode::OK, "{r:?}");
    let events = recorded().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].version, WHEEL_1);
    assert_eq!(events[0].package, "acme-pro");
}

/// A file's name is its project written as PEP 427 and PEP 625 write it (`acme_pro`): another
/// spelling of the same wheel is not a new file name that takes other bytes.
#[tokio::test]
pub(crate) async fn another_spelling_of_a_file_is_not_another_file() {
    let app = TestApp::new().await;
    let (_, w1) = pro_wheel("1.0.0", "X = 1\n");
    let (_, other) = pro_wheel("1.0.0", "X = 2\n");
    app.upload_ok(WHEEL_1, &w1).await;
    for file in [
        "Acme_Pro-1.0.0-py3-none-any.whl",
        "acme.pro-1.0.0-py3-none-any.whl",
        "ACME_PRO-1.0.0.tar.gz",
    ] {
        let bytes = if file.ends_with(".whl") {
            other.clone()
        } else {
            sdist(
                "ACME_PRO-1.0.0",
                &core_metadata("acme-pro", "1.0.0", ">=3.8"),
            )
        };
        let r = app.upload(file, &bytes).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{file}: {r:?}");
    }
    let page = app.page_json("acme-pro", &app.org).await;
    assert_eq!(page["files"].as_array().expect("files").len(), 1, "{page}");
}

/// Wheel tags are letters, digits, `_` and `.` (PEP 425, PEP 427): a file name holding URL
/// syntax (`#`, `?`, `%`) or markup would be listed with a link no client can follow.
#[tokio::test]
pub(crate) async fn a_wheel_tag_is_letters_digits_and_dots() {
    let app = TestApp::new().await;
    let (_, w) = pro_wheel("1.0.0", "X = 1\n");
    for file in [
        "acme_pro-1.0.0-py3-none-any#x.whl",
        "acme_pro-1.0.0-py3-none-any?x=1.whl",
        "acme_pro-1.0.0-py3-none-a%2541.whl",
        "acme_pro-1.0.0-1<b>x&amp;-py3-none-any.whl",
        "acme_pro-1.0.0-py3-none-any;x.whl",
    ] {
        let r = app.upload(file, &w).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{file}: {r:?}");
        assert!(
            r.reason().contains("Invalid wheel file name"),
            "{file}: {r:?}"
        );
    }
}
