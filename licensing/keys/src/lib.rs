//! Offline-verifiable license keys for Tollgate sellers.
//!
//! A seller holds an Ed25519 key pair ([`Issuer`]); Tollgate signs a [`License`] ("org O may use
//! product P, N seats, until T") into one line of text that the buyer pastes into a config file.
//! The seller's own program checks that line with the seller's [`PublicKey`], without network
//! access: see [`key`] for the format, and `examples/verify.rs` for a complete program.
//!
//! # Checking a license key in your own Rust program
//!
//! Add `tollgate-licensing` to your dependencies, copy your public key from
//! `https://<your tollgate>/<seller>/license/public_key`, and:
//!
//! ```
//! use tollgate_licensing::{License, PublicKey, unix_now};
//!
//! /// Your seller public key: replace this example with yours (it can only verify, never issue).
//! const PUBLIC_KEY: &str = "ed25519:GX9rI-FshTLGq8g4-s1ep4m-DHaykgM0A5v6iz02jWE";
//! /// When this build of your product was published, in unix seconds.
//! const RELEASED_AT: i64 = 1_767_225_600; // 2026-01-01
//!
//! fn check_license(text: &str) -> Result<License, Box<dyn std::error::Error>> {
//!     let license = PublicKey::from_text(PUBLIC_KEY)?.verify(text)?;
//!     if license.product != "acme-pro" {
//!         return Err(format!("this license is for {}, not Acme Pro", license.product).into());
//!     }
//!     // Live now, or (perpetual fallback) ended after this version was published.
//!     if !license.allows_version_published_at(RELEASED_AT, unix_now()) {
//!         return Err("this Acme Pro license does not cover this version; please renew".into());
//!     }
//!     Ok(license)
//! }
//!
//! // What the customer pasted, e.g. from std::env::var("ACME_PRO_LICENSE").
//! let text = "tollgate-license-v1.eyJraWQiOiJiNjAwMzA2Y2ZhNzY3MjNmIiwic2VsbGVyIjoiYWNtZSIsIm9yZyI6Imdsb2JleCIsInByb2R1Y3QiOiJhY21lLXBybyIsInNlYXRzIjo1LCJzdGFydHNfYXQiOjE3MzU2ODk2MDAsImVuZHNfYXQiOm51bGwsInJ1bGUiOiJwZXJwZXR1YWxfZmFsbGJhY2siLCJpc3N1ZWRfYXQiOjE3MzU2ODk2MDB9.LY0HfFbMzMhypePIsbV69WeexcwhzKhgDrk3qqlgUBBblD515G62l9w98zkBGzJiU_xH9BIerVXQKWapYYAVAQ";
//! let license = check_license(text).expect("a valid license");
//! assert_eq!((license.org.as_str(), license.seats), ("globex", Some(5)));
//! ```

pub mod error;
pub mod key;
pub mod license;

pub use error::LicenseError;
pub use key::{Issuer, PublicKey};
pub use license::{License, VersionRule, unix_now};
