//! XChaCha20-Poly1305 encryption keys, Argon2id key derivation and key files.
//!
//! Depend on this crate if you encrypt values at rest (a store backend) or manage the keys
//! that protect them (the CLI). Code that only resolves secret references needs
//! `zlayer-secrets-core`, not this crate.
//!
//! - [`EncryptionKey`] seals and opens values (`nonce || ciphertext || tag`, with optional
//!   associated data), derives keys from passwords and wraps one key under another.
//! - [`KeyManager`] finds the key of a deployment (environment, password, key file) or
//!   creates its key file, says where the key came from ([`KeySource`]), and rotates key
//!   files ([`KeyRotation`]).
//!
//! The on-disk formats (sealed boxes, key files, salt files) are described in
//! `docs/format.md`.

mod files;
mod key;
mod manager;

pub use key::{
    ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, EncryptionKey, KEY_SIZE,
    MIN_SALT_LEN, NONCE_SIZE, OVERHEAD, SALT_LEN, TAG_SIZE, generate_salt,
};
pub use manager::{
    ENV_DIR, ENV_KEY, ENV_PASSWORD, KeyManager, KeyRotation, KeySource, MAX_DEPLOYMENT_LEN,
    ResolvedKey, validate_deployment,
};
pub use zeroize::Zeroizing;
