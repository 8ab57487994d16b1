//! Identifier newtypes, so a seat id can't be passed where an org id goes.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id!(
    /// A seller account.
    SellerId,
    /// A product (a set of packages sold together).
    ProductId,
    /// A Stripe price sold as a product.
    PlanId,
    /// One name in one ecosystem.
    PackageId,
    /// One version of a package.
    ReleaseId,
    /// A buying organisation.
    OrgId,
    /// A named member slot of an org.
    SeatId,
    /// A time-bounded right of an org to a product.
    EntitlementId,
);

/// The public half of a token (the part before the secret); safe to log and show.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenId(pub String);

impl std::fmt::Display for TokenId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
