//! Encryption at rest for the secrets Tollgate keeps in its database: sellers' Stripe secret keys
//! and webhook secrets, Hex RSA private keys, license signing keys.
//!
//! One 32-byte key seals them all, with XChaCha20-Poly1305 (an AEAD: a wrong key and an altered
//! value are both refused, never decrypted to garbage). Its 24-byte nonce is random per value, so
//! no counter needs to be kept across replicas or restarts.
//!
//! The key comes from `TOLLGATE_SECRET_KEY` (32 bytes as 64 hex digits or as base64), or else
//! from `<data dir>/secret.key`, created on first use with mode 0600 and never overwritten.
//! Several replicas must share one key, so they must set `TOLLGATE_SECRET_KEY`: a key file is
//! per host.
//!
//! Sealed text: `v2:<base64 (standard, padded) of nonce ‖ ciphertext ‖ tag>`, sealed with
//! associated data naming what the value is and whose ([`Binding`], e.g.
//! `stripe-secret-key:seller:42`): a value copied into another seller's row, or into another
//! column of the same row, does not open there.
//!
//! # The unbound `v1` format
//!
//! Earlier versions sealed without associated data (`v1:`). Nothing in a `v1` value says which
//! row it belongs to, so any rule that opens `v1` on read accepts a moved value too. Instead,
//! [`bind_legacy`] runs once at start-up (every command opens the database through it): it
//! opens each `v1` value in the rows that existed at the upgrade and reseals it in place as `v2`
//! for that row (compare-and-swap, so replicas starting together agree). After that no code path
//! opens `v1`: [`SecretBox::open`] refuses it, so a `v1` value kept from a backup cannot be planted
//! in another row. (Opening `v1` on every read and resealing on the next write would leave the
//! never-rewritten values, such as Hex signing keys, movable forever.)

mod binding;
mod error;
mod key;
mod legacy;
mod sealing;
mod source;
#[cfg(test)]
mod tests;

pub use binding::Binding;
pub use error::SecretError;
pub use legacy::bind_legacy;
pub use sealing::SecretBox;
pub use source::{KEY_ENV, KEY_FILE, KeySource};
