//! Integration tests of `VaultSecretsProvider` against a real OpenBao server.
//!
//! Every test needs a server and is `#[ignore]`d: `cargo xtask ci` starts `bao server -dev`
//! on a free 127.0.0.1 port, exports `ZLAYER_TEST_VAULT_ADDR` and `ZLAYER_TEST_VAULT_TOKEN`
//! (a root token) and runs `cargo test -p zlayer-secrets-vault -- --ignored`. Run by hand
//! with the same two variables; without them every test fails, saying so.

// Test helpers outside `#[test]` functions report failure by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod cas;
mod common;
mod conformance;
mod encoding;
mod interop;
mod listing;
mod mounts;
mod namespace;
mod outage;
mod typed_stores;
mod versions;
