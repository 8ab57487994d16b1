//! Reading: packuments, tarballs, dist-tags and whoami, all through the one access rule.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tollgate_registry::access::{Access, Visibility};
use tollgate_registry::domain::{Ecosystem, PackageState, Seller, TokenKind};
use tollgate_registry::registry::{Caller, Delivery, PackageAccess};

use crate::error::NpmError;
use crate::name::{basename, validate};
use crate::packument::{self, Manifests};
use crate::{NpmState, auth};
use tollgate_registry::document::Document;

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// What every handler of one request shares.
pub struct Ctx<'a> {
    pub state: &'a NpmState,
    pub seller: &'a Seller,
    pub headers: &'a HeaderMap,
    pub client_ip: Option<String>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        state: &'a NpmState,
        seller: &'a Seller,
        headers: &'a HeaderMap,
        client_ip: Option<String>,
    ) -> Self {
        Self {
            state,
            seller,
            headers,
            client_ip,
        }
    }

    pub async fn caller(&self) -> Result<Caller, NpmError> {
        auth::caller(self.state, self.seller, self.headers).await
    }

    /// The package and what the caller may see of it, or the error npm should print.
    pub async fn readable(&self, caller: &Caller, name: &str) -> Result<Readable, NpmError> {
        validate(name).map_err(|_| NpmError::not_found())?;
        let PackageAccess {
            package,
            access,
            notice,
        } = self
            .state
            .registry
            .package_access(caller, Ecosystem::Npm, name)
            .await?;
        // What npm should print with the answer: why versions are missing, or a grace warning.
        let notice = match &access {
            Access::Lapsed { reason, .. } => Some(reason.clone()),
            _ => notice,
        };
        match (package, access.visibility()) {
            (Some(pkg), Some(vis)) => Ok((pkg, vis, access, notice)),
            _ => Err(denial(&access)),
        }
    }
}

/// A readable package: its state, what the caller may see, the rule's answer, and the notice
/// npm should print with it.
pub type Readable = (
    std::sync::Arc<PackageState>,
    Visibility,
    Access,
    Option<String>,
);

/// The error for a caller who may read nothing (or not this version) of a package.
fn denial(access: &Access) -> NpmError {
    match access {
        Access::Lapsed { reason, .. } => NpmError::new(StatusCode::FORBIDDEN, reason.clone()),
        Access::Unauthenticated(why) => NpmError::new(StatusCode::UNAUTHORIZED, why.clone()),
        Access::Hidden | Access::Granted(_) => NpmError::not_found(),
    }
}

pub async fn packument(ctx: &Ctx<'_>, name: &str) -> Result<Response, NpmError> {
    let caller = ctx.caller().await?;
    let (pkg, vis, access, notice) = ctx.readable(&caller, name).await?;
    let abbreviated = ctx
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains(ABBREVIATED));
    let key = (pkg.id, vis, u8::from(abbreviated));
    let rendered = ctx
        .state
        .packuments
        .get_or_render(key, || async {
            let manifests: Manifests = ctx
                .state
                .registry
                .release_metadata(pkg.id)
                .await?
                .into_iter()
                .collect();
            let base = ctx.state.registry_url(&ctx.seller.slug);
            Ok::<_, NpmError>(packument::render(&pkg, &manifests, vis, &base, abbreviated))
        })
        .await?;
    if rendered.entries == 0 {
        return Err(denial(&access));
    }
    Ok(document(
        ctx.headers,
        &rendered,
        abbreviated,
        notice.as_deref(),
    ))
}

fn document(
    headers: &HeaderMap,
    rendered: &Document,
    abbreviated: bool,
    notice: Option<&str>,
) -> Response {
    let mut out = HeaderMap::new();
    out.insert(header::ETAG, header_value(&rendered.etag));
    // Filtered per caller and changed by publishes and revokes: revalidate every time.
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Some(notice) = notice {
        // npm-registry-fetch prints this header as `npm notice <text>`, but only for responses
        // that did not pass through its cache, hence `no-store` on these documents.
        out.insert("npm-notice", header_value(notice));
        out.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    let matches = rendered.matches(
        headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok()),
    );
    if matches {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    let content_type = if abbreviated {
        ABBREVIATED
    } else {
        "application/json"
    };
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (StatusCode::OK, out, rendered.body.clone()).into_response()
}

pub async fn tarball(ctx: &Ctx<'_>, name: &str, file: &str) -> Result<Response, NpmError> {
    let caller = ctx.caller().await?;
    let (pkg, _, access, _) = ctx.readable(&caller, name).await?;
    let version = file
        .strip_prefix(basename(name))
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".tgz"))
        .ok_or_else(NpmError::not_found)?;
    let release = pkg
        .release(version)
        .filter(|r| !r.yanked)
        .ok_or_else(NpmError::not_found)?;
    if !access.allows(release.published_at) {
        return Err(denial(&access));
    }
    let delivery = ctx.state.registry.deliver(release).await?;
    ctx.state
        .registry
        .record_download(
            &caller,
            Ecosystem::Npm,
            release,
            name,
            ctx.client_ip.clone(),
        )
        .await;
    let blob = match delivery {
        Delivery::Stream(blob) => blob,
        Delivery::Redirect(url) => {
            // npm follows it and drops its token for the other host.
            return Ok(
                (StatusCode::FOUND, [(header::LOCATION, header_value(&url))]).into_response(),
            );
        }
    };
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        ),
        (header::CONTENT_LENGTH, HeaderValue::from(blob.size)),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, max-age=31536000, immutable"),
        ),
    ];
    Ok((headers, Body::from_stream(blob.body)).into_response())
}

pub async fn dist_tags(ctx: &Ctx<'_>, name: &str) -> Result<Response, NpmError> {
    let caller = ctx.caller().await?;
    let (pkg, vis, access, _) = ctx.readable(&caller, name).await?;
    let visible = packument::visible_releases(&pkg, vis);
    if visible.is_empty() {
        return Err(denial(&access));
    }
    Ok(axum::Json(packument::dist_tags(&pkg, &visible)).into_response())
}

pub async fn whoami(ctx: &Ctx<'_>) -> Result<Response, NpmError> {
    let caller = ctx.caller().await?;
    let t = &caller.0;
    let username = match t.kind {
        TokenKind::Publish => format!("{} (publish token {})", t.seller_slug, t.id),
        TokenKind::Org => format!(
            "{} (org token {})",
            t.org_slug.as_deref().unwrap_or("?"),
            t.id
        ),
        TokenKind::Seat => t.seat_email.clone().unwrap_or_default(),
    };
    Ok(axum::Json(json!({ "username": username })).into_response())
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}
