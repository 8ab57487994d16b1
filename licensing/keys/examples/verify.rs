//! How a seller's own program checks a customer's license key, offline.
//!
//! ```text
//! cargo run -p tollgate-licensing --example verify -- '<public key>' '<license key>'
//! # or
//! ACME_PUBLIC_KEY='ed25519:…' ACME_LICENSE='tollgate-license-v1.…' \
//!     cargo run -p tollgate-licensing --example verify
//! ```
//!
//! A real program would compile its public key in (it is public; it can only verify) and read
//! the license from its own config file or environment. The exit status is 0 when the license
//! covers this build of the product, 1 otherwise, with the reason on stderr.

use std::process::ExitCode;

use tollgate_licensing::{License, PublicKey, unix_now};

/// The product this program is, as its slug on Tollgate.
const PRODUCT: &str = "acme-pro";
/// When this build was published (unix seconds); perpetual-fallback licenses keep covering it
/// after they end. A build script could stamp this from `SOURCE_DATE_EPOCH`.
const RELEASED_AT: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(key), Some(license)) = (
        args.next()
            .or_else(|| std::env::var("ACME_PUBLIC_KEY").ok()),
        args.next().or_else(|| std::env::var("ACME_LICENSE").ok()),
    ) else {
        eprintln!(
            "usage: verify <public key> <license key> (or set ACME_PUBLIC_KEY, ACME_LICENSE)"
        );
        return ExitCode::from(2);
    };
    match check(&key, &license) {
        Ok(l) => {
            let seats = l.seats.map_or("unlimited".to_owned(), |n| n.to_string());
            println!(
                "licensed to org {} of seller {}: {} ({seats} seats)",
                l.org, l.seller, l.product
            );
            ExitCode::SUCCESS
        }
        Err(why) => {
            eprintln!("no valid license: {why}");
            ExitCode::FAILURE
        }
    }
}

fn check(key: &str, license: &str) -> Result<License, String> {
    let key = PublicKey::from_text(key).map_err(|e| e.to_string())?;
    let license = key.verify(license).map_err(|e| e.to_string())?;
    if license.product != PRODUCT {
        return Err(format!(
            "the license is for {}, not {PRODUCT}",
            license.product
        ));
    }
    if !license.allows_version_published_at(RELEASED_AT, unix_now()) {
        return Err(match license.ends_at {
            Some(end) if end <= unix_now() => {
                format!("the license ended at {end} (unix time), before this version was published")
            }
            _ => "the license is not live yet".to_owned(),
        });
    }
    Ok(license)
}
