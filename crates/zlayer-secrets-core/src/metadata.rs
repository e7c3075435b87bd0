//! Metadata about stored secrets: never the values.

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch, now (0 if the clock is before 1970).
#[must_use]
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// What a store knows about a secret besides its value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SecretMetadata {
    /// The secret's name within its scope.
    pub name: String,
    /// When the first version was written (Unix seconds).
    pub created_at: i64,
    /// When the current version was written (Unix seconds).
    pub updated_at: i64,
    /// The current version; the first write is version 1 and each write adds one.
    pub version: u32,
}

impl SecretMetadata {
    /// Metadata for a secret created now, at version 1.
    pub fn new(name: impl Into<String>) -> Self {
        let now = unix_now();
        Self {
            name: name.into(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// Records one more write: bumps the version and the update time.
    pub fn update(&mut self) {
        self.updated_at = unix_now();
        self.version = self.version.saturating_add(1);
    }
}

/// The outcome of [`SecretsStore::rotate_secret`](crate::SecretsStore::rotate_secret).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RotationResult {
    /// The version before the rotation (`None` only for stores that create on rotate).
    pub previous_version: Option<u32>,
    /// The version the rotation wrote.
    pub new_version: u32,
}
