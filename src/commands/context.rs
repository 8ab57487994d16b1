//! Opening what every command needs: the registry (database and store), the sealed-secrets key,
//! the mail and Stripe settings, and how to print.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use serde::Serialize;
use tollgate_registry::Registry;
use tollgate_registry::db::{Backend, redact_url};
use tollgate_registry::registry::Options;
use tollgate_registry::secret::SecretBox;
use tollgate_registry::store::Store;

use crate::cli::Cli;

/// What every command needs: the database, the store and how to print.
pub struct Context {
    pub registry: Registry,
    /// Mail and Stripe settings.
    pub billing: crate::cli::BillingArgs,
    pub data: std::path::PathBuf,
    /// Seals the secrets kept in the database (signing keys, later Stripe keys).
    pub secrets: Arc<SecretBox>,
    pub json: bool,
}

impl Context {
    pub async fn open(cli: &Cli) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&cli.data)
            .with_context(|| format!("cannot create the data directory {}", cli.data.display()))?;
        let db_url = match &cli.database_url {
            Some(url) => url.clone(),
            None => cli.data.join("tollgate.db").display().to_string(),
        };
        let spec = match &cli.store {
            Some(s) => s.clone(),
            None => cli.data.display().to_string(),
        };
        // The store's own errors name TOLLGATE_STORE and what is wrong with it.
        let store = Store::connect(&spec)
            .await
            .context("cannot open the package store")?;
        let registry = Registry::connect(&db_url, store, options(cli))
            .await
            .with_context(|| {
                format!(
                    "cannot open the database {} (TOLLGATE_DATABASE_URL / --database-url)",
                    redact_url(&db_url)
                )
            })?;
        let secrets = secret_box(cli, registry.backend())?;
        // Values sealed by earlier versions name no row; bind each to its own (issue 16).
        registry
            .bind_legacy_secrets(&secrets)
            .await
            .context("cannot rebind the stored secrets to their rows")?;
        Ok(Self {
            registry,
            billing: cli.billing.clone(),
            data: cli.data.clone(),
            secrets: Arc::new(secrets),
            json: cli.json,
        })
    }

    /// Prints `value` as JSON with `--json`, else the human text.
    pub fn print<T: Serialize>(
        &self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        use std::io::Write;
        let out = if self.json {
            serde_json::to_string_pretty(value)?
        } else {
            text()
        };
        // A closed pipe (`| head -1`) is not an error of the command.
        match writeln!(std::io::stdout().lock(), "{out}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        }
    }
}

/// The installation's secret key. With PostgreSQL several servers share the database, so they
/// must share the key too: a key file in one server's data directory would not do.
fn secret_box(cli: &Cli, backend: Backend) -> anyhow::Result<SecretBox> {
    if backend == Backend::Postgres && std::env::var_os("TOLLGATE_SECRET_KEY").is_none() {
        bail!(
            "TOLLGATE_SECRET_KEY is not set: with PostgreSQL every server must seal the secrets it \
             stores with the same key; set it to 32 random bytes in base64 (`openssl rand -base64 32`)"
        );
    }
    Ok(SecretBox::from_env_or_file(&cli.data)?)
}

/// Presigned downloads live for five minutes: long enough to start, short enough not to share.
const PRESIGN_TTL: std::time::Duration = std::time::Duration::from_secs(300);

fn options(cli: &Cli) -> Options {
    Options {
        presign: cli.s3_presign.then_some(PRESIGN_TTL),
    }
}
