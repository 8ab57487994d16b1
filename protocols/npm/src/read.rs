//! Reading: packuments, tarballs, dist-tags and whoami, all through the one access rule.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tollgate_registry::domain::{Ecosystem, Seller, TokenKind};
use tollgate_registry::registry::Caller;
use tollgate_registry::registry::download::{Readable, Refusal};

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
        self.state
            .registry
            .readable(caller, Ecosystem::Npm, name)
            .await?
            .map_err(refused)
    }
}

/// npm's words for a refusal: 404 hides what the caller may not know exists; a lapsed license (or
/// a metadata-only token asking for a tarball) is a 403 whose text npm prints.
pub fn refused(refusal: Refusal) -> NpmError {
    match refusal {
        Refusal::Lapsed(reason) | Refusal::Forbidden(reason) => {
            NpmError::new(StatusCode::FORBIDDEN, reason)
        }
        Refusal::Unauthenticated(why) => NpmError::new(StatusCode::UNAUTHORIZED, why),
        Refusal::Hidden | Refusal::NoSuchVersion { .. } => NpmError::not_found(),
    }
}

pub async fn packument(ctx: &Ctx<'_>, name: &str) -> Result<Response, NpmError> {
    let caller = ctx.caller().await?;
    let readable = ctx.readable(&caller, name).await?;
    let (pkg, vis) = (&readable.package, readable.visibility);
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
            Ok::<_, NpmError>(packument::render(pkg, &manifests, vis, &base, abbreviated))
        })
        .await?;
    if rendered.entries == 0 {
        return Err(refused(readable.refusal_when_empty()));
    }
    Ok(document(
        ctx.headers,
        &rendered,
        abbreviated,
        readable.notice.as_deref(),
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
    validate(name).map_err(|_| NpmError::not_found())?;
    let version = file
        .strip_prefix(basename(name))
        .and_then(|rest| rest.strip_prefix('-'))
        .and_then(|rest| rest.strip_suffix(".tgz"))
        .ok_or_else(NpmError::not_found)?;
    let download = ctx
        .state
        .registry
        .download(
            &caller,
            Ecosystem::Npm,
            name,
            version,
            ctx.client_ip.clone(),
        )
        .await?
        .map_err(refused)?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(download.into_response(headers))
}

pub async fn dist_tags(ctx: &Ctx<'_>, name: &str) -> Result<Response, NpmError> {
    let caller = ctx.caller().await?;
    let readable = ctx.readable(&caller, name).await?;
    let visible: Vec<_> = readable.listed().collect();
    if visible.is_empty() {
        return Err(refused(readable.refusal_when_empty()));
    }
    Ok(axum::Json(packument::dist_tags(&readable.package, &visible)).into_response())
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
