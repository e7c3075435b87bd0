//! Integration tests of `zlayer-secrets-core`: the store conformance suite on
//! [`MemoryStore`](zlayer_secrets_core::MemoryStore), the resolver and redaction. (The
//! dependency boundary is checked by `cargo xtask tidy`.)

#![allow(clippy::unwrap_used)] // tests report failure by panicking

mod logs;
mod memory_conformance;
mod redaction;
mod resolver;
