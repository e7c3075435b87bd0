//! Integration tests of `zlayer-secrets-core`: the store conformance suite on
//! [`MemoryStore`](zlayer_secrets_core::MemoryStore), the resolver, redaction and the
//! dependency boundary.

#![allow(clippy::unwrap_used)] // tests report failure by panicking

mod deps;
mod logs;
mod memory_conformance;
mod redaction;
mod resolver;
