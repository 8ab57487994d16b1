//! The Hex repository (`/{seller}/hex`: signed `names`, `versions`, `packages/NAME`, tarballs,
//! `public_key`) and the publish API (`/{seller}/hex/api`) for the unmodified `mix` and `rebar3`.
//! See shared/protocols/hex.md and shared/tools/hex/README.md for what the clients need.

pub mod etf;
pub mod metadata;
pub mod tarball;
