//! Operations endpoints and the request middleware: `/healthz` (the process is up), `/readyz`
//! (database and store answer), `/metrics` (Prometheus/OpenMetrics text), and one log line plus
//! metrics per request (never a header, so never a token; never a one-time link's secret, see
//! [`loggable_path`]).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry as Prometheus;
use tollgate_registry::Registry;
use tollgate_registry::ecosystem::Ecosystems;
use tracing::Instrument;

type Labels = Vec<(String, String)>;

/// HTTP metrics and the Prometheus registry that renders them with the core's.
#[derive(Clone)]
pub struct Ops {
    registry: Registry,
    /// Name the `protocol` label of a request by its mount.
    ecosystems: Ecosystems,
    prometheus: Arc<Prometheus>,
    requests: Family<Labels, Counter>,
    latency: Family<Labels, Histogram>,
}

impl Ops {
    pub fn new(registry: Registry, ecosystems: Ecosystems) -> Self {
        let requests = Family::<Labels, Counter>::default();
        let latency = Family::<Labels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
        });
        let mut prometheus = Prometheus::default();
        prometheus.register(
            "tollgate_http_requests",
            "HTTP requests by protocol and status",
            requests.clone(),
        );
        prometheus.register(
            "tollgate_http_request_duration_seconds",
            "Time to the response head, by protocol",
            latency.clone(),
        );
        registry.metrics().register(&mut prometheus);
        Self {
            registry,
            ecosystems,
            prometheus: Arc::new(prometheus),
            requests,
            latency,
        }
    }
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the database and the store both answer, else 503 naming what is down.
pub async fn readyz(State(ops): State<Ops>) -> Response {
    // Probes have short timeouts: answer within two seconds whatever the backends do.
    let limit = std::time::Duration::from_secs(2);
    let timed_out = || tollgate_registry::Error::Store("no answer within 2 s".into());
    let (db, store) = tokio::join!(
        tokio::time::timeout(limit, ops.registry.ping()),
        tokio::time::timeout(limit, ops.registry.store().ping()),
    );
    let db = db.unwrap_or_else(|_| Err(timed_out()));
    let store = store.unwrap_or_else(|_| Err(timed_out()));
    match (db, store) {
        (Ok(()), Ok(())) => (StatusCode::OK, "ready").into_response(),
        (db, store) => {
            let mut down = Vec::new();
            if let Err(e) = db {
                down.push(format!("database: {e}"));
            }
            if let Err(e) = store {
                down.push(format!("store: {e}"));
            }
            (StatusCode::SERVICE_UNAVAILABLE, down.join("\n")).into_response()
        }
    }
}

pub async fn metrics(State(ops): State<Ops>) -> Response {
    let mut text = String::new();
    if encode(&mut text, &ops.prometheus).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

static REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// One line per request (id, method, path, status, latency) and its metrics.
pub async fn observe(State(ops): State<Ops>, req: Request, next: Next) -> Response {
    let id = REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let logged = loggable_path(&path);
    let started = Instant::now();
    let span = tracing::info_span!("request", id);
    let response = next.run(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let protocol = protocol_of(ops.ecosystems, &path);
    ops.requests
        .get_or_create(&vec![
            ("protocol".to_owned(), protocol.to_owned()),
            ("status".to_owned(), status.to_string()),
        ])
        .inc();
    ops.latency
        .get_or_create(&vec![("protocol".to_owned(), protocol.to_owned())])
        .observe(elapsed.as_secs_f64());
    let micros = elapsed.as_micros() as u64;
    if status >= 500 {
        tracing::error!(parent: &span, %method, path = %logged, status, micros, "request");
    } else {
        tracing::info!(parent: &span, %method, path = %logged, status, micros, "request");
    }
    response
}

/// What stands in the log for a hidden secret.
const HIDDEN: &str = "…";

/// The path as the request log shows it. One-time sign-in and invite links carry their secret in
/// the path (`/{seller}/login/{secret}`, `/{seller}/invite/{secret}`), and logs are read by more
/// people, for longer, than those links are meant for: everything after `login/` or `invite/`
/// becomes `…`. So does any other segment shaped like a token (`tg_<id>_<secret>`), wherever a
/// client puts one. The query string is never logged at all (the Stripe Connect callback carries
/// its `code` and `state` there).
fn loggable_path(path: &str) -> Cow<'_, str> {
    let segments: Vec<&str> = path.split('/').collect();
    // ["", seller, "login", secret, …]
    let link = matches!(segments.get(2), Some(&("login" | "invite")))
        && segments.get(3).is_some_and(|s| !s.is_empty());
    let token = |s: &&str| s.starts_with("tg_") && s.len() >= 20;
    if !link && !segments.iter().any(token) {
        return Cow::Borrowed(path);
    }
    let keep = if link { 3 } else { segments.len() };
    let mut shown: Vec<&str> = segments[..keep]
        .iter()
        .map(|s| if token(s) { HIDDEN } else { s })
        .collect();
    if link {
        shown.push(HIDDEN);
    }
    Cow::Owned(shown.join("/"))
}

/// `/acme/npm/…` → `npm` (the metrics label of the ecosystem mounted there); anything else
/// (health, metrics, pages) → `ops`.
fn protocol_of(ecosystems: Ecosystems, path: &str) -> &'static str {
    path.split('/')
        .nth(2)
        .and_then(|mount| ecosystems.mounted_at(mount))
        .map_or("ops", |e| e.metrics_label())
}

#[cfg(test)]
mod tests {
    use super::{loggable_path, protocol_of};

    #[test]
    fn link_secrets_never_reach_the_log() {
        let secret = format!("tg_{}_{}", "a".repeat(16), "b".repeat(64));
        for (path, shown) in [
            (format!("/acme/login/{secret}"), "/acme/login/…"),
            (format!("/acme/invite/{secret}"), "/acme/invite/…"),
            // Whatever the secret looks like, and whatever follows it.
            ("/acme/login/tg_nothing_here".into(), "/acme/login/…"),
            ("/acme/login/x/y".into(), "/acme/login/…"),
            (format!("/acme/invite/{secret}/"), "/acme/invite/…"),
            // A token anywhere else.
            (format!("/acme/npm/{secret}/x"), "/acme/npm/…/x"),
            (format!("/{secret}"), "/…"),
        ] {
            assert_eq!(loggable_path(&path), shown, "{path}");
        }
    }

    #[test]
    fn other_paths_are_logged_as_they_are() {
        for path in [
            "/acme/login",
            "/acme/login/",
            "/acme/logout",
            "/acme/org/globex/invite",
            "/acme/dashboard/tokens",
            "/acme/npm/@acme%2fui",
            "/acme/npm/tg_utils",
            "/stripe/connect/oauth",
            "/healthz",
            "/",
        ] {
            assert_eq!(loggable_path(path), path);
        }
    }

    #[test]
    fn protocols_from_paths() {
        let protocol_of = |path| protocol_of(crate::ecosystems::ECOSYSTEMS, path);
        assert_eq!(protocol_of("/acme/npm/@acme%2fui"), "npm");
        assert_eq!(protocol_of("/acme/cargo/index/config.json"), "cargo");
        assert_eq!(protocol_of("/acme/hex/names"), "hex");
        assert_eq!(protocol_of("/acme/gems/versions"), "rubygems");
        assert_eq!(protocol_of("/acme/dashboard"), "ops");
        assert_eq!(protocol_of("/healthz"), "ops");
        assert_eq!(protocol_of("/"), "ops");
    }
}
