//! What the index keeps of each uploaded file, as the release's metadata: one release per file,
//! keyed by its file name (a version may have several files: wheels per platform and an sdist).

use serde::{Deserialize, Serialize};

/// One distribution file's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    pub filename: String,
    /// The version, normalized (PEP 440).
    pub version: String,
    /// `bdist_wheel` or `sdist`.
    pub filetype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_dist: Vec<String>,
    /// A wheel's `METADATA`, served whole next to it (PEP 658).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_metadata: Option<String>,
    /// SHA-256 hex of `core_metadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core_metadata_sha256: Option<String>,
}
