//! The license document: who may use which product, how many seats, for which window, and
//! what happens to old versions when the window ends.
//!
//! Times are unix seconds (UTC), the form every language reads without a date library and the
//! one a seller's build script can stamp into a binary (`SOURCE_DATE_EPOCH`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// What a license grants once its window has ended (the same rule as an entitlement's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionRule {
    /// Any version while the license is live; nothing after it ends.
    WhileActive,
    /// After the license ends, every version published before `ends_at` stays allowed.
    PerpetualFallback,
}

/// A signed statement "org O may use product P of seller S", as issued by [`crate::Issuer`] and
/// returned by [`crate::PublicKey::verify`].
///
/// The window is half-open: live from `starts_at` (inclusive) until `ends_at` (exclusive); a
/// `None` bound is open on that side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct License {
    /// The seller's slug (`acme`).
    pub seller: String,
    /// The buying org's slug.
    pub org: String,
    /// The product's slug (`acme-pro`).
    pub product: String,
    /// How many seats the org bought; `None` means unlimited.
    pub seats: Option<u32>,
    /// Unix seconds from which the license is live; `None` means since forever.
    pub starts_at: Option<i64>,
    /// Unix seconds at which the license ends; `None` means it never ends.
    pub ends_at: Option<i64>,
    /// What the license keeps after `ends_at`.
    pub rule: VersionRule,
    /// Unix seconds at which the seller signed the license.
    pub issued_at: i64,
}

impl License {
    /// Is the license within its window at `unix_secs`?
    pub fn is_live_at(&self, unix_secs: i64) -> bool {
        self.has_started_at(unix_secs) && self.ends_at.is_none_or(|end| unix_secs < end)
    }

    /// May a version of the product published at `published_at` be used at `now` (both unix
    /// seconds)? While live, any version; once ended, under [`VersionRule::PerpetualFallback`],
    /// versions published strictly before `ends_at`. A license whose window has not started
    /// grants nothing, as in the registry's access rule.
    pub fn allows_version_published_at(&self, published_at: i64, now: i64) -> bool {
        if self.is_live_at(now) {
            return true;
        }
        self.rule == VersionRule::PerpetualFallback
            && self.has_started_at(now)
            && self.ends_at.is_some_and(|end| published_at < end)
    }

    fn has_started_at(&self, unix_secs: i64) -> bool {
        self.starts_at.is_none_or(|start| start <= unix_secs)
    }
}

/// The current time in unix seconds, for [`License::is_live_at`] and
/// [`License::allows_version_published_at`]. A clock set before 1970 reads as 0.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;
    const START: i64 = 1_800_000_000;
    const END: i64 = START + 30 * DAY;

    fn license(starts_at: Option<i64>, ends_at: Option<i64>, rule: VersionRule) -> License {
        License {
            seller: "acme".into(),
            org: "globex".into(),
            product: "acme-pro".into(),
            seats: Some(5),
            starts_at,
            ends_at,
            rule,
            issued_at: START,
        }
    }

    #[test]
    fn window_is_half_open() {
        let l = license(Some(START), Some(END), VersionRule::WhileActive);
        assert!(!l.is_live_at(START - 1));
        assert!(l.is_live_at(START));
        assert!(l.is_live_at(END - 1));
        assert!(!l.is_live_at(END));
    }

    #[test]
    fn open_bounds_are_open() {
        let l = license(None, None, VersionRule::WhileActive);
        assert!(l.is_live_at(i64::MIN));
        assert!(l.is_live_at(i64::MAX));
        let l = license(None, Some(END), VersionRule::WhileActive);
        assert!(l.is_live_at(0));
        assert!(!l.is_live_at(END));
    }

    /// Every rule × moment × release date, against the rule written out by hand.
    #[test]
    fn version_rule_table() {
        use VersionRule::*;
        let before_start = START - DAY;
        let during = START + DAY;
        let after_end = END + DAY;
        let old = START - 10 * DAY;
        let new = END + 2 * DAY;
        #[rustfmt::skip]
        let table = [
            // rule,            now,          published, allowed
            (WhileActive,       before_start, old,       false),
            (WhileActive,       during,       old,       true),
            (WhileActive,       during,       new,       true),
            (WhileActive,       after_end,    old,       false),
            (WhileActive,       after_end,    new,       false),
            (PerpetualFallback, before_start, old,       false),
            (PerpetualFallback, during,       old,       true),
            (PerpetualFallback, during,       new,       true),
            (PerpetualFallback, after_end,    old,       true),
            (PerpetualFallback, after_end,    END - 1,   true),
            (PerpetualFallback, after_end,    END,       false),
            (PerpetualFallback, after_end,    new,       false),
        ];
        for (rule, now, published, allowed) in table {
            let l = license(Some(START), Some(END), rule);
            assert_eq!(
                l.allows_version_published_at(published, now),
                allowed,
                "{rule:?} at {now} for a version published at {published}"
            );
        }
    }

    #[test]
    fn perpetual_fallback_without_end_is_simply_live() {
        let l = license(Some(START), None, VersionRule::PerpetualFallback);
        assert!(l.allows_version_published_at(i64::MAX, START));
        assert!(!l.allows_version_published_at(0, START - 1));
    }

    #[test]
    fn unix_now_is_after_2020() {
        assert!(unix_now() > 1_577_836_800);
    }
}
