//! The one access rule (DESIGN.md), used by every protocol for listings and downloads alike.
//!
//! A request with token T may read release R of package K iff:
//! 1. T exists, is not revoked, and (for a seat token) its seat is active;
//! 2. T's org holds an entitlement E to a product that contains K; and
//! 3. E is live now, or E's rule is `perpetual_fallback` and `R.published_at < E.ends_at`.
//!
//! Publish tokens read their own seller's packages (only those in their scope, if scoped).
//! Whether T belongs to the seller whose URL was asked is checked at authentication.

use crate::domain::{
    Ecosystem, Grant, PackageRef, TokenKind, TokenRecord, TokenScope, VersionRule,
};
use crate::time::Timestamp;

/// Which releases of one package a caller may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Visibility {
    /// Every release.
    All,
    /// Releases published strictly before this instant (perpetual fallback after an end).
    PublishedBefore(Timestamp),
}

impl Visibility {
    pub fn allows(self, published_at: Timestamp) -> bool {
        match self {
            Self::All => true,
            Self::PublishedBefore(cutoff) => published_at < cutoff,
        }
    }
}

/// The answer of the rule for one (token, package).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The token is revoked or its seat is: authenticate again. The text says why.
    Unauthenticated(String),
    /// No entitlement covers the package: the caller must not learn that it exists.
    Hidden,
    /// Entitlements existed but none is live; `visible` is what perpetual fallback keeps.
    /// `reason` is the sentence to show ("the Acme Pro license of org X ended on …").
    Lapsed {
        reason: String,
        visible: Option<Visibility>,
    },
    /// Live access.
    Granted(Visibility),
}

impl Access {
    /// What the caller may list, if anything.
    pub fn visibility(&self) -> Option<Visibility> {
        match self {
            Self::Granted(v) => Some(*v),
            Self::Lapsed { visible, .. } => *visible,
            Self::Unauthenticated(_) | Self::Hidden => None,
        }
    }

    /// May the caller download a release published at `published_at`?
    pub fn allows(&self, published_at: Timestamp) -> bool {
        self.visibility().is_some_and(|v| v.allows(published_at))
    }
}

/// Applies the rule. `grants` are the entitlements of the token's org to products that contain
/// `package` (the database loads exactly those); `now` is passed in so the rule is pure.
pub fn evaluate(
    token: &TokenRecord,
    package: (Ecosystem, &str),
    grants: &[Grant],
    now: Timestamp,
) -> Access {
    if let Some(why) = revocation(token) {
        return Access::Unauthenticated(why);
    }
    if token.kind == TokenKind::Publish {
        return publish_access(token, package);
    }
    grants_access(grants, now)
}

/// The warning of a live grant (a failed payment's grace period), if one has any: clients
/// that can show text print it with a successful answer.
pub fn notice(grants: &[Grant], now: Timestamp) -> Option<String> {
    grants
        .iter()
        .filter(|g| g.starts_at <= now && g.ends_at.is_none_or(|end| now < end))
        .find_map(|g| g.warning.clone())
}

/// Why a token no longer authenticates (rule 1), if it does not: the sentence to show.
pub fn revocation(token: &TokenRecord) -> Option<String> {
    // A revoked seat revokes its tokens too; name the seat, the cause a person recognises.
    if token.kind == TokenKind::Seat && !token.seat_active {
        return Some(format!(
            "the seat of {} was revoked by the org's admin",
            token.seat_email.as_deref().unwrap_or("this token")
        ));
    }
    token
        .revoked_at
        .map(|_| format!("token {} was revoked", token.id))
}

/// Why `token` may list a package but not download its archives (a bot token of scope
/// `metadata`), if so: the sentence names the token, its scope and what to use instead.
pub fn archive_refusal(token: &TokenRecord) -> Option<String> {
    match token.scope {
        TokenScope::Read => None,
        TokenScope::Metadata => {
            let label = token
                .label
                .as_deref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default();
            Some(format!(
                "token {}{label} has scope `metadata`: it lists versions and checksums but never \
                 downloads a package; to install, use a token of scope `read` (an org admin \
                 creates one on the org's Tokens page)",
                token.id
            ))
        }
    }
}

fn publish_access(token: &TokenRecord, (ecosystem, name): (Ecosystem, &str)) -> Access {
    let in_scope = token.packages.is_empty()
        || token.packages.contains(&PackageRef {
            ecosystem,
            name: name.to_owned(),
        });
    if in_scope {
        Access::Granted(Visibility::All)
    } else {
        Access::Hidden
    }
}

fn grants_access(grants: &[Grant], now: Timestamp) -> Access {
    if grants.is_empty() {
        return Access::Hidden;
    }
    if grants
        .iter()
        .any(|g| g.starts_at <= now && g.ends_at.is_none_or(|end| now < end))
    {
        return Access::Granted(Visibility::All);
    }
    // None is live: keep the latest perpetual-fallback cutoff, and explain the latest end. A
    // grant that never was live (it ended when it started: a subscription never paid) keeps
    // nothing.
    let cutoff = grants
        .iter()
        .filter(|g| g.rule == VersionRule::PerpetualFallback && g.starts_at <= now)
        .filter_map(|g| g.ends_at.filter(|end| *end > g.starts_at))
        .max();
    let ended = grants
        .iter()
        .filter(|g| g.ends_at.is_some_and(|end| end <= now))
        .max_by_key(|g| g.ends_at);
    let reason = match ended {
        Some(g) => lapse_reason(g, cutoff.is_some()),
        None => {
            let next = grants.iter().min_by_key(|g| g.starts_at);
            match next {
                Some(g) => format!(
                    "the {} license of org {} starts on {}",
                    g.product,
                    g.org,
                    g.starts_at.date()
                ),
                None => String::new(),
            }
        }
    };
    Access::Lapsed {
        reason,
        visible: cutoff.map(Visibility::PublishedBefore),
    }
}

fn lapse_reason(g: &Grant, keeps_old: bool) -> String {
    let end = g.ends_at.map(Timestamp::date).unwrap_or_default();
    if keeps_old {
        format!(
            "the {} license of org {} ended on {end}; versions published before then stay available, newer ones need a renewed license",
            g.product, g.org
        )
    } else {
        format!(
            "the {} license of org {} ended on {end}; renew it to install again",
            g.product, g.org
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OrgId, SeatId, SellerId, TokenId};

    const DAY: i64 = 86_400_000;
    const NOW: Timestamp = Timestamp(1_800_000_000_000);

    fn token(kind: TokenKind, revoked: bool, seat_active: bool) -> TokenRecord {
        TokenRecord {
            id: TokenId("abc".into()),
            secret_hash: String::new(),
            kind,
            seller_id: SellerId(1),
            seller_slug: "acme".into(),
            org_id: (kind != TokenKind::Publish).then_some(OrgId(1)),
            org_slug: Some("buyer".into()),
            seat_id: (kind == TokenKind::Seat).then_some(SeatId(1)),
            seat_email: Some("dev@buyer.test".into()),
            seat_active,
            packages: vec![],
            label: None,
            scope: TokenScope::Read,
            created_at: Timestamp(0),
            revoked_at: revoked.then_some(Timestamp(1)),
        }
    }

    /// One grant's window around `NOW`; the `*Now` and `*Ms` windows put a boundary of the
    /// rule's comparisons exactly at `NOW` or one millisecond from it.
    #[derive(Clone, Copy, Debug)]
    enum Window {
        None,
        Live,
        /// Starts exactly now: live from its first instant.
        StartsNow,
        /// Ends exactly now: no longer live at its end instant.
        EndsNow,
        /// Ends one millisecond from now: still live.
        EndsNextMs,
        Ended,
        Future,
        /// Starts one millisecond from now: not live yet.
        StartsNextMs,
    }

    fn window(window: Window) -> Option<(i64, Option<i64>)> {
        Some(match window {
            Window::None => return None,
            Window::Live => (NOW.0 - 10 * DAY, Some(NOW.0 + 10 * DAY)),
            Window::StartsNow => (NOW.0, Some(NOW.0 + 10 * DAY)),
            Window::EndsNow => (NOW.0 - 10 * DAY, Some(NOW.0)),
            Window::EndsNextMs => (NOW.0 - 10 * DAY, Some(NOW.0 + 1)),
            Window::Ended => (NOW.0 - 10 * DAY, Some(NOW.0 - DAY)),
            Window::Future => (NOW.0 + DAY, None),
            Window::StartsNextMs => (NOW.0 + 1, None),
        })
    }

    fn grants(w: Window, rule: VersionRule) -> Vec<Grant> {
        let Some((starts, ends)) = window(w) else {
            return vec![];
        };
        vec![Grant {
            product: "Acme Pro".into(),
            org: "buyer".into(),
            starts_at: Timestamp(starts),
            ends_at: ends.map(Timestamp),
            rule,
            warning: None,
        }]
    }

    // When a release was published, relative to the end of the grant's window (to `NOW` for a
    // window without an end): perpetual fallback keeps releases published strictly before it.
    /// Days before the end.
    const OLD: i64 = -4 * DAY;
    /// The last millisecond before the end.
    const LAST_MS: i64 = -1;
    /// Exactly at the end instant.
    const AT_END: i64 = 0;
    /// Half a day after the end.
    const NEW: i64 = DAY / 2;

    fn published(w: Window, offset: i64) -> Timestamp {
        let end = window(w).and_then(|(_, end)| end).unwrap_or(NOW.0);
        Timestamp(end + offset)
    }

    /// (kind, revoked, seat active, window, rule, published relative to the end) → may download?
    #[test]
    fn rule_table() {
        use TokenKind::*;
        use VersionRule::*;
        use Window::*;
        #[rustfmt::skip]
        let table = [
            // kind, revoked, seat_active, window, rule, published, expected
            (Org,  false, true,  Live,   WhileActive,       OLD,     true),
            (Org,  false, true,  Live,   WhileActive,       NEW,     true),
            (Org,  true,  true,  Live,   WhileActive,       OLD,     false),
            (Org,  false, true,  None,   WhileActive,       OLD,     false),
            (Org,  false, true,  Ended,  WhileActive,       OLD,     false),
            (Org,  false, true,  Ended,  PerpetualFallback, OLD,     true),
            (Org,  false, true,  Ended,  PerpetualFallback, LAST_MS, true),
            (Org,  false, true,  Ended,  PerpetualFallback, AT_END,  false),
            (Org,  false, true,  Ended,  PerpetualFallback, NEW,     false),
            (Org,  false, true,  Future, WhileActive,       OLD,     false),
            (Org,  false, true,  Future, PerpetualFallback, OLD,     false),
            // The window's own boundary instants, against `NOW`.
            (Org,  false, true,  StartsNow,    WhileActive,       NEW,     true),
            (Org,  false, true,  StartsNextMs, WhileActive,       OLD,     false),
            (Org,  false, true,  StartsNextMs, PerpetualFallback, OLD,     false),
            (Org,  false, true,  EndsNextMs,   WhileActive,       AT_END,  true),
            (Org,  false, true,  EndsNextMs,   WhileActive,       NEW,     true),
            (Org,  false, true,  EndsNow,      WhileActive,       OLD,     false),
            (Org,  false, true,  EndsNow,      PerpetualFallback, OLD,     true),
            (Org,  false, true,  EndsNow,      PerpetualFallback, LAST_MS, true),
            (Org,  false, true,  EndsNow,      PerpetualFallback, AT_END,  false),
            (Org,  false, true,  EndsNow,      PerpetualFallback, NEW,     false),
            (Seat, false, true,  Live,   WhileActive,       OLD,     true),
            (Seat, false, false, Live,   WhileActive,       OLD,     false),
            (Seat, true,  true,  Live,   WhileActive,       OLD,     false),
            (Seat, false, true,  Ended,  PerpetualFallback, OLD,     true),
            (Seat, false, true,  Ended,  PerpetualFallback, AT_END,  false),
            (Seat, false, true,  Ended,  PerpetualFallback, NEW,     false),
            (Seat, false, false, Ended,  PerpetualFallback, OLD,     false),
            (Seat, false, true,  None,   PerpetualFallback, OLD,     false),
            (Publish, false, true, None, WhileActive,       OLD,     true),
            (Publish, true,  true, None, WhileActive,       OLD,     false),
        ];
        for (kind, revoked, seat_active, window, rule, offset, expected) in table {
            let t = token(kind, revoked, seat_active);
            let access = evaluate(&t, (Ecosystem::Npm, "@acme/ui"), &grants(window, rule), NOW);
            assert_eq!(
                access.allows(published(window, offset)),
                expected,
                "{kind:?} revoked={revoked} seat_active={seat_active} {window:?} {rule:?} \
                 published {offset:+} ms from the end: {access:?}"
            );
        }
    }

    /// The cutoff itself: a release published exactly at it is not kept, one a millisecond
    /// earlier is.
    #[test]
    fn published_before_is_strict() {
        let cutoff = Timestamp(NOW.0 - DAY);
        let v = Visibility::PublishedBefore(cutoff);
        assert!(v.allows(Timestamp(cutoff.0 - 1)));
        assert!(!v.allows(cutoff));
        assert!(!v.allows(Timestamp(cutoff.0 + 1)));
        assert!(Visibility::All.allows(Timestamp(i64::MAX)));
    }

    /// A grant's warning (a failed payment's grace period) is shown while it is live, from its
    /// first instant up to, not including, its end; an ended or future grant's never is.
    #[test]
    fn notice_is_the_warning_of_a_live_grant() {
        let warned = |w: Window| {
            let mut gs = grants(w, VersionRule::WhileActive);
            for g in &mut gs {
                g.warning = Some(format!("payment failed ({w:?})"));
            }
            gs
        };
        for (w, shown) in [
            (Window::Live, true),
            (Window::StartsNow, true),
            (Window::EndsNextMs, true),
            (Window::EndsNow, false),
            (Window::Ended, false),
            (Window::StartsNextMs, false),
            (Window::Future, false),
            (Window::None, false),
        ] {
            assert_eq!(
                notice(&warned(w), NOW),
                shown.then(|| format!("payment failed ({w:?})")),
                "{w:?}"
            );
        }
        // A live grant without a warning beside an ended one with a warning: nothing to show.
        let mut gs = warned(Window::Ended);
        gs.extend(grants(Window::Live, VersionRule::WhileActive));
        assert_eq!(notice(&gs, NOW), None);
    }

    /// The sentence of a lapse names the product, the org and the end date, and says whether
    /// older versions stay; a grant ending exactly now has ended.
    #[test]
    fn lapse_reasons() {
        let org = token(TokenKind::Org, false, true);
        let pkg = (Ecosystem::Npm, "@acme/ui");
        let reason = |gs: &[Grant]| match evaluate(&org, pkg, gs, NOW) {
            Access::Lapsed { reason, .. } => reason,
            other => panic!("expected lapsed, got {other:?}"),
        };
        let end = Timestamp(NOW.0 - DAY).date();
        assert_eq!(
            reason(&grants(Window::Ended, VersionRule::WhileActive)),
            format!("the Acme Pro license of org buyer ended on {end}; renew it to install again")
        );
        assert_eq!(
            reason(&grants(Window::Ended, VersionRule::PerpetualFallback)),
            format!(
                "the Acme Pro license of org buyer ended on {end}; versions published before \
                 then stay available, newer ones need a renewed license"
            )
        );
        assert_eq!(
            reason(&grants(Window::EndsNow, VersionRule::WhileActive)),
            format!(
                "the Acme Pro license of org buyer ended on {}; renew it to install again",
                NOW.date()
            )
        );
        assert_eq!(
            reason(&grants(Window::Future, VersionRule::WhileActive)),
            format!(
                "the Acme Pro license of org buyer starts on {}",
                Timestamp(NOW.0 + DAY).date()
            )
        );
        // Of two ended grants, the later end is the one explained.
        let mut gs = grants(Window::Ended, VersionRule::WhileActive);
        gs.extend(grants(Window::EndsNow, VersionRule::WhileActive));
        gs.reverse();
        assert!(reason(&gs).contains(&NOW.date()), "{gs:?}");
    }

    #[test]
    fn hidden_vs_lapsed_vs_unauthenticated() {
        let org = token(TokenKind::Org, false, true);
        let pkg = (Ecosystem::Npm, "@acme/ui");
        assert_eq!(evaluate(&org, pkg, &[], NOW), Access::Hidden);
        let ended = evaluate(
            &org,
            pkg,
            &grants(Window::Ended, VersionRule::WhileActive),
            NOW,
        );
        match ended {
            Access::Lapsed { reason, visible } => {
                assert!(reason.contains("Acme Pro"), "{reason}");
                assert!(reason.contains(&Timestamp(NOW.0 - DAY).date()), "{reason}");
                assert_eq!(visible, None);
            }
            other => panic!("expected lapsed, got {other:?}"),
        }
        let seat = token(TokenKind::Seat, false, false);
        assert!(matches!(
            evaluate(&seat, pkg, &grants(Window::Live, VersionRule::WhileActive), NOW),
            Access::Unauthenticated(m) if m.contains("dev@buyer.test")
        ));
    }

    #[test]
    fn any_live_grant_wins_and_latest_fallback_cutoff_is_kept() {
        let org = token(TokenKind::Org, false, true);
        let pkg = (Ecosystem::Npm, "@acme/ui");
        let mut gs = grants(Window::Ended, VersionRule::PerpetualFallback);
        let mut later = gs[0].clone();
        later.ends_at = Some(Timestamp(NOW.0 - DAY / 4));
        gs.push(later);
        assert_eq!(
            evaluate(&org, pkg, &gs, NOW).visibility(),
            Some(Visibility::PublishedBefore(Timestamp(NOW.0 - DAY / 4)))
        );
        gs.extend(grants(Window::Live, VersionRule::WhileActive));
        assert_eq!(
            evaluate(&org, pkg, &gs, NOW),
            Access::Granted(Visibility::All)
        );
    }

    #[test]
    fn a_grant_that_never_was_live_keeps_nothing() {
        let org = token(TokenKind::Org, false, true);
        let pkg = (Ecosystem::Npm, "@acme/ui");
        let mut gs = grants(Window::Ended, VersionRule::PerpetualFallback);
        gs[0].ends_at = Some(gs[0].starts_at);
        let access = evaluate(&org, pkg, &gs, NOW);
        assert!(
            matches!(access, Access::Lapsed { visible: None, .. }),
            "{access:?}"
        );
        assert!(!access.allows(Timestamp(NOW.0 - 100 * DAY)));
    }

    #[test]
    fn scoped_publish_token_sees_only_its_packages() {
        let mut t = token(TokenKind::Publish, false, true);
        t.packages = vec!["npm:@acme/ui".parse().expect("valid ref")];
        assert!(evaluate(&t, (Ecosystem::Npm, "@acme/ui"), &[], NOW).allows(NOW));
        assert_eq!(
            evaluate(&t, (Ecosystem::Npm, "@acme/other"), &[], NOW),
            Access::Hidden
        );
    }
}
