//! `gem push` (`POST /api/v1/gems`, the `.gem` as the body) and `gem yank`
//! (`DELETE /api/v1/gems/yank`, form `gem_name`, `version`, `platform`), with a publish token
//! sent raw in `Authorization`. Answers are plain text, which `gem` prints.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tollgate_registry::domain::{Ecosystem, NewRelease, PackageRef};
use tollgate_registry::upload::Upload;

use crate::RubygemsState;
use crate::error::GemError;
use crate::gemspec::{self, valid_name};
use crate::read::{SellerPath, seller_and_caller};
use crate::version::{self, RUBY};

fn package(name: &str) -> PackageRef {
    PackageRef {
        ecosystem: Ecosystem::Rubygems,
        name: name.to_owned(),
    }
}

pub async fn push(
    State(state): State<RubygemsState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GemError> {
    let (seller, caller) = seller_and_caller(&state, &p.seller, &headers, true).await?;
    let upload = Upload::permit(caller, None, &headers, state.config.max_publish_bytes)?;
    let (caller, body) = upload.read(body).await?;
    let gem = body.clone();
    let spec = tokio::task::spawn_blocking(move || gemspec::parse_gem(&gem))
        .await
        .map_err(|e| GemError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(GemError::bad_request)?;
    let pkg = package(&spec.name);
    state.registry.check_publish(&caller, &pkg)?;
    let metadata = serde_json::to_value(&spec)
        .map_err(|e| GemError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let release = NewRelease {
        seller_id: seller.id,
        ecosystem: Ecosystem::Rubygems,
        package: spec.name.clone(),
        version: spec.key(),
        blob_sha256: hex::encode(Sha256::digest(&body)),
        size: body.len() as i64,
        metadata,
        dist_tags: Vec::new(),
    };
    match state.registry.publish(&caller, release, &body).await {
        Ok(_) => {}
        Err(tollgate_registry::Error::Conflict(_)) => {
            return Err(GemError::new(
                StatusCode::CONFLICT,
                format!(
                    "Repushing of gem versions is not allowed: {} already exists. Please bump the version number and push a new gem.",
                    spec.full_name()
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(gem = %spec.name, version = %spec.key(), "gem push");
    Ok(format!(
        "Successfully registered gem: {} ({})",
        spec.name,
        spec.key()
    )
    .into_response())
}

/// `gem yank` sends three short form fields.
const MAX_YANK_BODY: usize = 4096;

/// `application/x-www-form-urlencoded` pairs.
fn form(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub async fn yank(
    State(state): State<RubygemsState>,
    Path(p): Path<SellerPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, GemError> {
    let (_, caller) = seller_and_caller(&state, &p.seller, &headers, true).await?;
    // The gem is named in the body: the token's kind is checked first, its scope by `set_yanked`.
    let (caller, body) = Upload::permit(caller, None, &headers, MAX_YANK_BODY)?
        .read(body)
        .await?;
    let fields = form(&body);
    let field = |k: &str| {
        fields
            .iter()
            .find(|(key, v)| key == k && !v.is_empty())
            .map(|(_, v)| v.as_str())
    };
    let (Some(name), Some(v)) = (field("gem_name"), field("version")) else {
        return Err(GemError::bad_request(
            "gem yank needs the form fields gem_name and version",
        ));
    };
    if !valid_name(name) || !version::is_valid(v) {
        return Err(GemError::bad_request(format!("invalid gem {name} {v}")));
    }
    let key = version::key(v, field("platform").unwrap_or(RUBY));
    state
        .registry
        .set_yanked(&caller, &package(name), &key, true)
        .await?;
    Ok(format!("Successfully deleted gem: {name} ({key})").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_form_bodies() {
        assert_eq!(
            form(b"gem_name=acme_pro&version=1.0.0&platform=x86_64-linux"),
            vec![
                ("gem_name".into(), "acme_pro".into()),
                ("version".into(), "1.0.0".into()),
                ("platform".into(), "x86_64-linux".into()),
            ]
        );
        assert_eq!(
            form(b"a=b%2Bc+d&e"),
            vec![("a".into(), "b+c d".into()), ("e".into(), "".into())]
        );
    }
}
