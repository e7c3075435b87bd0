//! [`SecretsError`], the error type of every store and of the resolver.

/// Everything that can go wrong while storing, reading or resolving secrets.
///
/// Variants carry the context a user needs (which name, which scope, which file) and never
/// a secret value. The first eight variants are those of the original crate; match with a
/// wildcard arm, as more may be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretsError {
    /// The named secret (or version) does not exist.
    #[error("secret not found: {name}")]
    NotFound {
        /// Which secret, as `scope/name` or a reference.
        name: String,
    },
    /// The backend refused access.
    #[error("access denied to secret: {name}")]
    AccessDenied {
        /// Which secret or path.
        name: String,
    },
    /// Encrypting a value failed.
    #[error("encryption error: {0}")]
    Encryption(String),
    /// A stored value could not be decrypted: wrong key, or the data was altered.
    #[error("decryption error: {0}")]
    Decryption(String),
    /// The storage backend failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// A name, scope or reference is not well-formed.
    #[error("invalid secret name: {name}")]
    InvalidName {
        /// The offending name and, where known, what is wrong with it.
        name: String,
    },
    /// The secret exists already.
    #[error("secret already exists: {name}")]
    AlreadyExists {
        /// Which secret.
        name: String,
    },
    /// A remote provider (Vault) or an environment resolver failed.
    #[error("provider error: {0}")]
    Provider(String),
    /// A concurrent writer changed the secret first (check-and-set lost).
    #[error("conflict on secret {name}: it was changed concurrently (expected version {expected})")]
    Conflict {
        /// Which secret.
        name: String,
        /// The version this writer expected to replace.
        expected: u32,
    },
    /// The key offered does not open this store.
    #[error("wrong key: {0}")]
    WrongKey(String),
    /// Input that is not a name (a value too large, a malformed import file, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The secret exists, but what the backend holds for it is not a text value (data
    /// that another tool wrote to Vault, such as a `value` field that is a number or
    /// `null`). The secret can still be listed, overwritten and deleted.
    #[error("secret {name} holds no text value: {reason}")]
    NotText {
        /// Which secret, as `scope/name`.
        name: String,
        /// What the backend holds instead (a kind, never the data itself).
        reason: String,
    },
    /// The store's own records fail their authentication: they were changed outside
    /// zlayer-secrets (for example a secret's current version rolled back to an older one).
    /// Nothing is read or written through a record that fails; the message names the
    /// record, never a value.
    #[error("the store was tampered with: {0}")]
    Tampered(String),
}

/// `Result` with [`SecretsError`].
pub type Result<T, E = SecretsError> = std::result::Result<T, E>;
