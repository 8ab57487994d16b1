use std::ffi::OsString;
use std::fs;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::Aead as _;

use super::sealing::NONCE_LEN;
use super::*;
use crate::db::Db;
use crate::ids::SellerId;

const KEY: [u8; 32] = [7; 32];

fn acme() -> Binding {
    Binding::stripe_secret_key(SellerId(42))
}

fn env(value: &str) -> Option<OsString> {
    Some(value.into())
}

#[test]
fn seal_then_open_round_trips() {
    let secret_box = SecretBox::new(&KEY);
    for plaintext in [
        &b""[..],
        b"sk_test_123",
        &[0u8, 255, 10, 13],
        &[9u8; 100_000],
    ] {
        let sealed = secret_box.seal(&acme(), plaintext);
        assert!(sealed.starts_with("v2:"), "{sealed:.20}");
        assert_eq!(secret_box.open(&acme(), &sealed).expect("opens"), plaintext);
    }
}

#[test]
fn every_seal_uses_a_fresh_nonce() {
    let secret_box = SecretBox::new(&KEY);
    assert_ne!(
        secret_box.seal(&acme(), b"same"),
        secret_box.seal(&acme(), b"same")
    );
}

#[test]
fn any_altered_byte_is_refused() {
    let secret_box = SecretBox::new(&KEY);
    let sealed = secret_box.seal(&acme(), b"whsec_abc");
    let bytes = STANDARD.decode(&sealed[3..]).expect("base64");
    for i in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[i] ^= 1;
        let text = format!("v2:{}", STANDARD.encode(&altered));
        assert!(
            matches!(
                secret_box.open(&acme(), &text),
                Err(SecretError::WrongKey(_))
            ),
            "byte {i}"
        );
    }
    let shortened = format!("v2:{}", STANDARD.encode(&bytes[..bytes.len() - 1]));
    assert!(secret_box.open(&acme(), &shortened).is_err());
}

#[test]
fn a_wrong_key_says_so() {
    let sealed = SecretBox::new(&KEY).seal(&acme(), b"sk_live_x");
    let from_env = SecretBox::from_sources(env(&hex::encode([8u8; 32])), Path::new("/nonexistent"))
        .expect("env key");
    let err = from_env.open(&acme(), &sealed).expect_err("wrong key");
    assert_eq!(
        err.to_string(),
        "cannot decrypt a stored secret: TOLLGATE_SECRET_KEY differs from the one it was \
         sealed with, or the value belongs to another row"
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let from_file = SecretBox::from_sources(None, dir.path()).expect("file key");
    let err = from_file
        .open(&acme(), &sealed)
        .expect_err("wrong key")
        .to_string();
    assert!(
        err.contains(KEY_FILE) && err.contains("TOLLGATE_SECRET_KEY set"),
        "{err}"
    );
}

#[test]
fn malformed_and_future_values_are_named() {
    let secret_box = SecretBox::new(&KEY);
    for (sealed, expected) in [
        ("", "does not start with v2:"),
        ("sk_live_plaintext", "does not start with v2:"),
        ("v2:%%%", "not base64"),
        ("v2:", "too short"),
        ("v2:AAAA", "too short"),
    ] {
        let err = secret_box
            .open(&acme(), sealed)
            .expect_err(sealed)
            .to_string();
        assert!(
            err.starts_with("a stored secret is malformed") && err.contains(expected),
            "{err}"
        );
    }
    let err = secret_box
        .open(&acme(), "v3:AAAA")
        .expect_err("v3")
        .to_string();
    assert!(
        err.contains("\"v3\"") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn debug_hides_the_key() {
    let shown = format!("{:?}", SecretBox::new(&KEY));
    assert!(
        shown.contains("<redacted>") && !shown.contains("7, 7"),
        "{shown}"
    );
}

#[test]
fn env_key_accepts_hex_and_base64() {
    let sealed = SecretBox::new(&KEY).seal(&acme(), b"x");
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xfb; 32]);
    let url_sealed = SecretBox::new(&[0xfb; 32]).seal(&acme(), b"x");
    for (text, sealed) in [
        (hex::encode(KEY), &sealed),
        (hex::encode(KEY).to_uppercase(), &sealed),
        (STANDARD.encode(KEY), &sealed),
        (format!(" {}\n", STANDARD.encode(KEY)), &sealed),
        (STANDARD_NO_PAD.encode(KEY), &sealed),
        (url_safe, &url_sealed),
    ] {
        let secret_box =
            SecretBox::from_sources(env(&text), Path::new("/nonexistent")).expect(&text);
        assert_eq!(secret_box.source(), &KeySource::Env);
        assert_eq!(secret_box.open(&acme(), sealed).expect("same key"), b"x");
    }
}

#[test]
fn env_key_errors_say_what_is_expected() {
    for (text, expected) in [
        ("", "is set but empty"),
        ("   ", "is set but empty"),
        ("not a key!", "neither 64 hex digits nor base64"),
        ("QUFB", "decodes to 3 bytes, not 32"),
        ("abcd", "is 4 hex digits, not 64"),
        (&hex::encode([1u8; 31]), "is 62 hex digits, not 64"),
        (&STANDARD.encode([1u8; 33]), "decodes to 33 bytes"),
    ] {
        let err = SecretBox::from_sources(env(text), Path::new("/nonexistent"))
            .expect_err(text)
            .to_string();
        assert!(err.starts_with("TOLLGATE_SECRET_KEY "), "{err}");
        assert!(err.contains(expected), "{err}");
        assert!(err.contains("64 hex digits or as base64"), "{err}");
    }
}

#[test]
fn env_key_wins_over_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    SecretBox::from_sources(env(&hex::encode(KEY)), dir.path()).expect("env key");
    assert!(
        !dir.path().join(KEY_FILE).exists(),
        "no key file when the env sets one"
    );
}

#[test]
fn key_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let first = SecretBox::from_sources(None, &data).expect("creates");
    let path = data.join(KEY_FILE);
    assert_eq!(first.source(), &KeySource::File(path.clone()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(&path).expect("key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let contents = fs::read_to_string(&path).expect("key file");
    let sealed = first.seal(&acme(), b"rsa private key");
    let second = SecretBox::from_sources(None, &data).expect("reuses");
    assert_eq!(
        second.open(&acme(), &sealed).expect("same key"),
        b"rsa private key"
    );
    assert_eq!(fs::read_to_string(&path).expect("key file"), contents);
    let names: Vec<_> = fs::read_dir(&data)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, [KEY_FILE], "no temporary files left behind");
}

#[test]
fn an_existing_key_file_is_used_never_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(KEY_FILE);
    fs::write(&path, format!("{}\n", hex::encode(KEY))).expect("write");
    let secret_box = SecretBox::from_sources(None, dir.path()).expect("reads");
    let sealed = SecretBox::new(&KEY).seal(&acme(), b"k");
    assert_eq!(secret_box.open(&acme(), &sealed).expect("same key"), b"k");

    fs::write(&path, "garbage").expect("write");
    let err = SecretBox::from_sources(None, dir.path())
        .expect_err("garbage")
        .to_string();
    assert!(
        err.contains(&path.display().to_string()) && err.contains("base64"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&path).expect("still there"), "garbage");
}

#[test]
fn concurrent_first_starts_agree_on_one_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let boxes: Vec<SecretBox> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| SecretBox::from_sources(None, dir.path())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("no panic").expect("key"))
            .collect()
    });
    let sealed = boxes[0].seal(&acme(), b"shared");
    for b in &boxes {
        assert_eq!(
            b.open(&acme(), &sealed).expect("one key for all"),
            b"shared"
        );
    }
}

#[test]
fn a_value_opens_only_for_the_row_and_purpose_it_was_sealed_for() {
    let secret_box = SecretBox::new(&KEY);
    let sealed = secret_box.seal(&Binding::stripe_secret_key(SellerId(42)), b"sk_live_x");
    for elsewhere in [
        Binding::stripe_secret_key(SellerId(43)),
        Binding::stripe_secret_key(SellerId(4)),
        Binding::stripe_webhook_secret(SellerId(42)),
        Binding::seller_key("hex_rsa", SellerId(42)),
        Binding::seller_key("license_ed25519", SellerId(42)),
    ] {
        assert!(
            matches!(
                secret_box.open(&elsewhere, &sealed),
                Err(SecretError::WrongKey(_))
            ),
            "opened as {}",
            elsewhere.as_str()
        );
    }
    let hex = secret_box.seal(&Binding::seller_key("hex_rsa", SellerId(7)), b"pem");
    assert!(
        secret_box
            .open(&Binding::seller_key("license_ed25519", SellerId(7)), &hex)
            .is_err()
    );
    assert!(
        secret_box
            .open(&Binding::seller_key("hex_rsa", SellerId(8)), &hex)
            .is_err()
    );
    assert_eq!(
        secret_box
            .open(&Binding::seller_key("hex_rsa", SellerId(7)), &hex)
            .expect("its own row"),
        b"pem"
    );
}

#[test]
fn bindings_name_purpose_and_owner() {
    assert_eq!(
        Binding::stripe_secret_key(SellerId(42)).as_str(),
        "stripe-secret-key:seller:42"
    );
    assert_eq!(
        Binding::stripe_webhook_secret(SellerId(42)).as_str(),
        "stripe-webhook-secret:seller:42"
    );
    assert_eq!(
        Binding::seller_key("hex_rsa", SellerId(42)).as_str(),
        "seller-key:hex_rsa:seller:42"
    );
    assert_eq!(Binding::token("csrf").as_str(), "token:csrf");
}

/// What earlier versions wrote: no associated data, `v1:`.
fn seal_v1(secret_box: &SecretBox, plaintext: &[u8]) -> String {
    let nonce: [u8; NONCE_LEN] = rand::random();
    let ciphertext = secret_box
        .cipher
        .encrypt(&XNonce::from(nonce), plaintext)
        .expect("seal");
    format!("v1:{}", STANDARD.encode([&nonce[..], &ciphertext].concat()))
}

#[test]
fn unbound_v1_values_open_only_through_the_start_up_rebinding() {
    let secret_box = SecretBox::new(&KEY);
    let old = seal_v1(&secret_box, b"sk_live_old");
    assert!(matches!(
        secret_box.open(&acme(), &old),
        Err(SecretError::Unbound)
    ));
    assert_eq!(
        secret_box.open_legacy(&old).expect("legacy"),
        b"sk_live_old"
    );
    assert!(
        SecretBox::new(&[8; 32]).open_legacy(&old).is_err(),
        "another key"
    );
    // v2 text is not v1.
    assert!(
        secret_box
            .open_legacy(&secret_box.seal(&acme(), b"x"))
            .is_err()
    );
}

#[tokio::test]
async fn start_up_rebinds_old_values_to_their_rows_once() {
    use crate::db::{StoredKey, StripeConnection};
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::connect(&dir.path().join("t.db").display().to_string())
        .await
        .expect("db");
    let secret_box = SecretBox::new(&KEY);
    let acme = db
        .create_seller("acme", "Acme", "a@acme.example")
        .await
        .expect("seller");
    let globex = db
        .create_seller("globex", "Globex", "g@globex.example")
        .await
        .expect("seller");
    let old_key = seal_v1(&secret_box, b"sk_live_acme");
    db.set_stripe_connection(
        acme.id,
        &StripeConnection {
            secret_key: Some(old_key.clone()),
            account_id: None,
            webhook_secret: Some(seal_v1(&secret_box, b"whsec_acme")),
        },
    )
    .await
    .expect("stripe");
    db.insert_seller_key(
        acme.id,
        "hex_rsa",
        &StoredKey {
            secret: seal_v1(&secret_box, b"pem"),
            public: "public".into(),
        },
    )
    .await
    .expect("key");
    // Planted by hand with another key: left alone, still unreadable.
    let foreign = seal_v1(&SecretBox::new(&[9; 32]), b"x");
    db.insert_seller_key(
        globex.id,
        "hex_rsa",
        &StoredKey {
            secret: foreign.clone(),
            public: "public".into(),
        },
    )
    .await
    .expect("key");

    assert_eq!(bind_legacy(&db, &secret_box).await.expect("rebind"), 3);
    let stripe = db
        .stripe_connection(acme.id)
        .await
        .expect("read")
        .expect("row");
    let key = stripe.secret_key.expect("key");
    assert!(key.starts_with("v2:"), "{key}");
    assert_eq!(
        secret_box
            .open(&Binding::stripe_secret_key(acme.id), &key)
            .expect("bound to acme"),
        b"sk_live_acme"
    );
    assert!(
        secret_box
            .open(&Binding::stripe_secret_key(globex.id), &key)
            .is_err(),
        "moved to globex, it does not open"
    );
    let whsec = stripe.webhook_secret.expect("whsec");
    assert_eq!(
        secret_box
            .open(&Binding::stripe_webhook_secret(acme.id), &whsec)
            .expect("bound"),
        b"whsec_acme"
    );
    let hex = db
        .seller_key(acme.id, "hex_rsa")
        .await
        .expect("read")
        .expect("key");
    assert_eq!(
        secret_box
            .open(&Binding::seller_key("hex_rsa", acme.id), &hex.secret)
            .expect("bound"),
        b"pem"
    );
    let left = db
        .seller_key(globex.id, "hex_rsa")
        .await
        .expect("read")
        .expect("key");
    assert_eq!(left.secret, foreign);
    // Nothing left to do on the next start; the old text no longer opens anywhere.
    assert_eq!(bind_legacy(&db, &secret_box).await.expect("again"), 0);
    assert!(matches!(
        secret_box.open(&Binding::stripe_secret_key(acme.id), &old_key),
        Err(SecretError::Unbound)
    ));
}
