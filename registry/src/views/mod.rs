//! Read models for the web pages: queries shaped like a page (a seller's figures, customers, the
//! download audit, an org's tokens and subscriptions), kept out of the core's port. They run SQL
//! through the same pool as [`crate::db`], read-only; every write goes through an operation of
//! [`Registry`].
//!
//! Also here: the pages' session records ([`Sessions`]), which only the web crate keeps.

mod audit;
mod dashboard;
mod handle;
mod org_pages;
mod sessions;

pub use audit::{AuditFilter, AuditRow};
pub use dashboard::{Customer, PackageSummary, RecentRelease, SellerFigures};
pub use handle::Views;
pub use org_pages::{OrgSubscription, OrgToken};
pub use sessions::Sessions;
