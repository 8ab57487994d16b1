//! License keys: each seller's Ed25519 key pair (made on first use, stored sealed), and the
//! signed document for one org's license to one product, taken from its entitlements.

use tollgate_licensing::{Issuer, License, PublicKey, VersionRule as LicenseRule};
use tollgate_registry::db::StoredKey;
use tollgate_registry::domain::{Org, Product, Seller, VersionRule};
use tollgate_registry::secret::{Binding, SecretBox};
use tollgate_registry::{Error, Registry, Result};

/// The `seller_keys.purpose` of the license signing key.
pub const PURPOSE: &str = "license_ed25519";

/// The seller's license issuer, created and stored if it has none yet.
pub async fn issuer(registry: &Registry, secrets: &SecretBox, seller: &Seller) -> Result<Issuer> {
    let db = registry;
    let binding = Binding::seller_key(PURPOSE, seller.id);
    let stored = match db.seller_key(seller.id, PURPOSE).await? {
        Some(stored) => stored,
        None => {
            let issuer = Issuer::generate();
            let new = StoredKey {
                secret: secrets.seal(&binding, &issuer.secret_bytes()),
                public: issuer.public_key().to_text(),
            };
            db.insert_seller_key(seller.id, PURPOSE, &new).await?
        }
    };
    let secret = secrets
        .open(&binding, &stored.secret)
        .map_err(|e| Error::Internal(format!("the license key of {}: {e}", seller.slug)))?;
    let secret: [u8; 32] = secret
        .as_slice()
        .try_into()
        .map_err(|_| Error::Internal(format!("the license key of {} is damaged", seller.slug)))?;
    Ok(Issuer::from_secret_bytes(&secret))
}

/// The seller's public key as text (`ed25519:…`), what `/{seller}/license/public_key` serves.
pub async fn public_key(
    registry: &Registry,
    secrets: &SecretBox,
    seller: &Seller,
) -> Result<PublicKey> {
    Ok(issuer(registry, secrets, seller).await?.public_key())
}

/// A signed license for `org`'s use of `product`: the window of its latest entitlement to it
/// (an open one wins), the seats the org may hold. `NotFound` without any entitlement.
pub async fn issue(
    registry: &Registry,
    secrets: &SecretBox,
    seller: &Seller,
    org: &Org,
    product: &Product,
) -> Result<String> {
    let grants = registry.entitlements(org.id).await?;
    let grant = grants
        .iter()
        .filter(|e| e.product_id == product.id)
        .max_by_key(|e| (e.ends_at.is_none(), e.ends_at.map(|t| t.0), e.starts_at.0))
        .ok_or_else(|| {
            Error::NotFound(format!(
                "a license of org {} to product {}",
                org.slug, product.slug
            ))
        })?;
    let seats = registry.seat_cap(org.id).await?;
    let license = License {
        seller: seller.slug.clone(),
        org: org.slug.clone(),
        product: product.slug.clone(),
        seats: seats.map(|n| n.clamp(0, i64::from(u32::MAX)) as u32),
        starts_at: Some(grant.starts_at.0.div_euclid(1000)),
        ends_at: grant.ends_at.map(|t| t.0.div_euclid(1000)),
        rule: match grant.rule {
            VersionRule::WhileActive => LicenseRule::WhileActive,
            VersionRule::PerpetualFallback => LicenseRule::PerpetualFallback,
        },
        issued_at: tollgate_licensing::unix_now(),
    };
    Ok(issuer(registry, secrets, seller).await?.issue(&license))
}
