//! Rebinding the unbound `v1` values of earlier versions, once, at start-up (see the module docs).

use super::sealing::SecretBox;
use crate::db::Db;

/// Reseals, in place, every value still in the unbound `v1` format as `v2` for the row it is
/// in (see the module docs); returns how many were rebound. A value that does not open with this
/// key is left as it is (it could not be read before either) and named in the log. Each update
/// is a compare-and-swap on the old value, so servers starting together rebind each value once.
pub async fn bind_legacy(db: &Db, secrets: &SecretBox) -> crate::Result<usize> {
    let mut rebound = 0;
    for cell in db.legacy_sealed().await? {
        let binding = cell.binding();
        match secrets.open_legacy(&cell.value) {
            Ok(plaintext) => {
                let sealed = secrets.seal(&binding, &plaintext);
                if db.reseal(&cell, &sealed).await? {
                    rebound += 1;
                }
            }
            Err(e) => tracing::warn!(
                secret = binding.as_str(),
                error = %e,
                "a stored secret in the old unbound format cannot be opened; left as it is"
            ),
        }
    }
    if rebound > 0 {
        tracing::info!(
            rebound,
            "stored secrets resealed, each bound to its row (format v2)"
        );
    }
    Ok(rebound)
}
