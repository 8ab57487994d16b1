//! Benchmark baseline (`bench/npm.sh`): the cheapest possible "authorized metadata hit". A bare
//! axum server that, for every request, hashes the bearer token with SHA-256, looks the hex
//! digest up in a `HashMap`, and answers 401 or a fixed body (an abbreviated packument fetched
//! from the real server). Tollgate's target is at least half of this server's throughput.
//!
//! ```text
//! cargo build --release --example baseline
//! target/release/examples/baseline --listen 127.0.0.1:0 --token SECRET --body packument.json
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use sha2::{Digest, Sha256};

const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

#[derive(Debug, Parser)]
#[command(about = "Bare axum baseline for the tollgate npm benchmark")]
struct Args {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The one bearer token accepted (its SHA-256 is what gets stored).
    #[arg(long)]
    token: String,
    /// File whose bytes every authorized request gets back.
    #[arg(long)]
    body: PathBuf,
}

struct Baseline {
    /// hex(sha256(token)) -> token name, like a token table keyed by hash.
    tokens: HashMap<String, String>,
    body: Bytes,
}

fn sha256_hex(secret: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

async fn handler(State(state): State<Arc<Baseline>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    if !state.tokens.contains_key(&sha256_hex(token)) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(ABBREVIATED))],
        state.body.clone(),
    )
        .into_response()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let body = Bytes::from(std::fs::read(&args.body)?);
    let mut tokens = HashMap::new();
    tokens.insert(sha256_hex(&args.token), "bench".to_owned());
    let state = Arc::new(Baseline { tokens, body });
    let app = Router::new().fallback(handler).with_state(state);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
