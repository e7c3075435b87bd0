//! Reports about a store's keys, safe to print.

/// What a store records about the keys that protect it (no key material).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Fingerprint of the key that currently locks the store.
    pub fingerprint: String,
    /// Which data key encrypts the values: 1 for a new store, plus one per
    /// [`reencrypt_all`](crate::PersistentSecretsStore::reencrypt_all).
    pub data_key_generation: u32,
    /// Random identifier of this store (hex), bound into its wrapped data key.
    pub store_id: String,
    /// When the store was created (Unix seconds).
    pub created_at: i64,
    /// When the store was last locked with another key, if ever (Unix seconds).
    pub rekeyed_at: Option<i64>,
    /// When every value was last re-encrypted under a new data key, if ever (Unix seconds).
    pub reencrypted_at: Option<i64>,
    /// The database schema version.
    pub schema_version: u32,
}

/// The outcome of [`reencrypt_all`](crate::PersistentSecretsStore::reencrypt_all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReencryptReport {
    /// How many stored versions (of all secrets) were re-encrypted.
    pub versions: u64,
    /// The generation of the new data key.
    pub data_key_generation: u32,
}
