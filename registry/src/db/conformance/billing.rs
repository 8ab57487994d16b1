//! Licensing through Stripe: subscriptions drive one entitlement and the seat cap, events apply
//! once, checkouts create an org with its admin and token, and seat claims respect the cap
//! under concurrency.

use crate::Error;
use crate::db::{Db, StripeConnection, SubscriptionState};
use crate::domain::{NewToken, Plan, SeatMode, Seller, TokenKind, TokenScope, VersionRule};
use crate::ids::TokenId;
use crate::time::Timestamp;

use super::fixtures::{at, npm, org, product, seller};

async fn plan(db: &Db, acme: &Seller, seats: SeatMode) -> Plan {
    let pro = product(db, acme, "pro", &[npm("@acme/pro")]).await;
    db.create_plan(
        acme.id,
        "pro-monthly",
        pro.id,
        "price_123",
        seats,
        VersionRule::PerpetualFallback,
        7,
    )
    .await
    .expect("create plan")
}

fn state(plan: &Plan, quantity: i64, ends_at: Option<i64>) -> SubscriptionState {
    SubscriptionState {
        stripe_id: "sub_1".into(),
        customer_id: "cus_1".into(),
        plan: plan.id,
        status: "active".into(),
        quantity,
        first_failed_at: None,
        starts_at: at(0),
        ends_at: ends_at.map(at),
        warning: None,
        unit_amount: Some(1500),
        currency: Some("usd".into()),
        price_interval: Some("month".into()),
    }
}

fn token(seller: &Seller) -> NewToken {
    NewToken {
        id: TokenId("0123456789abcdef".into()),
        secret_hash: "hash".into(),
        kind: TokenKind::Org,
        seller_id: seller.id,
        org_id: None,
        seat_id: None,
        packages: vec![],
        label: None,
        scope: TokenScope::Read,
    }
}

pub async fn plans_and_stripe_connections_round_trip(db: &Db) {
    let acme = seller(db, "acme").await;
    let p = plan(db, &acme, SeatMode::PerQuantity).await;
    assert_eq!(
        db.plan(acme.id, "pro-monthly").await.expect("plan").id,
        p.id
    );
    assert_eq!(p.product_slug, "pro");
    assert_eq!(p.grace_days, 7);
    assert_eq!(
        db.plan_by_price(acme.id, "price_123")
            .await
            .expect("by price")
            .map(|p| p.id),
        Some(p.id)
    );
    assert!(
        db.plan_by_price(acme.id, "price_other")
            .await
            .expect("none")
            .is_none()
    );
    let other = seller(db, "globex").await;
    assert!(
        db.plan_by_price(other.id, "price_123")
            .await
            .expect("none")
            .is_none()
    );

    assert_eq!(db.stripe_connection(acme.id).await.expect("read"), None);
    let connection = StripeConnection {
        secret_key: Some("sealed-sk".into()),
        account_id: None,
        webhook_secret: Some("sealed-whsec".into()),
    };
    db.set_stripe_connection(acme.id, &connection)
        .await
        .expect("set");
    let connect = StripeConnection {
        secret_key: None,
        account_id: Some("acct_1".into()),
        ..connection
    };
    db.set_stripe_connection(acme.id, &connect)
        .await
        .expect("replace");
    assert_eq!(
        db.stripe_connection(acme.id).await.expect("read"),
        Some(connect.clone())
    );
    // Connect OAuth rows hold no signing secret; a placeholder is cleared only if unchanged.
    assert!(
        !db.clear_webhook_secret(acme.id, "another value")
            .await
            .expect("clear")
    );
    assert!(
        db.clear_webhook_secret(acme.id, "sealed-whsec")
            .await
            .expect("clear")
    );
    assert_eq!(
        db.stripe_connection(acme.id).await.expect("read"),
        Some(StripeConnection {
            webhook_secret: None,
            ..connect
        })
    );
}

/// A Connect OAuth state is used once, by its own seller, before it expires; two uses racing
/// get one winner.
pub async fn connect_states_are_used_once(db: &Db) {
    let acme = seller(db, "acme").await;
    let globex = seller(db, "globex").await;
    let now = Timestamp::now();
    let later = Timestamp(now.0 + 60_000);
    db.issue_connect_state(acme.id, "hash-a", later)
        .await
        .expect("issue");
    db.issue_connect_state(acme.id, "hash-old", Timestamp(now.0 - 1))
        .await
        .expect("issue expired");
    let issued = db
        .connect_state("hash-a")
        .await
        .expect("read")
        .expect("row");
    assert_eq!(
        (issued.seller, issued.seller_slug.as_str(), issued.used_at),
        (acme.id, "acme", None)
    );
    assert_eq!(db.connect_state("nope").await.expect("read"), None);
    assert!(
        !db.use_connect_state(globex.id, "hash-a", now)
            .await
            .expect("other seller"),
        "another seller cannot use it"
    );
    assert!(
        !db.use_connect_state(acme.id, "hash-old", now)
            .await
            .expect("expired"),
        "expired"
    );
    let (a, b) = tokio::join!(
        db.use_connect_state(acme.id, "hash-a", now),
        db.use_connect_state(acme.id, "hash-a", now)
    );
    assert_eq!(
        [a.expect("first"), b.expect("second")]
            .iter()
            .filter(|used| **used)
            .count(),
        1,
        "exactly one use wins"
    );
    assert!(
        !db.use_connect_state(acme.id, "hash-a", now)
            .await
            .expect("replay")
    );
    let used = db
        .connect_state("hash-a")
        .await
        .expect("read")
        .expect("row");
    assert_eq!(used.used_at, Some(now));
}

pub async fn a_subscription_drives_one_entitlement_and_the_seat_cap(db: &Db) {
    let acme = seller(db, "acme").await;
    let p = plan(db, &acme, SeatMode::PerQuantity).await;
    let buyer = org(db, &acme, "buyer").await;
    assert!(
        db.apply_subscription(
            acme.id,
            Some(("evt_1", "customer.subscription.created")),
            buyer.id,
            &state(&p, 3, None)
        )
        .await
        .expect("apply")
    );
    assert!(
        !db.apply_subscription(
            acme.id,
            Some(("evt_1", "customer.subscription.created")),
            buyer.id,
            &state(&p, 9, None)
        )
        .await
        .expect("replay"),
        "a replayed event applies nothing"
    );
    assert!(db.event_seen(acme.id, "evt_1").await.expect("seen"));
    let record = db
        .subscription(acme.id, "sub_1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(record.quantity, 3);
    assert_eq!(
        (
            record.unit_amount,
            record.currency.as_deref(),
            record.price_interval.as_deref()
        ),
        (Some(1500), Some("usd"), Some("month"))
    );

    for email in ["a@b.example", "b@b.example", "c@b.example"] {
        db.add_seat(buyer.id, email, "member")
            .await
            .expect("within the cap");
    }
    let over = db.add_seat(buyer.id, "d@b.example", "member").await;
    assert!(
        matches!(over, Err(Error::Conflict(ref m)) if m.contains("all 3 paid seat(s)")),
        "{over:?}"
    );
    // Re-adding an active seat is not a new seat.
    db.add_seat(buyer.id, "a@b.example", "admin")
        .await
        .expect("existing seat");

    // Quantity 5: room for two more. Quantity 2: nobody is cut off, nobody new gets in.
    db.apply_subscription(
        acme.id,
        Some(("evt_2", "customer.subscription.updated")),
        buyer.id,
        &state(&p, 5, None),
    )
    .await
    .expect("apply");
    db.add_seat(buyer.id, "d@b.example", "member")
        .await
        .expect("room now");
    // The price is what Stripe reported last, unknown included.
    let yearly = SubscriptionState {
        unit_amount: Some(12_000),
        currency: Some("eur".into()),
        price_interval: Some("year".into()),
        ..state(&p, 5, None)
    };
    db.apply_subscription(
        acme.id,
        Some(("evt_2b", "customer.subscription.updated")),
        buyer.id,
        &yearly,
    )
    .await
    .expect("apply");
    let record = db
        .subscription(acme.id, "sub_1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        (
            record.unit_amount,
            record.currency.as_deref(),
            record.price_interval.as_deref()
        ),
        (Some(12_000), Some("eur"), Some("year"))
    );
    let unknown = SubscriptionState {
        unit_amount: None,
        currency: None,
        price_interval: None,
        ..state(&p, 5, None)
    };
    db.apply_subscription(
        acme.id,
        Some(("evt_2c", "customer.subscription.updated")),
        buyer.id,
        &unknown,
    )
    .await
    .expect("apply");
    let record = db
        .subscription(acme.id, "sub_1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        (record.unit_amount, record.currency, record.price_interval),
        (None, None, None)
    );
    db.apply_subscription(
        acme.id,
        Some(("evt_3", "customer.subscription.updated")),
        buyer.id,
        &state(&p, 2, None),
    )
    .await
    .expect("apply");
    assert_eq!(
        db.seats(buyer.id)
            .await
            .expect("seats")
            .iter()
            .filter(|s| s.active)
            .count(),
        4
    );
    assert!(
        db.add_seat(buyer.id, "e@b.example", "member")
            .await
            .is_err()
    );

    // One entitlement follows the subscription: ending it ends the grant, not a second one.
    let now = Timestamp::now().0;
    db.apply_subscription(
        acme.id,
        Some(("evt_4", "customer.subscription.deleted")),
        buyer.id,
        &state(&p, 2, Some(now - 1000)),
    )
    .await
    .expect("apply");
    let grants = db.entitlements(buyer.id).await.expect("entitlements");
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].ends_at, Some(at(now - 1000)));
    assert_eq!(grants[0].rule, VersionRule::PerpetualFallback);
    assert!(grants[0].source.starts_with("stripe:sub_1"));
}

pub async fn a_checkout_creates_the_org_admin_and_token_once(db: &Db) {
    let acme = seller(db, "acme").await;
    let p = plan(db, &acme, SeatMode::PerQuantity).await;
    org(db, &acme, "globex").await;
    let done = db
        .complete_checkout(
            acme.id,
            ("evt_c", "checkout.session.completed"),
            ("globex", "Globex"),
            "ops@globex.example",
            &token(&acme),
            &state(&p, 5, None),
        )
        .await
        .expect("checkout")
        .expect("first delivery");
    assert!(done.new_org);
    assert_eq!(done.org.slug, "globex-2", "a taken slug gets a suffix");
    assert_eq!(done.admin.role, "admin");
    assert_eq!(
        db.org_by_customer(acme.id, "cus_1")
            .await
            .expect("by customer")
            .map(|o| o.id),
        Some(done.org.id)
    );
    let tokens = db.tokens(Some(acme.id)).await.expect("tokens");
    assert_eq!(
        tokens
            .iter()
            .filter(|t| t.org_id == Some(done.org.id))
            .count(),
        1
    );
    let record = db
        .subscription(acme.id, "sub_1")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        (
            record.unit_amount,
            record.currency.as_deref(),
            record.price_interval.as_deref()
        ),
        (Some(1500), Some("usd"), Some("month")),
        "a checkout stores the price"
    );
    let again = db
        .complete_checkout(
            acme.id,
            ("evt_c", "checkout.session.completed"),
            ("globex", "Globex"),
            "ops@globex.example",
            &token(&acme),
            &state(&p, 5, None),
        )
        .await
        .expect("replay");
    assert!(again.is_none(), "a replayed checkout changes nothing");
}

pub async fn concurrent_seat_claims_never_exceed_the_cap(db: &Db) {
    let acme = seller(db, "acme").await;
    let p = plan(db, &acme, SeatMode::PerQuantity).await;
    let buyer = org(db, &acme, "buyer").await;
    db.apply_subscription(acme.id, None, buyer.id, &state(&p, 5, None))
        .await
        .expect("apply");
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let db = db.clone();
            let org = buyer.id;
            tokio::spawn(async move {
                db.add_seat(org, &format!("u{i}@buyer.example"), "member")
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for task in tasks {
        match task.await.expect("claim task") {
            Ok(_) => won += 1,
            Err(Error::Conflict(_)) => {}
            Err(e) => panic!("a claim failed for another reason: {e}"),
        }
    }
    assert_eq!(won, 5, "exactly the paid quantity of claims win");
    assert_eq!(
        db.seats(buyer.id)
            .await
            .expect("seats")
            .iter()
            .filter(|s| s.active)
            .count(),
        5
    );
}
