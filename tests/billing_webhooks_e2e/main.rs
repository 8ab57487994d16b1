//! End-to-end: Stripe webhooks, Checkout and the Billing Portal, driven against a fake Stripe API
//! that each test runs and controls (`TOLLGATE_STRIPE_API_BASE` points the server at it).
//!
//! The fake serves subscriptions and customers from a map the test edits, records every request
//! (method, path, form, headers such as `stripe-account`), answers Checkout and Billing Portal
//! session creation like Stripe, and answers 500 on demand. Events are built in the test in
//! Stripe's shapes (the current one, with prices and periods on the items, and the 2017 one, with
//! top-level `plan` and `quantity`) and signed with the seller's webhook secret. Because the
//! server re-reads every subscription from the API, what the fake holds is the truth and the
//! event objects are only hints. `connect` onboards a seller through Stripe Connect OAuth (the
//! fake's `/oauth/token`) from its settings page, then sells through the platform's endpoint.

#[path = "../common/mod.rs"]
mod common;

mod checkout;
mod connect;
mod delivery;
mod failures;
mod fake_stripe;
mod grace;
mod harness;
mod objects;
mod table;

pub(crate) const DAY: i64 = 86_400;
pub(crate) const SELLER: &str = "acme";
pub(crate) const WHSEC: &str = "whsec_acme_test_5f2b1c0e9a8d7c6b";
pub(crate) const SECRET_KEY: &str = "sk_test_acme_51Hx";
pub(crate) const PLATFORM_KEY: &str = "sk_test_platform_51Px";
pub(crate) const PACKAGE: &str = "@acme/ui-pro";
/// The Hex package of the same product (the table test checks what mix/rebar3 would see too).
const HEX_PACKAGE: &str = "acme_pro";
/// And its crate (the table test checks what cargo would see too).
const CRATE: &str = "acme-core";
/// And its gem (what Bundler would see).
const GEM: &str = "acme_gem";
