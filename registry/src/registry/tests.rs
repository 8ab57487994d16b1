//! [`Registry::authenticate`]: the presented secret is looked up by its id and compared with the
//! stored hash, and the token must belong to the seller whose URL was asked.

use super::*;
use crate::domain::{NewToken, TokenScope};
use crate::ids::TokenId;

struct Setup {
    registry: Registry,
    acme: Seller,
    globex: Seller,
    _dir: tempfile::TempDir,
}

/// A SQLite database and a filesystem store in a fresh temporary directory.
pub(crate) async fn temp_db_and_store() -> (Db, Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::connect(&dir.path().join("t.db").display().to_string())
        .await
        .expect("db");
    let store = Store::connect(&dir.path().join("blobs").display().to_string())
        .await
        .expect("store");
    (db, store, dir)
}

async fn setup() -> Setup {
    let (db, store, dir) = temp_db_and_store().await;
    let acme = db
        .create_seller("acme", "Acme", "boss@acme.test")
        .await
        .expect("seller");
    let globex = db
        .create_seller("globex", "Globex", "boss@globex.test")
        .await
        .expect("seller");
    let registry = Registry::open(db, store, Options::default())
        .await
        .expect("registry");
    Setup {
        registry,
        acme,
        globex,
        _dir: dir,
    }
}

/// A publish token of `seller`; returns its secret.
async fn publish_token(registry: &Registry, seller: &Seller) -> (TokenId, String) {
    let g = token::generate();
    registry
        .db()
        .create_token(&NewToken {
            id: g.id.clone(),
            secret_hash: g.secret_hash.clone(),
            kind: TokenKind::Publish,
            seller_id: seller.id,
            org_id: None,
            seat_id: None,
            packages: Vec::new(),
            label: None,
            scope: TokenScope::Read,
        })
        .await
        .expect("token");
    (g.id, g.secret)
}

fn refusal(result: Result<Caller, AuthOrDbError>) -> AuthError {
    match result {
        Ok(caller) => panic!("authenticated {}", caller.0.id),
        Err(AuthOrDbError::Auth(e)) => e,
        Err(AuthOrDbError::Db(e)) => panic!("database error: {e}"),
    }
}

#[tokio::test]
async fn a_token_authenticates_only_with_its_secret_at_its_sellers_urls() {
    let s = setup().await;
    let (id, secret) = publish_token(&s.registry, &s.acme).await;
    let caller = s
        .registry
        .authenticate(&s.acme, Some(&format!(" {secret}\n")))
        .await
        .expect("its own secret, spaces trimmed");
    assert_eq!(caller.0.id, id);
    // Asked again: from the cache, the same answers.
    for _ in 0..2 {
        assert!(
            s.registry
                .authenticate(&s.acme, Some(&secret))
                .await
                .is_ok()
        );
        assert_eq!(
            refusal(s.registry.authenticate(&s.globex, Some(&secret)).await),
            AuthError::Unknown,
            "another seller's URL"
        );
    }
    // The same id with another secret of the right shape.
    let last = secret.chars().last().expect("not empty");
    let forged = format!(
        "{}{}",
        &secret[..secret.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    assert_eq!(
        refusal(s.registry.authenticate(&s.acme, Some(&forged)).await),
        AuthError::Unknown
    );
    // Another token of the right shape that does not exist; garbage; nothing.
    assert_eq!(
        refusal(
            s.registry
                .authenticate(&s.acme, Some(&token::generate().secret))
                .await
        ),
        AuthError::Unknown
    );
    assert_eq!(
        refusal(s.registry.authenticate(&s.acme, Some("tg_nope")).await),
        AuthError::Unknown
    );
    assert_eq!(
        refusal(s.registry.authenticate(&s.acme, None).await),
        AuthError::Missing
    );
}

#[tokio::test]
async fn a_revoked_token_is_refused_with_the_reason() {
    let s = setup().await;
    let (id, secret) = publish_token(&s.registry, &s.acme).await;
    s.registry
        .db()
        .revoke_token(&id, Timestamp::now())
        .await
        .expect("revoke");
    assert_eq!(
        refusal(s.registry.authenticate(&s.acme, Some(&secret)).await),
        AuthError::Revoked(format!("token {id} was revoked"))
    );
    // A wrong secret for a revoked token says nothing about the token.
    let (_, other) = publish_token(&s.registry, &s.globex).await;
    let forged = format!("tg_{}_{}", id.0, &other[20..]);
    assert_eq!(
        refusal(s.registry.authenticate(&s.acme, Some(&forged)).await),
        AuthError::Unknown
    );
}
