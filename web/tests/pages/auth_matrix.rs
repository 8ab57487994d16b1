//! The authorization matrix: every route of the table, requested by every kind of visitor,
//! with what each must get. One test per visitor; each loops over the routes and reports every
//! wrong answer at once.

use axum::http::{Method, StatusCode};

use crate::app::{Client, Resp};
use crate::routes::{May, Route, Scenario, scenario, table};

/// What a visitor must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The page (200), or for a form anything but a refusal.
    Allowed,
    /// A redirect to `/acme/login`.
    SignIn,
    /// Exactly 403.
    Forbidden,
    /// 403 or 404: refused, and nothing says whether the thing exists.
    Hidden,
    /// A redirect to sign in (this session is not a member) or 403.
    SignInOrForbidden,
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
        (V::OtherSeller, M::Seller) => Hidden,
        // Sellers use their own dashboard: an org's pages are for its seats.
        (V::Seller | V::OtherSeller, _) => SignInOrForbidden,
        (_, M::Seller) => Forbidden,
        (V::Admin, M::Member | M::Admin) => Allowed,
        // An admin may revoke a seat, not use or revoke someone's personal token.
        (V::Admin, M::TokenOwner) => Hidden,
        (V::Member, M::Member | M::TokenOwner) => Allowed,
        (V::Member, M::Admin) => Forbidden,
        (V::OtherOrgAdmin | V::OtherSellerAdmin, _) => Forbidden,
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

async fn client<'a>(s: &'a Scenario, visitor: Visitor) -> Client<'a> {
    let app = &s.app;
    match visitor {
        Visitor::Anonymous => app.anonymous(),
        Visitor::Seller => app.sign_in_seller("acme").await,
        Visitor::OtherSeller => app.sign_in_seller("umbrella").await,
        Visitor::Admin => {
            app.sign_in_member("acme", "globex", "admin@globex.test")
                .await
        }
        Visitor::Member => {
            app.sign_in_member("acme", "globex", "dev@globex.test")
                .await
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

/// What is wrong with `res` for `route` as `visitor`, if anything.
fn judge(visitor: Visitor, route: &Route, res: &Resp) -> Option<String> {
    let want = expect(visitor, route.may);
    let sign_in = res.is_sign_in_redirect("acme");
    let status = res.status;
    let ok = match want {
        Expect::Allowed if route.method == Method::GET => status == StatusCode::OK,
        Expect::Allowed => {
            !sign_in
                && !matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND)
                && !status.is_server_error()
        }
        Expect::SignIn => sign_in,
        Expect::Forbidden => status == StatusCode::FORBIDDEN,
        Expect::Hidden => matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        Expect::SignInOrForbidden => sign_in || status == StatusCode::FORBIDDEN,
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
            "{} {}{} as {visitor:?}: wanted {want:?}, got {res:?}{}",
            route.method,
            route.path,
            route.query,
            if leaked.is_empty() {
                String::new()
            } else {
                format!("; the refusal shows {leaked:?}")
            }
        )
    })
}

/// Runs the table as `visitor`. Requests that may change something (an allowed POST) run on a
/// fresh scenario each, so that one action does not change what the next row sees.
async fn run(visitor: Visitor) {
    let shared = scenario().await;
    let mut c = client(&shared, visitor).await;
    let mut failures = Vec::new();
    for route in table() {
        let allowed = expect(visitor, route.may) == Expect::Allowed;
        let res = if route.method == Method::POST && allowed {
            let fresh = scenario().await;
            let mut c = client(&fresh, visitor).await;
            fresh.send(&mut c, &route).await
        } else {
            shared.send(&mut c, &route).await
        };
        failures.extend(judge(visitor, &route, &res));
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
