//! The org's tokens page makes bot tokens: a label and a scope, the secret shown once, the list
//! showing both; a refused form says why and creates nothing.

use axum::http::StatusCode;
use tollgate_registry::domain::{TokenKind, TokenScope};

use crate::app::TestApp;

#[tokio::test]
async fn an_admin_makes_a_labelled_metadata_only_bot_token() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "admin@globex.test", true)
        .build()
        .await;
    let acme = app.seller("acme").await;
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let tokens = |registry: &tollgate_registry::registry::Registry| {
        let registry = registry.clone();
        let seller = acme.id;
        async move { registry.tokens(Some(seller)).await.expect("tokens") }
    };
    let before = tokens(app.db()).await.len();

    for (form, error) in [
        (
            &[("label", " "), ("scope", "metadata")][..],
            "a bot token needs a label",
        ),
        (
            &[("label", "renovate"), ("scope", "write")][..],
            "unknown token scope",
        ),
    ] {
        let res = admin
            .post_with_csrf("acme", "/acme/org/globex/tokens", form)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{form:?}: {res:?}");
        assert!(res.body.contains(error), "{form:?}: {}", res.body);
        assert!(!res.body.contains("tg_"), "{form:?}: a secret was shown");
        assert_eq!(
            tokens(app.db()).await.len(),
            before,
            "{form:?} made a token"
        );
    }

    let res = admin
        .post_with_csrf(
            "acme",
            "/acme/org/globex/tokens",
            &[("label", "Renovate <weekly>"), ("scope", "metadata")],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{res:?}");
    assert!(
        res.body.contains("id=\"new-token\">tg_"),
        "no secret: {}",
        res.body
    );
    assert!(
        res.body.contains("never downloads a package"),
        "{}",
        res.body
    );
    let made = tokens(app.db()).await;
    let bot = made
        .iter()
        .find(|t| t.label.is_some())
        .unwrap_or_else(|| panic!("no bot token among {made:?}"));
    assert_eq!(bot.kind, TokenKind::Org);
    assert_eq!(bot.seat_id, None, "a bot token takes no seat");
    assert_eq!(bot.label.as_deref(), Some("Renovate <weekly>"));
    assert_eq!(bot.scope, TokenScope::Metadata);

    let page = admin.get("/acme/org/globex/tokens").await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    let row_at = page
        .body
        .find(&format!("id=\"token-{}\"", bot.id))
        .expect("the bot token is listed");
    let row = &page.body[row_at..];
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    assert!(
        row.contains("Renovate &#60;weekly&#62;"),
        "label, escaped: {row}"
    );
    assert!(row.contains("metadata only"), "scope: {row}");
}

#[tokio::test]
async fn the_tokens_page_shows_each_tokens_last_use() {
    let app = TestApp::new()
        .with_seller("acme")
        .with_org("acme", "globex")
        .with_seat("globex", "admin@globex.test", true)
        .build()
        .await;
    let acme = app.seller("acme").await;
    let globex = app.org("acme", "globex").await;
    let registry = app.db();
    let bot = registry
        .issue_bot_token(acme.id, globex.id, "renovate", TokenScope::Metadata)
        .await
        .expect("bot token");
    let writer = registry
        .spawn_last_use_writer(std::time::Duration::from_secs(3600))
        .expect("recording on");
    let mut admin = app
        .sign_in_member("acme", "globex", "admin@globex.test")
        .await;
    let row = |body: &str| -> String {
        let at = body
            .find(&format!("id=\"token-{}\"", bot.id))
            .expect("the bot token is listed");
        let row = &body[at..];
        row[..row.find("</tr>").unwrap_or(row.len())].to_owned()
    };
    let page = admin.get("/acme/org/globex/tokens").await;
    assert!(row(&page.body).contains(">never<"), "{}", row(&page.body));

    let mut headers = axum::http::HeaderMap::new();
    let auth = format!("Bearer {}", bot.secret);
    headers.insert("authorization", auth.parse().expect("header"));
    headers.insert("user-agent", "Renovate/39.264.1".parse().expect("header"));
    registry
        .caller(&acme, &headers)
        .await
        .expect("database")
        .expect("authenticates");
    // Noted, not written yet: the page shows this server's note.
    let page = admin.get("/acme/org/globex/tokens").await;
    assert!(
        row(&page.body).contains("(Renovate/39.264.1)"),
        "{}",
        row(&page.body)
    );
    assert!(registry.last_uses(None).await.expect("read").is_empty());
    // Written: the same from the database.
    registry.write_last_uses().await;
    assert!(registry.pending_last_use(&bot.id).is_none());
    let page = admin.get("/acme/org/globex/tokens").await;
    assert!(
        row(&page.body).contains("(Renovate/39.264.1)"),
        "{}",
        row(&page.body)
    );
    writer.abort();
}
