//! (Being written.)

use axum::Router;

use crate::state::Web;

pub fn routes() -> Router<Web> {
    Router::new()
}
