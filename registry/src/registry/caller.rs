//! Who is asking: an authenticated [`Caller`], or why a request could not be authenticated.

use std::sync::Arc;

use crate::Error;
use crate::domain::TokenRecord;

/// An authenticated caller: a valid, unrevoked token of the seller whose URL was asked.
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<TokenRecord>);

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
