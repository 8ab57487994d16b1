//! Tokens' last uses: written in batches that only move time forward, read per seller and by
//! the org pages.

use crate::db::Db;
use crate::last_use::LastUse;
use crate::views::Views;

use super::fixtures::{at, org, seller, token};

fn used(ms: i64, ip: Option<&str>, agent: Option<&str>) -> LastUse {
    LastUse {
        at: at(ms),
        ip: ip.map(str::to_owned),
        agent: agent.map(str::to_owned),
    }
}

pub async fn last_uses_are_written_in_batches_and_only_move_forward(db: &Db) {
    let acme = seller(db, "acme").await;
    let other = seller(db, "other").await;
    let globex = org(db, &acme, "globex").await;
    let ci = token("tg_lu_ci", &acme).org(&globex).create(db).await;
    let idle = token("tg_lu_idle", &acme).org(&globex).create(db).await;
    let publish = token("tg_lu_pub", &acme).create(db).await;
    let foreign = token("tg_lu_other", &other).create(db).await;

    let npm = used(2_000, Some("192.0.2.7"), Some("npm/11.19.1 node/v20.20.2"));
    let cargo = used(1_000, None, None);
    db.record_last_uses(&[
        (ci.0.clone(), npm.clone()),
        (publish.0.clone(), cargo.clone()),
        (foreign.0.clone(), used(5, Some("198.51.100.1"), None)),
        ("tg_missing".into(), used(9, None, None)),
    ])
    .await
    .expect("write a batch");
    let acme_uses = db.last_uses(Some(acme.id)).await.expect("read");
    assert_eq!(acme_uses.len(), 2, "{acme_uses:?}");
    assert_eq!(acme_uses.get(&ci), Some(&npm));
    assert_eq!(acme_uses.get(&publish), Some(&cargo));
    assert_eq!(acme_uses.get(&idle), None, "never used");
    assert_eq!(db.last_uses(None).await.expect("read all").len(), 3);

    // Another server's older note changes nothing; a newer one replaces all three fields.
    db.record_last_uses(&[(ci.0.clone(), used(1_500, Some("203.0.113.9"), Some("old")))])
        .await
        .expect("write older");
    assert_eq!(
        db.last_uses(Some(acme.id)).await.expect("read").get(&ci),
        Some(&npm)
    );
    let yarn = used(3_000, Some("203.0.113.9"), None);
    db.record_last_uses(&[(ci.0.clone(), yarn.clone())])
        .await
        .expect("write newer");
    assert_eq!(
        db.last_uses(Some(acme.id)).await.expect("read").get(&ci),
        Some(&yarn)
    );

    // A batch larger than one transaction's share: the newest of many notes of one token wins.
    let many: Vec<(String, LastUse)> = (0..1_200)
        .map(|i| {
            (
                idle.0.clone(),
                used(10_000 + i, Some("192.0.2.1"), Some("bun/1.4.5")),
            )
        })
        .collect();
    db.record_last_uses(&many).await.expect("write many");
    assert_eq!(
        db.last_uses(Some(acme.id)).await.expect("read").get(&idle),
        Some(&used(11_199, Some("192.0.2.1"), Some("bun/1.4.5")))
    );

    // The org's pages read the same figures.
    let listed = Views(db.clone())
        .org_tokens(globex.id)
        .await
        .expect("org tokens");
    let of = |id: &str| {
        listed
            .iter()
            .find(|t| t.id.0 == id)
            .and_then(|t| t.last_use.clone())
    };
    assert_eq!(of("tg_lu_ci"), Some(yarn));
    assert_eq!(of("tg_lu_idle").map(|u| u.at), Some(at(11_199)));
}
