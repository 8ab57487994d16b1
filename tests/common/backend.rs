//! The binary under test, the command that runs it, and which database and store the servers
//! of this run use.

use std::path::Path;
use std::process::Command;

/// Path of the binary under test, built by cargo for integration tests.
pub fn tollgate_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tollgate")
}

/// `tollgate --data DIR` with inherited `TOLLGATE_*` variables removed so the caller's shell
/// can't change what the test sees.
pub fn tollgate_command(data: &Path, env: &[(String, String)]) -> Command {
    let mut cmd = Command::new(tollgate_bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("TOLLGATE_") {
            cmd.env_remove(&k);
        }
    }
    cmd.arg("--data").arg(data).envs(env.iter().cloned());
    cmd
}

/// The database and store the servers of this run use. SQLite and the data folder by default;
/// with `TOLLGATE_E2E_BACKEND=postgres-s3` (set by `.ci/run` for a second pass) a fresh
/// PostgreSQL database per server from `TOLLGATE_TEST_POSTGRES_URL` and a fresh prefix in the
/// `tollgate-e2e` bucket at `TOLLGATE_TEST_S3_ENDPOINT`.
pub fn backend_env() -> Vec<(String, String)> {
    let backend = std::env::var("TOLLGATE_E2E_BACKEND").unwrap_or_default();
    let mut env = Vec::new();
    if backend.contains("postgres") {
        let url = std::env::var("TOLLGATE_TEST_POSTGRES_URL")
            .expect("TOLLGATE_E2E_BACKEND=postgres… needs TOLLGATE_TEST_POSTGRES_URL");
        let name = format!("tge2e_{}", unique_suffix());
        let out = Command::new("psql")
            .args([url.as_str(), "-qc", &format!("CREATE DATABASE {name}")])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "CREATE DATABASE failed: {out:?}");
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
        env.push(("TOLLGATE_DATABASE_URL".into(), format!("{base}/{name}")));
        env.push(("TOLLGATE_SECRET_KEY".into(), TEST_SECRET_KEY.into()));
    }
    if backend.contains("s3") {
        let endpoint = std::env::var("TOLLGATE_TEST_S3_ENDPOINT")
            .expect("TOLLGATE_E2E_BACKEND=…s3 needs TOLLGATE_TEST_S3_ENDPOINT");
        env.push((
            "TOLLGATE_STORE".into(),
            format!("s3://tollgate-e2e/{}", unique_suffix()),
        ));
        env.push(("TOLLGATE_S3_ENDPOINT".into(), endpoint));
        env.push(("TOLLGATE_S3_PATH_STYLE".into(), "true".into()));
    }
    env
}

/// The secret key servers on a shared PostgreSQL are given (32 bytes, base64).
pub const TEST_SECRET_KEY: &str = "dG9sbGdhdGUtZTJlLXRlc3Qtc2VjcmV0LWtleS0zMmI=";

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
