//! XChaCha20-Poly1305 encryption keys, Argon2id key derivation and key files.
//!
//! Depend on this crate if you encrypt values at rest (a store backend) or manage the keys
//! that protect them (the CLI). Code that only resolves secret references needs
//! `zlayer-secrets-core`, not this crate.
//!
//! - [`EncryptionKey`] seals and opens values (`nonce || ciphertext || tag`, with optional
//!   associated data), derives keys from passwords and wraps one key under another.

mod key;

pub use key::{
    ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, EncryptionKey, KEY_SIZE,
    MIN_SALT_LEN, NONCE_SIZE, OVERHEAD, SALT_LEN, TAG_SIZE, generate_salt,
};
pub use zeroize::Zeroizing;
