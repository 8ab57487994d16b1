//! The authorization matrix: every route of the table, requested by every kind of visitor,
//! with what each must get. One test per visitor; each loops over the routes and reports every
//! wrong answer at once.
//!
//! A refusal is judged by more than its status: the page must say why (the reason below), and
//! the database, the mail sink and the fake Stripe must be exactly as before the request, so that
//! a handler that acts first and refuses after is caught. An allowed form must answer as it
//! does when it works (its page, or its redirect) and its effect must be in the database.

use axum::http::{Method, StatusCode};
use tollgate_billing::connect;
use tollgate_registry::domain::{Ecosystem, TokenKind};
use tollgate_registry::time::Timestamp;
use tollgate_registry::token;

use crate::app::{CONNECT_BASE, Client, Resp};
use crate::fake_stripe::PORTAL_URL;
use crate::routes::{GLOBEX_CUSTOMER, May, Route, Scenario, scenario, table};

/// Why `acme`'s dashboard refuses a session that is not `acme`'s.
const NOT_THE_SELLER: &str = "this session is not signed in as the seller acme; sign in again";
/// Why `globex`'s pages refuse a session signed in to another org (or another seller's).
const OTHER_ORG: &str = "this session is signed in to another org; sign in again";
/// Why an admin-only page or form refuses a plain member.
const ADMINS_ONLY: &str = "only an admin of globex Corporation";
/// Why someone else's personal token is not found.
const NOT_YOUR_TOKEN: &str = "this token is not one of yours";

/// What a visitor must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The page (200); a form does what it is for (see [`allowed_form`]).
    Allowed,
    /// A redirect to `/acme/login`.
    SignIn,
    /// Exactly 403, and the page says why.
    Forbidden(&'static str),
    /// 403 or 404: refused, and nothing says whether the thing exists; the page says why.
    Hidden(&'static str),
}

/// Who visits `acme`'s routes (org routes name `acme`'s org `globex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visitor {
    Anonymous,
    /// `acme`, on its own routes.
    Seller,
    /// `umbrella`, another seller.
    OtherSeller,
    /// `admin@globex.test`.
    Admin,
    /// `dev@globex.test`, a plain member of `globex`.
    Member,
    /// `admin@hooli.test`: an admin of another org of the same seller.
    OtherOrgAdmin,
    /// `admin@initech.test`: an admin of an org of another seller.
    OtherSellerAdmin,
}

fn expect(visitor: Visitor, may: May) -> Expect {
    use Expect::*;
    use May as M;
    use Visitor as V;
    match (visitor, may) {
        (V::Anonymous, _) => SignIn,
        (V::Seller, M::Seller) => Allowed,
        (V::OtherSeller, M::Seller) => Hidden(NOT_THE_SELLER),
        // Sellers use their own dashboard: an org's pages are for its seats, and a seller's
        // session is not a seat's.
        (V::Seller | V::OtherSeller, _) => SignIn,
        (_, M::Seller) => Forbidden(NOT_THE_SELLER),
        (V::Admin, M::Member | M::Admin) => Allowed,
        // An admin may revoke a seat, not use or revoke someone's personal token.
        (V::Admin, M::TokenOwner) => Hidden(NOT_YOUR_TOKEN),
        (V::Member, M::Member | M::TokenOwner) => Allowed,
        (V::Member, M::Admin) => Forbidden(ADMINS_ONLY),
        (V::OtherOrgAdmin | V::OtherSellerAdmin, _) => Forbidden(OTHER_ORG),
    }
}

/// Words that only `acme`'s (and `globex`'s) own pages may show: found on a refusal, they are
/// a leak.
fn secrets(visitor: Visitor) -> &'static [&'static str] {
    match visitor {
        // Refused, a member is told the org's name; not its seats or packages.
        Visitor::Member => &["ops@globex.test", "acme-secret-widget"],
        _ => &[
            "acme-secret-widget",
            "globex Corporation",
            "hooli Corporation",
            "ops@globex.test",
            "dev@globex.test",
        ],
    }
}

/// The address of the seat `visitor` signs in with, if a seat of `globex`.
fn globex_email(visitor: Visitor) -> Option<&'static str> {
    match visitor {
        Visitor::Admin => Some("admin@globex.test"),
        Visitor::Member => Some("dev@globex.test"),
        _ => None,
    }
}

async fn client<'a>(s: &'a Scenario, visitor: Visitor) -> Client<'a> {
    let app = &s.app;
    match visitor {
        Visitor::Anonymous => app.anonymous(),
        Visitor::Seller => app.sign_in_seller("acme").await,
        Visitor::OtherSeller => app.sign_in_seller("umbrella").await,
        Visitor::Admin | Visitor::Member => {
            let email = globex_email(visitor).expect("a globex seat");
            app.sign_in_member("acme", "globex", email).await
        }
        Visitor::OtherOrgAdmin => {
            app.sign_in_member("acme", "hooli", "admin@hooli.test")
                .await
        }
        Visitor::OtherSellerAdmin => {
            app.sign_in_member("umbrella", "initech", "admin@initech.test")
                .await
        }
    }
}

fn row(visitor: Visitor, route: &Route) -> String {
    format!(
        "{} {}{} as {visitor:?}",
        route.method, route.path, route.query
    )
}

/// What is wrong with the answer `res` to `route` as `visitor`, if anything. An allowed form's
/// answer is judged with its effect, by [`allowed_form`].
fn judge(visitor: Visitor, route: &Route, res: &Resp) -> Option<String> {
    let want = expect(visitor, route.may);
    let sign_in = res.is_sign_in_redirect("acme");
    let status = res.status;
    let says = |why: &str| res.body.contains(why);
    let ok = match want {
        Expect::Allowed if route.method == Method::GET => status == StatusCode::OK,
        Expect::Allowed => return None,
        Expect::SignIn => sign_in,
        Expect::Forbidden(why) => status == StatusCode::FORBIDDEN && says(why),
        Expect::Hidden(why) => {
            matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) && says(why)
        }
    };
    let leaked: Vec<&str> = if want == Expect::Allowed {
        Vec::new()
    } else {
        secrets(visitor)
            .iter()
            .copied()
            .filter(|w| res.body.contains(w))
            .collect()
    };
    (!ok || !leaked.is_empty()).then(|| {
        format!(
            "{}: wanted {want:?}, got {res:?}{}",
            row(visitor, route),
            if leaked.is_empty() {
                String::new()
            } else {
                format!("; the refusal shows {leaked:?}")
            }
        )
    })
}

/// Whether `res` is the redirect (303, as `Redirect::to` answers a form) to `to`.
fn redirects_to(res: &Resp, to: &str) -> Result<(), String> {
    if res.status == StatusCode::SEE_OTHER && res.location() == Some(to) {
        Ok(())
    } else {
        Err(format!("wanted a 303 redirect to {to}"))
    }
}

/// Whether `res` is a 200 page.
fn page(res: &Resp) -> Result<(), String> {
    if res.status == StatusCode::OK {
        Ok(())
    } else {
        Err("wanted the 200 page of the form's result".into())
    }
}

/// The token created by the form: the one token in the database that was not there `before`,
/// of `kind`, whose secret (`tg_<id>_<secret>`) the page shows and which authenticates.
async fn created_token(
    s: &Scenario,
    before: &[String],
    res: &Resp,
    kind: TokenKind,
) -> Result<tollgate_registry::domain::TokenRecord, String> {
    let all = s.app.db().tokens(None).await.expect("tokens");
    let new: Vec<_> = all
        .into_iter()
        .filter(|t| !before.contains(&t.id.0))
        .collect();
    let [t] = &new[..] else {
        return Err(format!(
            "wanted exactly one new token, the database has {}: {:?}",
            new.len(),
            new.iter().map(|t| &t.id.0).collect::<Vec<_>>()
        ));
    };
    if t.kind != kind || t.revoked_at.is_some() {
        return Err(format!(
            "the new token is {:?} (revoked at {:?}), wanted an active {kind:?} token",
            t.kind, t.revoked_at
        ));
    }
    let prefix = format!("tg_{}_", t.id.0);
    let shown = res
        .body
        .find(&prefix)
        .and_then(|at| res.body.get(at..at + prefix.len() + 64));
    let works = shown
        .and_then(token::parse)
        .is_some_and(|p| p.matches(&t.secret_hash));
    if !works {
        return Err(format!(
            "the page does not show a secret of the new token {} that matches it",
            t.id.0
        ));
    }
    Ok(t.clone())
}

/// Whether the token `id` is revoked now.
async fn revoked(s: &Scenario, id: &str) -> Result<(), String> {
    let t = s.app.db().token(id).await.expect("token");
    match t {
        Some(t) if t.revoked_at.is_some() => Ok(()),
        Some(_) => Err(format!("the token {id} is not revoked")),
        None => Err(format!("the token {id} is gone")),
    }
}

/// What an allowed form must answer and do (`before`: the ids of every token before it ran).
/// A form without a check here fails: a new form gets its expected effect written down.
async fn allowed_form(
    s: &Scenario,
    visitor: Visitor,
    route: &Route,
    res: &Resp,
    before: &[String],
) -> Result<(), String> {
    let app = &s.app;
    let db = app.db();
    let acme = app.seller("acme").await;
    let globex = app.org("acme", "globex").await;
    let now = Timestamp::now();
    match route.path {
        "/{seller}/dashboard/packages/{ecosystem}/{*name}" => {
            redirects_to(res, "/acme/dashboard/packages/npm/acme-secret-widget")?;
            let state = db
                .package_state(acme.id, Ecosystem::Npm, "acme-secret-widget")
                .await
                .expect("package state")
                .ok_or("the package is gone")?;
            let release = state.release("1.0.0").ok_or("1.0.0 is gone")?;
            if !release.yanked {
                return Err("1.0.0 is not yanked".into());
            }
        }
        "/{seller}/dashboard/tokens" => {
            page(res)?;
            let t = created_token(s, before, res, TokenKind::Publish).await?;
            if t.seller_id != acme.id || t.org_id.is_some() || !t.packages.is_empty() {
                return Err(format!(
                    "the new token is not an unscoped publish token of acme: {t:?}"
                ));
            }
        }
        "/{seller}/dashboard/tokens/{token}/revoke" => {
            redirects_to(res, "/acme/dashboard/tokens")?;
            revoked(s, s.param("{publish-token}")).await?;
        }
        "/{seller}/dashboard/settings/stripe-connect" => {
            let to = res.location().unwrap_or_default();
            if res.status != StatusCode::SEE_OTHER || !to.starts_with(CONNECT_BASE) {
                return Err(format!("wanted a 303 redirect to Stripe ({CONNECT_BASE})"));
            }
            let state = to
                .split_once('?')
                .map(|(_, q)| q)
                .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "state"))
                .map(|(_, v)| v.into_owned())
                .ok_or("the redirect to Stripe has no state")?;
            let issued = db
                .connect_state(&connect::state_hash(&state))
                .await
                .expect("connect state")
                .ok_or("the state sent to Stripe is not stored")?;
            if issued.seller != acme.id || issued.used_at.is_some() || issued.expires_at <= now {
                return Err(format!(
                    "the stored state is not acme's, unused and valid: {issued:?}"
                ));
            }
        }
        "/{seller}/org/{org}/seats/{seat}/revoke" => {
            redirects_to(res, "/acme/org/globex")?;
            let ops = app.seat("acme", "globex", "ops@globex.test").await;
            if ops.active || ops.revoked_at.is_none() {
                return Err(format!("the seat of ops@globex.test is active: {ops:?}"));
            }
            revoked(s, s.param("{ops-token}")).await?;
            let told = app
                .mail()
                .iter()
                .any(|m| m.to().contains("ops@globex.test"));
            if !told {
                return Err("no mail tells ops@globex.test of the revoke".into());
            }
        }
        "/{seller}/org/{org}/invite" => {
            redirects_to(res, "/acme/org/globex")?;
            let pending = db.pending_invites(globex.id, now).await.expect("invites");
            if !pending.iter().any(|l| l.email == "newcomer@globex.test") {
                return Err("no pending invite for newcomer@globex.test".into());
            }
            let mailed = app.mail().iter().any(|m| {
                m.to().contains("newcomer@globex.test")
                    && m.links().iter().any(|l| l.contains("/acme/invite/"))
            });
            if !mailed {
                return Err("no invite link was mailed to newcomer@globex.test".into());
            }
        }
        "/{seller}/org/{org}/invites/{invite}/cancel" => {
            redirects_to(res, "/acme/org/globex")?;
            let id = s.param("{invite}");
            let pending = db.pending_invites(globex.id, now).await.expect("invites");
            if pending.iter().any(|l| l.id == id) {
                return Err(format!("the invite {id} is still pending"));
            }
        }
        "/{seller}/org/{org}/my-tokens" => {
            page(res)?;
            let t = created_token(s, before, res, TokenKind::Seat).await?;
            let email = globex_email(visitor).ok_or("not a seat of globex")?;
            let seat = app.seat("acme", "globex", email).await;
            if t.org_id != Some(globex.id) || t.seat_id != Some(seat.id) {
                return Err(format!("the new token is not {email}'s in globex: {t:?}"));
            }
        }
        "/{seller}/org/{org}/my-tokens/{token}/revoke" => {
            redirects_to(res, "/acme/org/globex")?;
            revoked(s, s.param("{my-token}")).await?;
        }
        "/{seller}/org/{org}/tokens" => {
            page(res)?;
            let t = created_token(s, before, res, TokenKind::Org).await?;
            if t.org_id != Some(globex.id) || t.seat_id.is_some() {
                return Err(format!("the new token is not globex's CI token: {t:?}"));
            }
        }
        "/{seller}/org/{org}/tokens/{token}/revoke" => {
            redirects_to(res, "/acme/org/globex/tokens")?;
            revoked(s, s.param("{org-token}")).await?;
        }
        "/{seller}/org/{org}/billing/portal" => {
            redirects_to(res, PORTAL_URL)?;
            let calls = app.stripe.as_ref().ok_or("no fake Stripe")?.calls();
            let [call] = &calls[..] else {
                return Err(format!("wanted one Stripe request, got {calls:?}"));
            };
            let for_globex = call.path.ends_with("/billing_portal/sessions")
                && call.field("customer").as_deref() == Some(GLOBEX_CUSTOMER);
            if !for_globex {
                return Err(format!(
                    "Stripe was not asked for {GLOBEX_CUSTOMER}'s portal: {call:?}"
                ));
            }
        }
        other => {
            return Err(format!(
                "no check of what POST {other} does: add one to allowed_form()"
            ));
        }
    }
    Ok(())
}

/// Runs the table as `visitor`. A refused request runs on one shared scenario, which must not
/// change; an allowed form runs on a fresh scenario each, so that one action does not change
/// what the next row sees and its effect is its own.
async fn run(visitor: Visitor) {
    let shared = scenario().await;
    let mut c = client(&shared, visitor).await;
    let mut failures = Vec::new();
    for route in table() {
        let allowed = expect(visitor, route.may) == Expect::Allowed;
        if route.method == Method::POST && allowed {
            let fresh = scenario().await;
            let mut c = client(&fresh, visitor).await;
            let before: Vec<String> = fresh
                .app
                .db()
                .tokens(None)
                .await
                .expect("tokens")
                .into_iter()
                .map(|t| t.id.0)
                .collect();
            let res = fresh.send(&mut c, &route).await;
            if let Err(why) = allowed_form(&fresh, visitor, &route, &res, &before).await {
                failures.push(format!("{}: {why}; got {res:?}", row(visitor, &route)));
            }
            continue;
        }
        let before = shared.app.snapshot().await;
        let res = shared.send(&mut c, &route).await;
        failures.extend(judge(visitor, &route, &res));
        if !allowed && let Some(changes) = before.changes(&shared.app.snapshot().await) {
            failures.push(format!(
                "{} was refused ({}) but changed what it may not:\n{changes}",
                row(visitor, &route),
                res.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong answers as {visitor:?}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn anonymous_visitors_are_sent_to_sign_in() {
    run(Visitor::Anonymous).await;
}

#[tokio::test]
async fn the_seller_uses_its_dashboard_and_not_org_pages() {
    run(Visitor::Seller).await;
}

#[tokio::test]
async fn another_seller_sees_nothing_of_acme() {
    run(Visitor::OtherSeller).await;
}

#[tokio::test]
async fn an_org_admin_uses_the_org_pages_only() {
    run(Visitor::Admin).await;
}

#[tokio::test]
async fn a_plain_member_gets_no_admin_page() {
    run(Visitor::Member).await;
}

#[tokio::test]
async fn an_admin_of_another_org_is_refused() {
    run(Visitor::OtherOrgAdmin).await;
}

#[tokio::test]
async fn an_admin_of_another_sellers_org_is_refused() {
    run(Visitor::OtherSellerAdmin).await;
}

/// The matrix itself would pass if every visitor were refused everywhere: each allowed cell
/// must be reached by someone.
#[test]
fn every_route_is_allowed_to_someone() {
    for route in table() {
        let someone = [Visitor::Seller, Visitor::Admin, Visitor::Member]
            .into_iter()
            .any(|v| expect(v, route.may) == Expect::Allowed);
        assert!(
            someone,
            "{} {} is allowed to no one",
            route.method, route.path
        );
    }
}

/// The snapshot that judges refusals sees what the forms change: a seat revoked behind the
/// app's back shows up in it (with the tokens it takes down).
#[tokio::test]
async fn the_snapshot_sees_a_revoked_seat() {
    let s = scenario().await;
    let before = s.app.snapshot().await;
    assert_eq!(before.changes(&s.app.snapshot().await), None, "no change");
    let globex = s.app.org("acme", "globex").await;
    s.app
        .db()
        .revoke_seat(globex.id, "ops@globex.test", Timestamp::now())
        .await
        .expect("revoke");
    let changes = before
        .changes(&s.app.snapshot().await)
        .expect("the revoke is seen");
    assert!(
        changes.contains("seats:") && changes.contains("tokens:"),
        "{changes}"
    );
}
