//! The database port: one method per unit of work (never table CRUD), transactions inside.
//! Private to the core: other crates call the operations of [`crate::Registry`] and read pages
//! through [`crate::views`]; this module exports only the records they pass and get back.
//!
//! One implementation serves SQLite (embedded default) and PostgreSQL (production): the queries
//! are written in the SQL both understand (`$N` parameters, `ON CONFLICT`, `RETURNING`, integer
//! flags), run through sqlx's `Any` driver, and each database has its own migrations folder. The
//! few real differences (how a write transaction starts, change notifications) switch on
//! [`Backend`]. A second implementation of every method would only be a second place for bugs.

mod accounts;
mod billing;
#[cfg(test)]
mod conformance;
mod keys;
mod last_use;
mod links;
mod pool;
mod releases;
mod seats;
mod subscriptions;
mod tokens;

pub use billing::{ConnectState, StripeConnection};
pub use keys::{SealedCell, SealedPlace, StoredKey};
pub use links::{Link, LinkPurpose, NewLink, UsedLink};
pub use subscriptions::{Checkout, SubscriptionRecord, SubscriptionState};

pub(crate) use pool::Db;
pub use pool::{Backend, CHANGES_CHANNEL, redact_url};
