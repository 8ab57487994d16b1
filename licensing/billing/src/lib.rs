//! Licensing as a business: the seller's Stripe account (own keys or Connect) drives
//! entitlements and seat caps through webhooks; buyers check out through a buy link; mail tells
//! buyers what happened.

pub mod connect;
pub mod license;
pub mod mail;
pub mod routes;
pub mod seats;
pub mod service;
pub mod stripe;
pub mod subscription;
pub mod webhook;
