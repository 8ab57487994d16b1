//! `tollgate serve`: assembles the router (operations endpoints, one nest per protocol), and
//! prints the bound address.

use axum::Router;
use axum::extract::Request;
use axum::middleware;
use axum::routing::get;
use tollgate_billing::mail::Mailer;
use tollgate_billing::service::{Billing, BillingConfig};
use tollgate_cargo::{CargoConfig, CargoState};
use tollgate_hex::{HexConfig, HexState};
use tollgate_npm::{NpmConfig, NpmState};
use tollgate_pypi::{PypiConfig, PypiState};
use tollgate_registry::ecosystem::EcosystemInfo;
use tollgate_rubygems::{RubygemsConfig, RubygemsState};
use tower::Layer;
use tower::util::MapRequestLayer;

use crate::listener::Timeouts;
use crate::ops::{self, Ops};

use crate::cli::ServeArgs;
use crate::commands::Context;
use crate::ecosystems::{CARGO, ECOSYSTEMS, HEX, NPM, PYPI, RUBYGEMS};

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
    registry.spawn_last_use_writer(args.last_use_flush);
    let npm = NpmState::new(
        registry.clone(),
        NpmConfig {
            public_url: public_url.clone(),
            max_publish_bytes: args.max_upload_mb.saturating_mul(1024 * 1024) / 3 * 4 + 64 * 1024,
        },
    );
    let max_publish_bytes = args.max_upload_mb.saturating_mul(1024 * 1024);
    let cargo = CargoState::new(
        registry.clone(),
        CargoConfig {
            public_url: public_url.clone(),
            max_publish_bytes: max_publish_bytes + 1024 * 1024,
        },
    );
    let gems = RubygemsState::new(
        registry.clone(),
        RubygemsConfig {
            public_url: public_url.clone(),
            max_publish_bytes: max_publish_bytes + 1024 * 1024,
        },
    );
    let pypi = PypiState::new(
        registry.clone(),
        PypiConfig {
            public_url: public_url.clone(),
            max_publish_bytes: max_publish_bytes + 1024 * 1024,
        },
    );
    let hex = HexState::new(
        registry.clone(),
        HexConfig {
            public_url: public_url.clone(),
            secrets: ctx.secrets.clone(),
        },
    );
    let mailer = Mailer::from_config(
        ctx.billing.smtp_url.as_deref(),
        &ctx.billing.mail_from,
        &ctx.data,
    )?;
    tracing::info!(mail = %mailer.describe(), "mail");
    let billing = Billing::new(
        registry.clone(),
        ctx.secrets.clone(),
        mailer,
        BillingConfig {
            public_url: public_url.clone(),
            api_base: ctx.billing.stripe_api_base.clone(),
            platform_key: ctx.billing.stripe_platform_key.clone(),
            connect_webhook_secret: ctx.billing.stripe_connect_webhook_secret.clone(),
            connect_base: ctx.billing.stripe_connect_base.clone(),
            connect_client_id: ctx.billing.stripe_connect_client_id.clone(),
            ecosystems: ECOSYSTEMS,
        },
    );
    let ops = Ops::new(registry.clone(), ECOSYSTEMS);
    let app = Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .with_state(ops.clone())
        .nest(&nest(&NPM), tollgate_npm::router(npm))
        .nest(&nest(&CARGO), tollgate_cargo::router(cargo))
        .nest(&nest(&RUBYGEMS), tollgate_rubygems::router(gems))
        .nest(&nest(&HEX), tollgate_hex::router(hex))
        .nest(&nest(&PYPI), tollgate_pypi::router(pypi))
        .merge(tollgate_billing::routes::router(billing.clone()))
        .merge(tollgate_web::router(tollgate_web::Web::new(
            registry.clone(),
            billing,
            tollgate_web::WebConfig {
                public_url: public_url.clone(),
                ecosystems: ECOSYSTEMS,
            },
        )))
        .layer(middleware::from_fn_with_state(ops, ops::observe));
    if registry.sellers().await?.is_empty() {
        println!(
            "no seller yet: create one with\n  tollgate seller create acme --name \"Acme Inc\" --email you@example.com"
        );
    }
    println!("listening on {public_url}");
    tracing::info!(%addr, %public_url, "tollgate is serving");
    // Outside the router, so that it runs before routing.
    let app = MapRequestLayer::new(collapse_slashes).layer(app);
    let timeouts = Timeouts {
        header: args.header_timeout,
        idle: args.idle_timeout,
    };
    crate::listener::serve(listener, app, timeouts, shutdown()).await;
    // The uses noted since the last periodic write, so that a restart loses none.
    registry.write_last_uses().await;
    Ok(())
}

/// Where `ecosystem`'s router goes, checked to be in [`ECOSYSTEMS`] (so that its set-up,
/// pages and metrics label are there too).
fn nest(ecosystem: &dyn EcosystemInfo) -> String {
    assert!(
        ECOSYSTEMS.get(ecosystem.ecosystem()).is_some(),
        "{} is mounted but not in ECOSYSTEMS",
        ecosystem.display_name()
    );
    ecosystem.nest_path()
}

/// `a//b` → `a/b`. Clients join a configured URL that ends in `/` with a path that starts with
/// one (hex_core: `repo_url ++ "/packages/…"`), and no route has an empty segment.
fn collapse_slashes(mut req: Request) -> Request {
    let uri = req.uri();
    if !uri.path().contains("//") {
        return req;
    }
    let mut path = String::with_capacity(uri.path().len());
    for c in uri.path().chars() {
        if !(c == '/' && path.ends_with('/')) {
            path.push(c);
        }
    }
    if let Some(q) = uri.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut parts = uri.clone().into_parts();
    if let Ok(pq) = path.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(new) = axum::http::Uri::from_parts(parts) {
            *req.uri_mut() = new;
        }
    }
    req
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
