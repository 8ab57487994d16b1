//! [`Views`]: how the pages reach their read models.

use crate::Registry;
use crate::db::Db;
use crate::views::Sessions;

/// What the pages read. Cheap to clone (it holds the pool).
#[derive(Debug, Clone)]
pub struct Views(pub(crate) Db);

impl Registry {
    /// The pages' read models.
    pub fn views(&self) -> Views {
        Views(self.db().clone())
    }

    /// The pages' session records.
    pub fn sessions(&self) -> Sessions {
        Sessions(self.db().clone())
    }
}
