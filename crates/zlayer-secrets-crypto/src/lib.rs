//! XChaCha20-Poly1305 encryption keys, Argon2id key derivation and key files.
//!
//! Depend on this crate if you encrypt values at rest (a store backend) or manage the keys
//! that protect them (the CLI). Code that only resolves secret references needs
//! `zlayer-secrets-core`, not this crate.
//!
//! - [`EncryptionKey`] seals and opens values (`nonce || ciphertext || tag`, with optional
//!   associated data), derives keys from passwords and wraps one key under another.
//!   `decrypt` returns a plain `Vec<u8>` as in the original crate; `decrypt_zeroizing` and
//!   `decrypt_with_aad` return buffers that wipe themselves.
//! - [`argon2id`] is Argon2id with the one set of parameters of the workspace (key
//!   derivation here, API-key hashes in `zlayer-secrets-credentials`).
//! - [`random::fill`] is the one source of randomness of the workspace.
//! - [`KeyManager`] finds the key of a deployment (environment, password, key file) or
//!   creates its key file, says where the key came from ([`KeySource`]), and rotates key
//!   files ([`KeyRotation`]).
//! - [`ownership`] refuses directories and files holding keys or secrets that another user
//!   owns or that group or others can write; the SQLite store uses it too.
//!
//! ```
//! use zlayer_secrets_crypto::KeyManager;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! // The first call writes `secrets_prod.key` (unless ZLAYER_SECRETS_KEY or
//! // ZLAYER_SECRETS_PASSWORD is set); later calls read it.
//! let resolved = KeyManager::with_base_dir(dir.path()).resolve("prod")?;
//! println!("key {} from {}", resolved.fingerprint(), resolved.source);
//!
//! // Bind each value to where it is stored with associated data.
//! let key = resolved.key;
//! let sealed = key.encrypt_with_aad(b"hunter2", b"prod/db-password/1")?;
//! let opened = key.decrypt_with_aad(&sealed, b"prod/db-password/1")?;
//! assert_eq!(opened.as_slice(), b"hunter2");
//! assert!(key.decrypt_with_aad(&sealed, b"prod/db-password/2").is_err());
//! # Ok(())
//! # }
//! ```
//!
//! The on-disk formats (sealed boxes, key files, salt files) are described in
//! `docs/format.md`.

mod files;
mod key;
mod manager;
pub mod ownership;
pub mod random;

pub use key::{
    ARGON2_ITERATIONS, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, EncryptionKey, KEY_SIZE,
    MIN_SALT_LEN, NONCE_SIZE, OVERHEAD, SALT_LEN, TAG_SIZE, argon2id, generate_salt,
};
pub use manager::{
    ENV_DIR, ENV_KEY, ENV_PASSWORD, KeyManager, KeyRotation, KeySource, MAX_DEPLOYMENT_LEN,
    ResolvedKey, validate_deployment,
};
pub use zeroize::Zeroizing;
