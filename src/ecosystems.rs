//! The ecosystems this binary serves: the one list of protocol descriptors.

use tollgate_registry::ecosystem::Ecosystems;

pub use tollgate_cargo::ecosystem::ECOSYSTEM as CARGO;
pub use tollgate_hex::ecosystem::ECOSYSTEM as HEX;
pub use tollgate_npm::ecosystem::ECOSYSTEM as NPM;
pub use tollgate_pypi::ecosystem::ECOSYSTEM as PYPI;
pub use tollgate_rubygems::ecosystem::ECOSYSTEM as RUBYGEMS;

/// The ecosystems this server serves, in the order pages list them: where each is mounted, its
/// names, snippets and metrics label. A new ecosystem adds its descriptor here and its router
/// below.
pub static ECOSYSTEMS: Ecosystems = Ecosystems::new(&[&NPM, &CARGO, &HEX, &RUBYGEMS, &PYPI]);
