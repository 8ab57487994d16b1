//! Opening the database and asking after it: what the binary needs before and besides the
//! operations (the port itself stays inside the core).

use super::{Options, Registry};
use crate::Result;
use crate::db::{Backend, Db};
use crate::secret::SecretBox;
use crate::store::Store;

impl Registry {
    /// Opens the database at `url` (a SQLite path or `sqlite:` URL, created if needed, or a
    /// `postgres://` URL), runs pending migrations and opens the registry on it and `store`.
    pub async fn connect(url: &str, store: Store, options: Options) -> Result<Self> {
        let db = Db::connect(url).await?;
        Self::open(db, store, options).await
    }

    /// Which database this registry runs on.
    pub fn backend(&self) -> Backend {
        self.db().backend()
    }

    /// Binds secrets sealed by earlier versions to their rows (issue 16); how many were resealed.
    pub async fn bind_legacy_secrets(&self, secrets: &SecretBox) -> Result<usize> {
        crate::secret::bind_legacy(self.db(), secrets).await
    }

    /// Is the database answering? (`/readyz`)
    pub async fn ping(&self) -> Result<()> {
        self.db().ping().await
    }

    /// The newest change-log entry (0 when there is none): a command that changed something
    /// sees it move.
    pub async fn last_change(&self) -> Result<i64> {
        self.db().last_change().await
    }
}
