//! The package store a server uses, read and written through the registry's own store API.

use super::server::Server;

impl Server {
    /// The sha256 of every blob in the package store this server uses (`TOLLGATE_STORE`: the
    /// run's S3 prefix on the postgres-s3 pass, else the data directory), sorted. Read through
    /// the registry's own store API, as `tollgate gc` lists it.
    pub fn stored_blobs(&self) -> Vec<String> {
        let mut blobs: Vec<String> = self
            .with_store(|store| async move { store.list_blobs().await })
            .into_iter()
            .map(|(sha256, _)| sha256)
            .collect();
        blobs.sort();
        blobs
    }

    /// Writes `bytes` as a blob into the store this server uses (e.g. an orphan no release
    /// references); returns its sha256.
    pub fn store_blob(&self, bytes: &[u8]) -> String {
        let bytes = bytes.to_vec();
        self.with_store(|store| async move { store.put_bytes(&bytes).await })
            .sha256
    }

    /// Where this server keeps its blobs, for messages: `s3://bucket/prefix` or a path.
    pub fn store_spec(&self) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == "TOLLGATE_STORE")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| self.data_dir().display().to_string())
    }

    /// Opens the server's store as the CLI would (its settings, then this process's
    /// environment for the rest, e.g. AWS credentials) and runs `f` on it.
    fn with_store<T, F>(&self, f: impl FnOnce(tollgate_registry::store::Store) -> F) -> T
    where
        F: std::future::Future<Output = tollgate_registry::Result<T>>,
    {
        let spec = self.store_spec();
        let env = |name: &str| {
            self.env
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .or_else(|| match name.starts_with("TOLLGATE_") {
                    // Like `tollgate_command`: the caller's own settings don't leak in.
                    true => None,
                    false => std::env::var(name).ok(),
                })
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the store");
        runtime.block_on(async {
            let store = tollgate_registry::store::Store::connect_with_env(&spec, env)
                .await
                .unwrap_or_else(|e| panic!("open the store {spec}: {e}"));
            f(store)
                .await
                .unwrap_or_else(|e| panic!("the store {spec}: {e}"))
        })
    }
}
