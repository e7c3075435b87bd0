//! Integration tests of zlayer-secrets-crypto, one binary for the whole crate.

mod key;
