//! Seats and tokens: seat revocation taking its tokens along, token round trips and listing.

use std::collections::BTreeSet;

use crate::change::Change;
use crate::db::Db;
use crate::domain::{Seat, TokenKind, TokenScope};
use crate::ids::TokenId;

use super::assertions::{assert_not_found, logged};
use super::fixtures::{at, cargo, npm, org, seat, seller, sha, token};

pub async fn revoking_a_seat_revokes_its_tokens(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    let globex = org(db, &acme, "globex").await;
    let bob = db
        .add_seat(initech.id, "bob@initech.test", "member")
        .await
        .expect("add bob");
    assert!(bob.active);
    assert_eq!(bob.org_id, initech.id);
    assert_eq!(bob.role, "member");
    assert_eq!(bob.revoked_at, None);
    let alice = seat(db, &initech, "alice@initech.test").await;
    seat(db, &globex, "carol@globex.test").await;
    let emails = |seats: Vec<Seat>| -> Vec<String> { seats.into_iter().map(|s| s.email).collect() };
    assert_eq!(
        emails(db.seats(initech.id).await.expect("seats")),
        ["alice@initech.test", "bob@initech.test"]
    );

    let bob_laptop = token("tg_bob1", &acme).seat(&bob).create(db).await;
    let bob_ci = token("tg_bob2", &acme).seat(&bob).create(db).await;
    let bob_old = token("tg_bob0", &acme).seat(&bob).create(db).await;
    db.revoke_token(&bob_old, at(100))
        .await
        .expect("revoke old");
    let alice_token = token("tg_alice", &acme).seat(&alice).create(db).await;
    let org_token = token("tg_org", &acme).org(&initech).create(db).await;

    let (revoked, changes) = logged(
        db,
        db.revoke_seat(initech.id, "bob@initech.test", at(1_000)),
    )
    .await;
    let revoked = revoked.expect("revoke bob");
    assert_eq!(changes, [Change::Tokens]);
    assert_eq!(revoked.id, bob.id);
    assert!(!revoked.active);
    assert_eq!(revoked.revoked_at, Some(at(1_000)));

    let lookup = |id: TokenId| {
        let db = db.clone();
        async move {
            db.token(&id.0)
                .await
                .expect("token lookup")
                .unwrap_or_else(|| panic!("token {id} exists"))
        }
    };
    for id in [&bob_laptop, &bob_ci] {
        let t = lookup(id.clone()).await;
        assert_eq!(t.revoked_at, Some(at(1_000)), "{id} dies with its seat");
        assert!(!t.seat_active, "{id}");
    }
    assert_eq!(
        lookup(bob_old.clone()).await.revoked_at,
        Some(at(100)),
        "an earlier revocation keeps its time"
    );
    for id in [&alice_token, &org_token] {
        let t = lookup(id.clone()).await;
        assert_eq!(t.revoked_at, None, "{id} is untouched");
        assert!(t.seat_active, "{id}");
    }
    let seats = db.seats(initech.id).await.expect("seats");
    assert!(
        seats
            .iter()
            .any(|s| s.email == "alice@initech.test" && s.active)
    );
    assert!(
        seats
            .iter()
            .any(|s| s.email == "bob@initech.test" && !s.active)
    );

    // Re-adding the seat re-activates it; its old tokens stay dead.
    let back = db
        .add_seat(initech.id, "bob@initech.test", "admin")
        .await
        .expect("re-add bob");
    assert_eq!(back.id, bob.id);
    assert!(back.active);
    assert_eq!(back.revoked_at, None);
    assert_eq!(back.role, "admin");
    let t = lookup(bob_laptop.clone()).await;
    assert_eq!(t.revoked_at, Some(at(1_000)), "old tokens stay revoked");
    assert!(t.seat_active, "the seat itself is active again");

    assert_not_found(
        db.revoke_seat(initech.id, "nobody@initech.test", at(2_000))
            .await,
        "seat `nobody@initech.test` not found",
    );
    assert_not_found(
        db.revoke_seat(globex.id, "alice@initech.test", at(2_000))
            .await,
        "seat `alice@initech.test` not found",
    );
    assert!(lookup(alice_token).await.revoked_at.is_none());
}

pub async fn tokens_round_trip_and_filter_by_seller(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let initech = org(db, &acme, "initech").await;
    let bob = seat(db, &initech, "bob@initech.test").await;

    let scope = [npm("@acme/ui"), cargo("acme-core")];
    let publish = token("tg_a_publish", &acme)
        .packages(&scope)
        .create(db)
        .await;
    let seat_token = token("tg_b_seat", &acme).seat(&bob).create(db).await;
    let org_token = token("tg_c_org", &acme).org(&initech).create(db).await;
    let foreign = token("tg_d_other", &other).create(db).await;

    let p = db
        .token(&publish.0)
        .await
        .expect("lookup")
        .expect("publish token exists");
    assert_eq!(p.id, publish);
    assert_eq!(p.kind, TokenKind::Publish);
    assert_eq!(p.secret_hash, sha("secret of tg_a_publish"));
    assert_eq!(p.seller_id, acme.id);
    assert_eq!(p.seller_slug, "acme");
    assert_eq!((p.org_id, p.org_slug.as_deref()), (None, None));
    assert_eq!((p.seat_id, p.seat_email.as_deref()), (None, None));
    assert!(p.seat_active, "a token without a seat counts as active");
    assert_eq!(p.packages, scope, "package scope round-trips");
    assert_eq!(p.revoked_at, None);
    assert!(p.created_at.0 > 0);

    let s = db
        .token(&seat_token.0)
        .await
        .expect("lookup")
        .expect("seat token exists");
    assert_eq!(s.kind, TokenKind::Seat);
    assert_eq!(s.org_id, Some(initech.id));
    assert_eq!(s.org_slug.as_deref(), Some("initech"));
    assert_eq!(s.seat_id, Some(bob.id));
    assert_eq!(s.seat_email.as_deref(), Some("bob@initech.test"));
    assert!(s.seat_active);
    assert!(s.packages.is_empty());

    let o = db
        .token(&org_token.0)
        .await
        .expect("lookup")
        .expect("org token exists");
    assert_eq!(o.kind, TokenKind::Org);
    assert_eq!(o.org_slug.as_deref(), Some("initech"));
    assert_eq!(o.seat_id, None);

    assert!(db.token("tg_missing").await.expect("lookup").is_none());

    let ids = |list: Vec<crate::domain::TokenRecord>| -> Vec<String> {
        list.into_iter().map(|t| t.id.0).collect()
    };
    assert_eq!(
        ids(db.tokens(Some(acme.id)).await.expect("acme tokens")),
        ["tg_a_publish", "tg_b_seat", "tg_c_org"]
    );
    assert_eq!(
        ids(db.tokens(Some(other.id)).await.expect("other tokens")),
        ["tg_d_other"]
    );
    assert_eq!(
        ids(db.tokens(None).await.expect("all tokens"))
            .into_iter()
            .collect::<BTreeSet<_>>(),
        ["tg_a_publish", "tg_b_seat", "tg_c_org", "tg_d_other"]
            .map(String::from)
            .into(),
    );

    let revoked = db
        .revoke_token(&org_token, at(1_000))
        .await
        .expect("revoke");
    assert_eq!(revoked.id, org_token);
    assert_eq!(revoked.revoked_at, Some(at(1_000)));
    let again = db
        .revoke_token(&org_token, at(2_000))
        .await
        .expect("revoke again");
    assert_eq!(
        again.revoked_at,
        Some(at(1_000)),
        "revoking twice keeps the first time"
    );
    let others = db.tokens(Some(acme.id)).await.expect("tokens");
    assert_eq!(
        others
            .iter()
            .filter(|t| t.revoked_at.is_some())
            .map(|t| t.id.0.as_str())
            .collect::<Vec<_>>(),
        ["tg_c_org"],
        "only that token is revoked"
    );
    assert!(
        db.token(&foreign.0)
            .await
            .expect("lookup")
            .expect("exists")
            .revoked_at
            .is_none()
    );
    assert_not_found(
        db.revoke_token(&TokenId("tg_missing".into()), at(3_000))
            .await,
        "token `tg_missing` not found",
    );
}

pub async fn bot_tokens_keep_their_label_and_scope(db: &Db) {
    let acme = seller(db, "acme").await;
    let initech = org(db, &acme, "initech").await;
    let bob = seat(db, &initech, "bob@initech.test").await;
    let renovate = token("tg_bot_renovate", &acme)
        .bot(&initech, "Renovate \u{2014} weekly", TokenScope::Metadata)
        .create(db)
        .await;
    let ci = token("tg_bot_ci", &acme)
        .bot(&initech, "GitHub Actions", TokenScope::Read)
        .create(db)
        .await;
    let plain = token("tg_plain_org", &acme).org(&initech).create(db).await;
    let bobs = token("tg_bob_seat", &acme).seat(&bob).create(db).await;

    let r = db
        .token(&renovate.0)
        .await
        .expect("lookup")
        .expect("bot token exists");
    assert_eq!(r.kind, TokenKind::Org);
    assert_eq!((r.seat_id, r.seat_email.as_deref()), (None, None));
    assert_eq!(r.label.as_deref(), Some("Renovate \u{2014} weekly"));
    assert_eq!(r.scope, TokenScope::Metadata);
    let c = db.token(&ci.0).await.expect("lookup").expect("exists");
    assert_eq!(
        (c.label.as_deref(), c.scope),
        (Some("GitHub Actions"), TokenScope::Read)
    );
    for id in [&plain, &bobs] {
        let t = db.token(&id.0).await.expect("lookup").expect("exists");
        assert_eq!((t.label, t.scope), (None, TokenScope::Read), "{id}");
    }

    // The org's pages read the same label and scope.
    let listed = crate::views::Views(db.clone())
        .org_tokens(initech.id)
        .await
        .expect("org tokens");
    let lines: BTreeSet<(&str, Option<&str>, TokenScope)> = listed
        .iter()
        .map(|t| (t.id.0.as_str(), t.label.as_deref(), t.scope))
        .collect();
    assert_eq!(
        lines,
        [
            ("tg_bob_seat", None, TokenScope::Read),
            ("tg_bot_ci", Some("GitHub Actions"), TokenScope::Read),
            (
                "tg_bot_renovate",
                Some("Renovate \u{2014} weekly"),
                TokenScope::Metadata
            ),
            ("tg_plain_org", None, TokenScope::Read),
        ]
        .into()
    );

    // A bot token survives its org's people leaving: revoking every seat leaves it alone.
    db.revoke_seat(initech.id, "bob@initech.test", at(1_000))
        .await
        .expect("revoke bob");
    let r = db
        .token(&renovate.0)
        .await
        .expect("lookup")
        .expect("exists");
    assert_eq!(r.revoked_at, None, "a bot token takes no seat");
    assert!(r.seat_active);
    let gone = db.token(&bobs.0).await.expect("lookup").expect("exists");
    assert_eq!(gone.revoked_at, Some(at(1_000)));
}
