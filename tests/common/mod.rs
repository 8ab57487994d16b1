//! Shared harness for the end-to-end tests: starts the real `tollgate` binary on port 0 with a
//! temporary data directory, drives its CLI against the same data directory, and runs client
//! tools (npm, cargo, gem, mix …) with a hard timeout so a hung client fails the test instead of
//! hanging CI.
//!
//! Each test crate under `tests/` includes this with `mod common;`; not every crate uses every
//! helper, hence the `dead_code` allowance (and `unused_imports` on the re-exports below).
#![allow(dead_code)]

mod backend;
pub mod browser;
mod cli;
pub mod http;
mod npm;
mod process;
pub mod pypi;
mod server;
mod store;

#[allow(unused_imports)]
pub use backend::{TEST_SECRET_KEY, backend_env, tollgate_bin, tollgate_command};
#[allow(unused_imports)]
pub use cli::Token;
#[allow(unused_imports)]
pub use npm::{fake_tgz, npm_escape, npm_publish_body};
#[allow(unused_imports)]
pub use process::{CLIENT_TIMEOUT, Run, peak_rss_kb, rss_kb, run_with_timeout, write_file};
#[allow(unused_imports)]
pub use server::Server;
