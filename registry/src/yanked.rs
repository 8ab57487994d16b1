//! What a yanked release means, one table for every ecosystem. A yank never deletes: the
//! release stays in the store and in the database, and un-yanking brings it back.
//!
//! | ecosystem | listed after a yank                  | downloads after a yank | why |
//! |-----------|--------------------------------------|------------------------|-----|
//! | npm       | no (gone from the packument)         | no (404)               | npm's unpublish: the version is gone for every client |
//! | Cargo     | yes, `"yanked": true` in the index   | yes                    | Cargo keeps building lockfiles that name it |
//! | RubyGems  | no (gone from `/info`, `/versions`)  | yes                    | Bundler keeps installing lockfiles that name it |
//! | Hex       | yes (Hex has no yank; it retires)    | yes                    | a retired release is listed with its reason, installable |
//!
//! Each ecosystem's row is [`Ecosystem::yank_rule`], beside the ecosystem's other names in
//! `domain.rs`.
//!
//! A retired release (Hex's retirement, set by the seller) is listed with its reason and
//! downloads in every ecosystem. Whatever the yank rule, the access rule comes first: a release
//! the caller's license does not cover is neither listed nor downloaded.

use crate::access::Visibility;
pub use crate::domain::YankRule;
use crate::domain::{Ecosystem, PackageState, Release};

/// The releases of `pkg` a listing in `ecosystem` shows to a caller with `visibility`, oldest
/// first: those the license covers, less the yanked ones where the ecosystem drops them.
pub fn listed(
    pkg: &PackageState,
    ecosystem: Ecosystem,
    visibility: Visibility,
) -> impl Iterator<Item = &Release> {
    let rule = ecosystem.yank_rule();
    pkg.releases
        .iter()
        .filter(move |r| (rule.listed || !r.yanked) && visibility.allows(r.published_at))
}

/// May a caller whose license covers `release` download it in `ecosystem`?
pub fn downloadable(release: &Release, ecosystem: Ecosystem) -> bool {
    ecosystem.yank_rule().downloads || !release.yanked
}
