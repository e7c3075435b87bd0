//! Integration tests of `zlayer-secrets-core`: the store conformance suite on
//! [`MemoryStore`](zlayer_secrets_core::MemoryStore), the resolver, redaction and the
//! dependency boundary.

mod memory_conformance;
