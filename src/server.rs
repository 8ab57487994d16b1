//! `tollgate serve`: assembles the router (health, one nest per protocol), logs every request
//! with an id, status and latency (never a token), and prints the bound address.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use tollgate_npm::{NpmConfig, NpmState};
use tracing::Instrument;

use crate::cli::ServeArgs;
use crate::commands::Context;

pub async fn serve(ctx: Context, args: &ServeArgs) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"))
        .trim_end_matches('/')
        .to_owned();
    let registry = ctx.registry.clone();
    registry.spawn_change_watcher();
    let npm = NpmState::new(
        registry.clone(),
        NpmConfig {
            public_url: public_url.clone(),
            max_publish_bytes: args.max_upload_mb.saturating_mul(1024 * 1024) / 3 * 4 + 64 * 1024,
        },
    );
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest("/{seller}/npm", tollgate_npm::router(npm))
        .layer(middleware::from_fn(log_request));
    if registry.db().sellers().await?.is_empty() {
        println!(
            "no seller yet: create one with\n  tollgate seller create acme --name \"Acme Inc\" --email you@example.com"
        );
    }
    println!("listening on {public_url}");
    tracing::info!(%addr, %public_url, "tollgate is serving");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    Ok(())
}

/// Stops accepting on Ctrl-C or SIGTERM and lets requests in flight finish.
async fn shutdown() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

static REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// One line per request: id, method, path, status, latency. Headers (and so tokens) are never
/// logged; paths carry no secrets.
async fn log_request(req: Request, next: Next) -> Response {
    let id = REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("request", id);
    let response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let micros = started.elapsed().as_micros() as u64;
    if status >= 500 {
        tracing::error!(parent: &span, %method, %path, status, micros, "request");
    } else {
        tracing::info!(parent: &span, %method, %path, status, micros, "request");
    }
    response
}
