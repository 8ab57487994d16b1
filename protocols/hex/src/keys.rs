//! Each seller's Hex signing key: created with the seller (or on first use for sellers made
//! before Hex existed), stored sealed in the database, cached in memory once opened.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tollgate_registry::Registry;
use tollgate_registry::db::StoredKey;
use tollgate_registry::domain::Seller;
use tollgate_registry::ids::SellerId;
use tollgate_registry::secret::{Binding, SecretBox};
use tollgate_registry::{Error, Result};

use crate::signing::{PURPOSE, SigningKey};

/// Opened keys by seller. A seller's key never changes, so entries are never dropped.
#[derive(Clone, Default)]
pub struct Keys(Arc<RwLock<HashMap<SellerId, Arc<SigningKey>>>>);

impl Keys {
    /// The seller's key, created and stored if it has none yet.
    pub async fn get(
        &self,
        registry: &Registry,
        secrets: &SecretBox,
        seller: &Seller,
    ) -> Result<Arc<SigningKey>> {
        if let Some(key) = self.0.read().ok().and_then(|m| m.get(&seller.id).cloned()) {
            return Ok(key);
        }
        let key = Arc::new(ensure(registry, secrets, seller).await?);
        if let Ok(mut map) = self.0.write() {
            map.insert(seller.id, key.clone());
        }
        Ok(key)
    }
}

/// Loads the seller's key, or generates and stores one (the first writer wins a race).
pub async fn ensure(
    registry: &Registry,
    secrets: &SecretBox,
    seller: &Seller,
) -> Result<SigningKey> {
    let db = registry;
    let binding = Binding::seller_key(PURPOSE, seller.id);
    let stored = match db.seller_key(seller.id, PURPOSE).await? {
        Some(stored) => stored,
        None => {
            let key = tokio::task::spawn_blocking(SigningKey::generate)
                .await
                .map_err(|e| Error::Internal(format!("key generation stopped: {e}")))?
                .map_err(Error::Internal)?;
            let new = StoredKey {
                secret: secrets.seal(&binding, key.to_pem().map_err(Error::Internal)?.as_bytes()),
                public: key.public_pem().to_owned(),
            };
            db.insert_seller_key(seller.id, PURPOSE, &new).await?
        }
    };
    let pem = secrets
        .open(&binding, &stored.secret)
        .map_err(|e| Error::Internal(format!("the Hex signing key of {}: {e}", seller.slug)))?;
    let pem = String::from_utf8(pem).map_err(|_| {
        Error::Internal(format!(
            "the Hex signing key of {} is not text",
            seller.slug
        ))
    })?;
    SigningKey::from_pem(&pem).map_err(Error::Internal)
}
