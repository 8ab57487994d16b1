//! Seat addresses without letter case, on both databases (PostgreSQL when
//! `TOLLGATE_TEST_POSTGRES_URL` is set): migration `0006_seat_emails` on the duplicates that
//! earlier versions stored, then claims, invites and revokes in any case.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::*;
use crate::db::{LinkPurpose, NewLink};
use crate::domain::{Ecosystem, NewRelease};
use crate::domain::{Org, Seller};

async fn sql(db: &Db, text: &str) {
    sqlx::raw_sql(text)
        .execute(&db.pool)
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"));
}

async fn count(db: &Db, query: &str) -> i64 {
    sqlx::query_scalar(query)
        .fetch_one(&db.pool)
        .await
        .unwrap_or_else(|e| panic!("{query}: {e}"))
}

fn invite(seller: &Seller, org: &Org, id: &str, email: &str) -> NewLink {
    NewLink {
        id: id.into(),
        secret_hash: "0".repeat(64),
        purpose: LinkPurpose::Invite,
        seller: seller.id,
        org: Some(org.id),
        email: email.into(),
        role: Some("member".into()),
        expires_at: Timestamp(Timestamp::now().0 + 3_600_000),
    }
}

async fn seat_emails(db: Db) {
    // Undo 0006 and store what it meets in a database of an earlier version.
    sql(
        &db,
        "DROP INDEX seats_org_folded_email; DELETE FROM _sqlx_migrations WHERE version = 6",
    )
    .await;
    let acme = db
        .create_seller("acme", "Acme", "boss@acme.test")
        .await
        .expect("seller");
    let globex = db
        .create_org(acme.id, "globex", "Globex")
        .await
        .expect("org");
    let initech = db
        .create_org(acme.id, "initech", "Initech")
        .await
        .expect("org");
    let release = db
        .publish_release(
            &NewRelease {
                seller_id: acme.id,
                ecosystem: Ecosystem::Npm,
                package: "widget".into(),
                version: "1.0.0".into(),
                blob_sha256: "a".repeat(64),
                size: 1,
                metadata: serde_json::json!({}),
                dist_tags: Vec::new(),
            },
            Timestamp::now(),
        )
        .await
        .expect("release");
    let (g, i) = (globex.id.0, initech.id.0);
    sql(
        &db,
        &format!(
            "INSERT INTO seats (id, org_id, email, role, active, created_at, revoked_at) VALUES
             (101, {g}, 'Bob@Globex.test', 'member', 1, 1, NULL),
             (102, {g}, 'bob@globex.test', 'admin', 1, 2, NULL),
             (103, {g}, 'BOB@globex.test', 'member', 0, 3, 9),
             (104, {g}, 'Ann@Globex.test', 'admin', 0, 4, 9),
             (105, {g}, 'ann@globex.test', 'member', 0, 5, 8),
             (106, {g}, 'Cy@Globex.test', 'admin', 0, 6, 9),
             (107, {g}, 'cy@globex.test', 'member', 1, 7, NULL),
             (108, {i}, 'bob@globex.test', 'member', 1, 8, NULL);
             INSERT INTO tokens (id, secret_hash, kind, seller_id, org_id, seat_id, created_at)
             VALUES ('t1', 'h', 'seat', {s}, {g}, 102, 1), ('t2', 'h', 'seat', {s}, {g}, 103, 1),
                    ('t3', 'h', 'seat', {s}, {i}, 108, 1);
             INSERT INTO download_events (release_id, org_id, seat_id, token_id, at)
             VALUES ({r}, {g}, 102, 't1', 1);",
            s = acme.id.0,
            r = release.id.0,
        ),
    )
    .await;
    db.create_link(&invite(&acme, &globex, "l1", "Dan@Globex.test"))
        .await
        .expect("link");
    sql(&db, "UPDATE web_links SET email = 'Dan@Globex.test'").await;

    db.migrate().await.expect("0006 over duplicates");

    let seats: Vec<(i64, String, String, bool, Option<Timestamp>)> = db
        .seats(globex.id)
        .await
        .expect("seats")
        .into_iter()
        .map(|s| (s.id.0, s.email, s.role, s.active, s.revoked_at))
        .collect();
    assert_eq!(
        seats,
        vec![
            // Both revoked: the oldest stays, as it was.
            (
                104,
                "ann@globex.test".into(),
                "admin".into(),
                false,
                Some(Timestamp(9))
            ),
            // One of them an active admin: an active admin.
            (101, "bob@globex.test".into(), "admin".into(), true, None),
            // A revoked admin and an active member: an active member.
            (106, "cy@globex.test".into(), "member".into(), true, None),
        ]
    );
    let initech_seats = db.seats(initech.id).await.expect("seats");
    assert_eq!(initech_seats.len(), 1, "another org's seat is its own");
    assert_eq!(initech_seats[0].id.0, 108);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM tokens WHERE seat_id = 101").await,
        2,
        "the merged seat holds its duplicates' tokens"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM download_events WHERE seat_id = 101"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM web_links WHERE email = 'dan@globex.test'"
        )
        .await,
        1
    );

    // From now on: one seat per address whatever its case, in every front door.
    let again = db
        .add_seat(globex.id, " BOB@globex.TEST ", "admin")
        .await
        .expect("claim");
    assert_eq!(again.id.0, 101);
    let err = sqlx::raw_sql(&format!(
        "INSERT INTO seats (org_id, email, role, active, created_at)
         VALUES ({g}, 'BOB@GLOBEX.TEST', 'member', 1, 1)"
    ))
    .execute(&db.pool)
    .await;
    assert!(
        err.is_err(),
        "the index refuses a second seat for one address"
    );
    let held = db
        .seats_by_email(acme.id, "BoB@GlObEx.TeSt")
        .await
        .expect("seats by email");
    assert_eq!(held.len(), 2, "{held:?}");

    // An old invite accepted later leaves an active seat as it is: no demoted admin.
    db.create_link(&invite(&acme, &globex, "l2", "Bob@globex.test"))
        .await
        .expect("link");
    let used = db.use_link("l2", Timestamp::now()).await.expect("accept");
    let seat = used.seat.expect("the seat");
    assert_eq!((seat.id.0, seat.role.as_str()), (101, "admin"));
    assert_eq!(
        db.seat(SeatId(101))
            .await
            .expect("seat")
            .expect("seat")
            .role,
        "admin"
    );
    // The operator still sets roles on purpose.
    let set = db
        .add_seat(globex.id, "bob@globex.test", "member")
        .await
        .expect("claim");
    assert_eq!(set.role, "member");
    assert_eq!(
        db.seat(SeatId(101))
            .await
            .expect("seat")
            .expect("seat")
            .role,
        "member",
        "the new role is stored, not only answered"
    );

    // Revoking in any case withdraws pending invites to the address: none brings it back.
    db.create_link(&invite(&acme, &globex, "l3", "CY@globex.test"))
        .await
        .expect("link");
    let revoked = db
        .revoke_seat(globex.id, "Cy@GLOBEX.test", Timestamp::now())
        .await
        .expect("revoke");
    assert_eq!(revoked.id.0, 106);
    assert!(db.use_link("l3", Timestamp::now()).await.is_err());
    assert!(
        !db.seat(SeatId(106))
            .await
            .expect("seat")
            .expect("seat")
            .active
    );
}

#[tokio::test]
async fn seat_emails_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tollgate.db");
    let db = Db::connect(path.to_str().expect("UTF-8 path"))
        .await
        .expect("open");
    seat_emails(db).await;
}

#[tokio::test]
async fn seat_emails_on_postgres() {
    let Some(admin_url) = tollgate_testkit::POSTGRES.url() else {
        return;
    };
    let name = format!("tg_{:016x}", rand::random::<u64>());
    let mut admin = PgConnection::connect(&admin_url).await.expect("connect");
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("create database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let db = Db::connect(&format!("{base}/{name}")).await.expect("open");
    let outcome = tokio::spawn(seat_emails(db)).await;
    let _ = sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
