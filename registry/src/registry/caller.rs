//! Who is asking: an authenticated [`Caller`], or why a request could not be authenticated.

use std::sync::Arc;

use crate::Error;
use crate::domain::{Seller, TokenKind, TokenRecord, TokenScope};
use crate::ids::TokenId;

/// An authenticated caller: a valid, unrevoked token of the seller whose URL was asked.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<TokenRecord>);

impl Caller {
    /// The seller itself, as an unscoped publish token of its own: for a signed-in seller's
    /// page and the operator's CLI, whose release changes take a caller (the session or the
    /// operator's database access already proved who this is). `via` names the route
    /// (`web-session`, `cli`) in the token id that audit records show.
    pub fn seller(seller: &Seller, via: &str) -> Caller {
        Caller(Arc::new(TokenRecord {
            id: TokenId(format!("{via}:{}", seller.slug)),
            secret_hash: String::new(),
            kind: TokenKind::Publish,
            seller_id: seller.id,
            seller_slug: seller.slug.clone(),
            org_id: None,
            org_slug: None,
            seat_id: None,
            seat_email: None,
            seat_active: true,
            packages: Vec::new(),
            label: None,
            scope: TokenScope::Read,
            created_at: seller.created_at,
            revoked_at: None,
        }))
    }
}

/// Why a request could not be authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// No credentials were sent.
    Missing,
    /// The credentials are not a token of this seller.
    Unknown,
    /// The token, or its seat, was revoked: the text says which.
    Revoked(String),
}

/// Authentication fails either for the caller's reasons or for the server's.
#[derive(Debug)]
pub enum AuthOrDbError {
    Auth(AuthError),
    Db(Error),
}

impl From<AuthError> for AuthOrDbError {
    fn from(e: AuthError) -> Self {
        Self::Auth(e)
    }
}

impl From<Error> for AuthOrDbError {
    fn from(e: Error) -> Self {
        Self::Db(e)
    }
}
