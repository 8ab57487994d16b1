//! The download table: for each ecosystem × caller state (live, lapsed with perpetual fallback,
//! revoked seat, no license, unknown package) and each kind of release (plain, yanked, retired,
//! published after the license ended), what a listing shows and what a download answers must
//! agree: a listed release downloads; a release that downloads unlisted is exactly the yanked
//! one of an ecosystem whose yank table says so; every refusal is the same for both.

mod scopes;

use std::collections::BTreeSet;

use super::*;
use crate::db::Db;
use crate::domain::{
    NewRelease, NewToken, PackageRef, Retirement, Seller, TokenKind, TokenScope, VersionRule,
};
use crate::ids::OrgId;
use crate::registry::{AuthError, AuthOrDbError, Options};
use crate::time::Timestamp;
use crate::token;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const ECOSYSTEMS: [Ecosystem; 5] = [
    Ecosystem::Npm,
    Ecosystem::Cargo,
    Ecosystem::Hex,
    Ecosystem::Rubygems,
    Ecosystem::Pypi,
];
/// 1.0.0 before the lapsed org's end, 2.0.0 after it; 3.0.0 yanked, 4.0.0 retired.
const VERSIONS: [&str; 4] = ["1.0.0", "2.0.0", "3.0.0", "4.0.0"];

struct World {
    registry: Registry,
    seller: Seller,
    live: String,
    lapsed: String,
    unlicensed: String,
    revoked_seat: String,
    /// Bot tokens of the live org: scope `metadata` ("renovate") and scope `read` ("ci").
    metadata: String,
    reader: String,
    _dir: tempfile::TempDir,
}

async fn token_for(
    db: &Db,
    seller: &Seller,
    org: OrgId,
    seat: Option<crate::ids::SeatId>,
) -> String {
    let g = token::generate();
    db.create_token(&NewToken {
        id: g.id.clone(),
        secret_hash: g.secret_hash.clone(),
        kind: if seat.is_some() {
            TokenKind::Seat
        } else {
            TokenKind::Org
        },
        seller_id: seller.id,
        org_id: Some(org),
        seat_id: seat,
        packages: Vec::new(),
        label: None,
        scope: TokenScope::Read,
    })
    .await
    .expect("token");
    g.secret
}

async fn bot_for(db: &Db, seller: &Seller, org: OrgId, label: &str, scope: TokenScope) -> String {
    let g = token::generate();
    db.create_token(&NewToken {
        id: g.id.clone(),
        secret_hash: g.secret_hash.clone(),
        kind: TokenKind::Org,
        seller_id: seller.id,
        org_id: Some(org),
        seat_id: None,
        packages: Vec::new(),
        label: Some(label.into()),
        scope,
    })
    .await
    .expect("bot token");
    g.secret
}

async fn world() -> World {
    let (db, store, dir) = crate::registry::tests::temp_db_and_store().await;
    let seller = db
        .create_seller("acme", "Acme", "boss@acme.test")
        .await
        .expect("seller");
    let now = Timestamp::now().0;
    let ended = Timestamp(now - DAY);
    let packages: Vec<PackageRef> = ECOSYSTEMS
        .iter()
        .map(|&ecosystem| PackageRef {
            ecosystem,
            name: "kit".into(),
        })
        .collect();
    let published = [now - 3 * DAY, now - 2 * HOUR, now - HOUR, now - HOUR / 2];
    for &ecosystem in &ECOSYSTEMS {
        for (version, at) in VERSIONS.iter().zip(published) {
            let bytes = format!("{ecosystem} kit {version}");
            let blob = store.put_bytes(bytes.as_bytes()).await.expect("blob");
            let release = NewRelease {
                seller_id: seller.id,
                ecosystem,
                package: "kit".into(),
                version: (*version).into(),
                blob_sha256: blob.sha256,
                size: bytes.len() as i64,
                metadata: serde_json::json!({}),
                dist_tags: Vec::new(),
            };
            db.publish_release(&release, Timestamp(at))
                .await
                .expect("publish");
        }
        let package = db
            .package_state(seller.id, ecosystem, "kit")
            .await
            .expect("state")
            .expect("published");
        db.set_yanked(package.id, "3.0.0", true)
            .await
            .expect("yank");
        let retirement = Retirement {
            reason: "deprecated".into(),
            message: "use 2".into(),
        };
        db.set_retired(package.id, "4.0.0", Some(&retirement))
            .await
            .expect("retire");
    }
    let product = db
        .create_product(seller.id, "pro", "Kit Pro", &packages)
        .await
        .expect("product");
    let org = |slug: &'static str| {
        let db = &db;
        let seller = &seller;
        async move { db.create_org(seller.id, slug, slug).await.expect("org") }
    };
    let live = org("live").await;
    db.grant(
        live.id,
        product.id,
        Timestamp(now - 10 * DAY),
        None,
        VersionRule::WhileActive,
        "manual",
    )
    .await
    .expect("grant");
    let lapsed = org("lapsed").await;
    db.grant(
        lapsed.id,
        product.id,
        Timestamp(now - 10 * DAY),
        Some(ended),
        VersionRule::PerpetualFallback,
        "manual",
    )
    .await
    .expect("grant");
    let unlicensed = org("unlicensed").await;
    let seat = db
        .add_seat(live.id, "dev@live.test", "member")
        .await
        .expect("seat");
    let revoked_seat = token_for(&db, &seller, live.id, Some(seat.id)).await;
    db.revoke_seat(live.id, "dev@live.test", Timestamp::now())
        .await
        .expect("revoke");
    World {
        live: token_for(&db, &seller, live.id, None).await,
        lapsed: token_for(&db, &seller, lapsed.id, None).await,
        unlicensed: token_for(&db, &seller, unlicensed.id, None).await,
        revoked_seat,
        metadata: bot_for(&db, &seller, live.id, "renovate", TokenScope::Metadata).await,
        reader: bot_for(&db, &seller, live.id, "ci", TokenScope::Read).await,
        registry: Registry::open(db, store, Options::default())
            .await
            .expect("registry"),
        seller,
        _dir: dir,
    }
}

/// What one caller sees of `kit` in one ecosystem: the listed versions, or the listing's
/// refusal; and per version, the download's answer.
struct Seen {
    listed: Result<BTreeSet<&'static str>, Refusal>,
    downloads: Vec<(&'static str, Result<(), Refusal>)>,
}

async fn seen(w: &World, secret: &str, ecosystem: Ecosystem) -> Seen {
    let caller = w
        .registry
        .authenticate(&w.seller, Some(secret))
        .await
        .expect("authenticates");
    let listed = w
        .registry
        .readable(&caller, ecosystem, "kit")
        .await
        .expect("readable")
        .and_then(|r| {
            let versions: BTreeSet<&'static str> = VERSIONS
                .into_iter()
                .filter(|v| r.listed().any(|l| l.version == *v))
                .collect();
            if versions.is_empty() {
                Err(r.refusal_when_empty())
            } else {
                Ok(versions)
            }
        });
    let mut downloads = Vec::new();
    for version in VERSIONS {
        let answer = w
            .registry
            .download(&caller, ecosystem, "kit", version, None)
            .await
            .expect("download");
        downloads.push((
            version,
            answer.map(|d| {
                assert_eq!(
                    d.release.version, version,
                    "{ecosystem}: delivered another version"
                );
            }),
        ));
    }
    Seen { listed, downloads }
}

fn set(versions: &[&'static str]) -> BTreeSet<&'static str> {
    versions.iter().copied().collect()
}

fn lapsed_reason(refusal: &Refusal) -> bool {
    matches!(refusal, Refusal::Lapsed(reason) if reason.contains("ended on") && reason.contains("versions published before then stay available"))
}

#[tokio::test]
async fn listings_and_downloads_agree_in_every_ecosystem() {
    let w = world().await;
    // The yank table as documented in `crate::yanked` (listed, downloads).
    let table = [
        (Ecosystem::Npm, false, false),
        (Ecosystem::Cargo, true, true),
        (Ecosystem::Hex, true, true),
        (Ecosystem::Rubygems, false, true),
        (Ecosystem::Pypi, true, true),
    ];
    for (ecosystem, listed, downloads) in table {
        let rule = ecosystem.yank_rule();
        assert_eq!(
            (rule.listed, rule.downloads),
            (listed, downloads),
            "{ecosystem}: yank rule"
        );

        // Live: everything, less the yanked release where the ecosystem drops it.
        let live = seen(&w, &w.live, ecosystem).await;
        let mut expected = set(&["1.0.0", "2.0.0", "4.0.0"]);
        if rule.listed {
            expected.insert("3.0.0");
        }
        assert_eq!(
            live.listed,
            Ok(expected.clone()),
            "{ecosystem}: live listing"
        );
        for (version, answer) in &live.downloads {
            let listed = expected.contains(version);
            let yanked_download = *version == "3.0.0" && rule.downloads;
            assert_eq!(
                answer.is_ok(),
                listed || yanked_download,
                "{ecosystem} live {version}: download {answer:?}, listed {listed}"
            );
            if let Err(refusal) = answer {
                assert_eq!(
                    refusal,
                    &Refusal::NoSuchVersion { lapsed: None },
                    "{ecosystem} live {version}"
                );
            }
        }

        // Lapsed with perpetual fallback: what was published before the end, and nothing newer
        // downloads; newer versions are refused with the reason, never as "no such version"
        // (except the yanked one where it does not download for anyone).
        let lapsed = seen(&w, &w.lapsed, ecosystem).await;
        assert_eq!(
            lapsed.listed,
            Ok(set(&["1.0.0"])),
            "{ecosystem}: lapsed listing"
        );
        for (version, answer) in &lapsed.downloads {
            match (*version, answer) {
                ("1.0.0", Ok(())) => {}
                ("3.0.0", Err(Refusal::NoSuchVersion { lapsed: Some(_) })) if !rule.downloads => {}
                (_, Err(refusal)) if *version != "1.0.0" && lapsed_reason(refusal) => {}
                other => panic!("{ecosystem} lapsed {version}: {other:?}"),
            }
        }

        // No license: the package does not exist for this caller, listing and download alike.
        let unlicensed = seen(&w, &w.unlicensed, ecosystem).await;
        assert_eq!(
            unlicensed.listed,
            Err(Refusal::Hidden),
            "{ecosystem}: unlicensed"
        );
        for (version, answer) in &unlicensed.downloads {
            assert_eq!(
                answer,
                &Err(Refusal::Hidden),
                "{ecosystem} unlicensed {version}"
            );
        }

        // Unknown package and unknown version: not found, the same for both.
        let caller = w
            .registry
            .authenticate(&w.seller, Some(&w.live))
            .await
            .expect("authenticates");
        let unknown = w
            .registry
            .readable(&caller, ecosystem, "nope")
            .await
            .expect("readable");
        assert_eq!(
            unknown.err(),
            Some(Refusal::Hidden),
            "{ecosystem}: unknown package"
        );
        let unknown = w
            .registry
            .download(&caller, ecosystem, "nope", "1.0.0", None)
            .await
            .expect("download");
        assert_eq!(
            unknown.err(),
            Some(Refusal::Hidden),
            "{ecosystem}: unknown package"
        );
        let missing = w
            .registry
            .download(&caller, ecosystem, "kit", "9.9.9", None)
            .await
            .expect("download");
        assert_eq!(
            missing.err(),
            Some(Refusal::NoSuchVersion { lapsed: None }),
            "{ecosystem}: unknown version"
        );
    }

    // A revoked seat's token stops at authentication, before any listing or download: one
    // answer for every ecosystem, naming the seat.
    match w
        .registry
        .authenticate(&w.seller, Some(&w.revoked_seat))
        .await
    {
        Err(AuthOrDbError::Auth(AuthError::Revoked(why))) => {
            assert!(why.contains("dev@live.test"), "{why}")
        }
        Err(e) => panic!("revoked seat: {e:?}"),
        Ok(_) => panic!("a revoked seat's token authenticated"),
    }
}

#[tokio::test]
async fn a_download_is_recorded_once_and_a_refusal_never() {
    let w = world().await;
    let live = w
        .registry
        .authenticate(&w.seller, Some(&w.live))
        .await
        .expect("authenticates");
    let lapsed = w
        .registry
        .authenticate(&w.seller, Some(&w.lapsed))
        .await
        .expect("authenticates");
    let got = w
        .registry
        .download(
            &live,
            Ecosystem::Cargo,
            "kit",
            "2.0.0",
            Some("192.0.2.1".into()),
        )
        .await
        .expect("download")
        .expect("allowed");
    let Delivery::Stream(blob) = got.delivery else {
        panic!("a filesystem store streams")
    };
    assert_eq!(blob.size, "cargo kit 2.0.0".len() as u64);
    let refused = w
        .registry
        .download(&lapsed, Ecosystem::Cargo, "kit", "2.0.0", None)
        .await
        .expect("download");
    assert!(refused.is_err(), "a lapsed org downloaded a newer version");
    let recorded = w
        .registry
        .0
        .db
        .downloads(w.seller.id, 10)
        .await
        .expect("downloads");
    assert_eq!(recorded.len(), 1, "downloads recorded: {recorded:?}");
    assert_eq!(recorded[0].version, "2.0.0");
    assert_eq!(recorded[0].client_ip.as_deref(), Some("192.0.2.1"));
}

#[tokio::test]
async fn whole_repository_listings_hold_what_each_package_listing_holds() {
    let w = world().await;
    for ecosystem in ECOSYSTEMS {
        for (who, secret, listed, lapsed) in [
            ("live", &w.live, true, false),
            ("lapsed", &w.lapsed, true, true),
            ("unlicensed", &w.unlicensed, false, false),
        ] {
            let caller = w
                .registry
                .authenticate(&w.seller, Some(secret))
                .await
                .expect("authenticates");
            let shelf = w
                .registry
                .readable_all(&caller, ecosystem)
                .await
                .expect("shelf");
            let names: Vec<&str> = shelf
                .readable
                .iter()
                .map(|r| r.package.name.as_str())
                .collect();
            assert_eq!(
                names,
                if listed { vec!["kit"] } else { vec![] },
                "{ecosystem} {who}"
            );
            assert_eq!(
                shelf
                    .lapsed
                    .as_deref()
                    .is_some_and(|r| r.contains("ended on")),
                lapsed,
                "{ecosystem} {who}: {:?}",
                shelf.lapsed
            );
        }
    }
}

#[tokio::test]
async fn a_file_name_that_splits_several_ways_finds_its_release() {
    let w = world().await;
    let caller = |secret: &str| {
        let (registry, seller, secret) = (&w.registry, &w.seller, secret.to_owned());
        async move {
            registry
                .authenticate(seller, Some(&secret))
                .await
                .expect("authenticates")
        }
    };
    let (live, lapsed) = (caller(&w.live).await, caller(&w.lapsed).await);
    let eco = Ecosystem::Rubygems;
    let any = |c: &Caller, candidates: &'static [(&'static str, &'static str)]| {
        let registry = w.registry.clone();
        let c = c.clone();
        async move {
            registry
                .downloadable_any(&c, eco, candidates)
                .await
                .expect("decide")
                .map(|a| (a.package.name.clone(), a.release.version))
        }
    };
    // The first candidate that names a release wins, whatever came before it.
    assert_eq!(
        any(&live, &[("kit-1.0.0", "x"), ("kit", "1.0.0")]).await,
        Ok(("kit".to_owned(), "1.0.0".to_owned()))
    );
    // None names a release: "no such version" says more than "hidden".
    assert_eq!(
        any(&live, &[("nope", "1.0.0"), ("kit", "9.9.9")]).await,
        Err(Refusal::NoSuchVersion { lapsed: None })
    );
    assert_eq!(any(&live, &[("nope", "1.0.0")]).await, Err(Refusal::Hidden));
    // A lapsed license explains itself, before or after a "not found".
    for candidates in [
        &[("kit", "2.0.0"), ("nope", "1.0.0")][..],
        &[("nope", "1.0.0"), ("kit", "2.0.0")][..],
    ] {
        let candidates: &'static [(&'static str, &'static str)] = Box::leak(candidates.into());
        let answer = any(&lapsed, candidates).await;
        assert!(
            answer.as_ref().is_err_and(lapsed_reason),
            "{candidates:?}: {answer:?}"
        );
    }
}
