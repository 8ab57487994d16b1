//! End-to-end: the tools a buyer's team runs besides the four reference clients, each against
//! the real `tollgate` binary with one token: bot tokens (a label, a scope, no seat), pnpm,
//! Yarn 1, Yarn 4 and Bun, and Renovate. Each test starts its own server and data directory.
//!
//! The package managers come from the npm registry into a cache outside the clone
//! (`scripts/buyer-tools`, idempotent); a test whose tool is missing is skipped, or fails under
//! CI (tollgate-testkit).

#[path = "../common/mod.rs"]
mod common;

mod bots;
mod fixtures;
mod last_use;
mod managers;
mod renovate;
