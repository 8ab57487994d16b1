//! Tollgate's core: the domain model, the database port, the package store, the one access
//! rule, tokens and the publish pipeline. Protocol crates translate wire requests into calls on
//! [`Registry`] and render its answers in their client's format.

pub mod access;
pub mod cache;
pub mod capped;
pub mod change;
pub mod credentials;
pub mod db;
pub mod document;
pub mod domain;
pub mod ecosystem;
pub mod error;
pub mod ids;
pub mod json_shape;
pub mod last_use;
pub mod metrics;
pub mod raw_tar;
pub mod registry;
pub mod secret;
pub mod sign_in;
pub mod store;
pub mod time;
pub mod token;
pub mod upload;
pub mod views;
pub mod yanked;

pub use error::{Error, Result};
pub use registry::Registry;
