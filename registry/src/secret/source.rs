//! Where the key comes from: the environment variable, the key file, or the program.

use std::path::PathBuf;

/// The environment variable that holds the key.
pub const KEY_ENV: &str = "TOLLGATE_SECRET_KEY";
/// The key file's name inside the data directory, used when [`KEY_ENV`] is not set.
pub const KEY_FILE: &str = "secret.key";

/// Where the key of a [`SecretBox`] came from, for error messages and the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `TOLLGATE_SECRET_KEY` environment variable.
    Env,
    /// A key file (found or created).
    File(PathBuf),
    /// Given by the program ([`SecretBox::new`]), as in tests.
    Given,
}

impl KeySource {
    pub(super) fn describe(&self) -> String {
        match self {
            Self::Env => KEY_ENV.to_owned(),
            Self::File(path) => format!("the key in {}", path.display()),
            Self::Given => "the key".to_owned(),
        }
    }

    pub(super) fn hint(&self) -> String {
        match self {
            Self::File(_) => format!(" (was {KEY_ENV} set when it was stored?)"),
            Self::Env | Self::Given => String::new(),
        }
    }
}
