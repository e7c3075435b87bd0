//! Integration tests of zlayer-secrets-crypto, one binary for the whole crate.
#![allow(clippy::unwrap_used)] // tests report failure by panicking

mod key;
mod manager;
mod props;
mod race;
