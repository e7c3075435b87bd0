//! Request and response bodies.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;
use zlayer_secrets_core::{SecretMetadata, SecretVersion, VersionState};

/// Overwrites secret text in memory before it is freed.
trait Wipe {
    fn wipe(&mut self);
}

impl Wipe for String {
    fn wipe(&mut self) {
        self.zeroize();
    }
}

impl Wipe for Option<String> {
    fn wipe(&mut self) {
        if let Some(s) = self {
            s.zeroize();
        }
    }
}

impl Wipe for BTreeMap<String, String> {
    fn wipe(&mut self) {
        for value in self.values_mut() {
            value.zeroize();
        }
    }
}

/// Implements `Debug` showing the listed fields and `[REDACTED]` for the others, and
/// zeroizes the redacted fields on drop.
macro_rules! redacted {
    ($ty:ident { shown: [$($shown:ident),*], hidden: [$($hidden:ident),*] }) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($hidden), &"[REDACTED]"))*
                    .finish()
            }
        }

        impl Drop for $ty {
            fn drop(&mut self) {
                $(Wipe::wipe(&mut self.$hidden);)*
            }
        }
    };
}

/// Every error response: `{"error": "..."}`. The text says what was wrong; it never holds
/// a value or a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
}

/// `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResponse {
    /// Always `ok` when the server answers.
    pub status: String,
    /// `false` while no API key has role `admin`: every `/api/v1` request is refused then.
    pub ready: bool,
    /// Whether the store applies `POST /api/v1/batch` as one transaction (the SQLite
    /// store does; Vault does not).
    pub atomic_batches: bool,
}

/// `POST /auth/token`: an API key and its secret.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenRequest {
    /// The key's id (`zk_...`).
    pub api_key: String,
    /// The key's secret.
    pub api_secret: String,
}
redacted!(TokenRequest {
    shown: [api_key],
    hidden: [api_secret]
});

/// The answer to [`TokenRequest`]: a bearer token for the `/api/v1` routes.
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The token, sent as `Authorization: Bearer TOKEN`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
}
redacted!(TokenResponse {
    shown: [token_type, expires_in],
    hidden: [access_token]
});

/// `GET /api/v1/whoami`: who a token speaks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The subject: the user name of the API key (grants to `user:SUBJECT` apply).
    pub subject: String,
    /// The key's roles (`admin` may do everything).
    pub roles: Vec<String>,
    /// The groups the key belongs to (grants to `group:G` apply).
    pub groups: Vec<String>,
    /// The API key's id.
    pub api_key: String,
}

/// A secret's metadata, as the original API returns it; `value` only when asked for with
/// `reveal=true` (or on the version route).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretBody {
    /// The secret's name.
    pub name: String,
    /// When it was created (Unix seconds).
    pub created_at: i64,
    /// When its current version was written (Unix seconds).
    pub updated_at: i64,
    /// The current version (or the version shown, on the version route).
    pub version: u32,
    /// The value, when revealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}
redacted!(SecretBody {
    shown: [name, created_at, updated_at, version],
    hidden: [value]
});

impl SecretBody {
    /// The body of `metadata`, without a value.
    #[must_use]
    pub fn from_metadata(metadata: &SecretMetadata) -> Self {
        Self {
            name: metadata.name.clone(),
            created_at: metadata.created_at,
            updated_at: metadata.updated_at,
            version: metadata.version,
            value: None,
        }
    }

    /// The metadata part.
    #[must_use]
    pub fn metadata(&self) -> SecretMetadata {
        SecretMetadata {
            name: self.name.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }
    }
}

/// `POST /api/v1/secrets`: create or update a secret.
#[derive(Clone, Serialize, Deserialize)]
pub struct WriteRequest {
    /// The secret's name.
    pub name: String,
    /// The new value.
    pub value: String,
    /// The scope, instead of the query's (both given and different: 400).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}
redacted!(WriteRequest {
    shown: [name, scope],
    hidden: [value]
});

/// `POST /api/v1/secrets/{name}/rotate`: a new value for an existing secret.
#[derive(Clone, Serialize, Deserialize)]
pub struct RotateRequest {
    /// The new value.
    pub value: String,
}
redacted!(RotateRequest {
    shown: [],
    hidden: [value]
});

/// `POST /api/v1/secrets/{name}/rollback`: write version `to` again as a new version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackRequest {
    /// The version whose value to restore.
    pub to: u32,
}

/// The answer to a rotation or a rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotateResponse {
    /// The secret's name.
    pub name: String,
    /// The version before.
    pub previous_version: u32,
    /// The version written.
    pub new_version: u32,
}

/// `GET /api/v1/secrets/{name}/versions`: the retained versions, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionsResponse {
    /// The secret's name.
    pub name: String,
    /// The current version, readable or not.
    pub current: SecretVersion,
    /// What became of the current version (`live` unless the backend's own tools deleted
    /// it).
    pub current_state: VersionState,
    /// The readable versions, oldest first.
    pub versions: Vec<SecretVersion>,
}

/// The answer to `POST /api/v1/secrets/bulk-import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportResponse {
    /// Secrets created.
    pub created: usize,
    /// Secrets given a new version.
    pub updated: usize,
    /// Secrets whose value was the same already (ours beyond the original).
    #[serde(default)]
    pub unchanged: usize,
    /// Empty on success. On a 400 (nothing written), one entry per bad line, naming the
    /// line and the problem, never a value.
    pub errors: Vec<String>,
}

/// `GET /api/v1/secrets/reveal-all`: every value of a scope.
#[derive(Clone, Serialize, Deserialize)]
pub struct RevealAllResponse {
    /// The environment asked for (or the scope, when asked with `scope=`).
    pub environment: String,
    /// Name → value.
    pub secrets: BTreeMap<String, String>,
}
redacted!(RevealAllResponse {
    shown: [environment],
    hidden: [secrets]
});

/// `POST /api/v1/secrets/values`: several values of the query's scope at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValuesRequest {
    /// The names; missing secrets are left out of the answer.
    pub names: Vec<String>,
}

/// The answer to [`ValuesRequest`].
#[derive(Clone, Serialize, Deserialize)]
pub struct ValuesResponse {
    /// Name → value, for the names that exist.
    pub secrets: BTreeMap<String, String>,
}
redacted!(ValuesResponse {
    shown: [],
    hidden: [secrets]
});

/// One write of a [`BatchRequest`].
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum BatchOp {
    /// Create or update a secret.
    Set {
        /// Its scope.
        scope: String,
        /// Its name.
        name: String,
        /// The new value.
        value: String,
    },
    /// Delete a secret if it exists.
    Delete {
        /// Its scope.
        scope: String,
        /// Its name.
        name: String,
    },
}

impl fmt::Debug for BatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Set { scope, name, .. } => f
                .debug_struct("Set")
                .field("scope", scope)
                .field("name", name)
                .field("value", &"[REDACTED]")
                .finish(),
            Self::Delete { scope, name } => f
                .debug_struct("Delete")
                .field("scope", scope)
                .field("name", name)
                .finish(),
        }
    }
}

impl Drop for BatchOp {
    fn drop(&mut self) {
        if let Self::Set { value, .. } = self {
            value.zeroize();
        }
    }
}

/// `POST /api/v1/batch`: writes applied all or nothing (on a store with transactions).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchRequest {
    /// The writes, in order.
    pub ops: Vec<BatchOp>,
}

/// The answer to [`BatchRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchResponse {
    /// Whether the store applied the batch as one transaction.
    pub atomic: bool,
}

/// `POST /api/v1/resolve`: the references of an environment map, resolved in one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolveRequest {
    /// The deployment scope `$S:name` reads (`default`, `shop`, `shop/api`, or an
    /// environment's scope).
    pub scope: String,
    /// Variable → value; values that are references are resolved, others come back as they
    /// are.
    pub references: BTreeMap<String, String>,
}

/// The answer to [`ResolveRequest`].
#[derive(Clone, Serialize, Deserialize)]
pub struct ResolveResponse {
    /// Variable → resolved value.
    pub values: BTreeMap<String, String>,
}
redacted!(ResolveResponse {
    shown: [],
    hidden: [values]
});

/// One grant, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantEntry {
    /// `user:NAME` or `group:NAME`.
    pub subject: String,
    /// `read`, `execute` or `write`.
    pub level: String,
}

/// `GET /api/v1/grants?environment=E[&project=P]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantsResponse {
    /// The environment's scope (`env:E`, `project:P:env:E`).
    pub environment: String,
    /// Its grants, users first, then groups, each by name.
    pub grants: Vec<GrantEntry>,
}

/// `PUT /api/v1/grants`: give a subject a level on an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRequest {
    /// `user:NAME`, `group:NAME`, or a bare user name.
    pub subject: String,
    /// The environment.
    pub environment: String,
    /// Its project, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// `read`, `execute` or `write`.
    pub level: String,
}

/// The answer to [`GrantRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantResponse {
    /// The environment's scope.
    pub environment: String,
    /// The subject, written out.
    pub subject: String,
    /// The level before, `null` when there was no grant.
    pub previous: Option<String>,
    /// The level now.
    pub level: String,
}

/// The query of `DELETE /api/v1/grants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeQuery {
    /// The subject.
    pub subject: String,
    /// The environment.
    pub environment: String,
    /// Its project, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// The answer to a revoke (404 when there was no grant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeResponse {
    /// The environment's scope.
    pub environment: String,
    /// The subject, written out.
    pub subject: String,
    /// The level taken away.
    pub revoked: String,
}

/// The query of `GET /api/v1/grants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentQuery {
    /// The environment.
    pub environment: String,
    /// Its project, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
}

/// An API key as listed: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    /// The key's id.
    pub api_key: String,
    /// Its subject (user name).
    pub subject: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// Its groups.
    pub groups: Vec<String>,
}

/// `POST /api/v1/api-keys`: make a key for a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRequest {
    /// The user the key speaks for.
    pub subject: String,
    /// Its roles (`admin`, or none).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Its groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A new API key with its secret, shown once. `api_key` and `api_secret` are exactly what
/// `POST /auth/token` takes.
#[derive(Clone, Serialize, Deserialize)]
pub struct NewApiKey {
    /// The key's id.
    pub api_key: String,
    /// The key's secret.
    pub api_secret: String,
    /// Its subject.
    pub subject: String,
    /// Its roles.
    pub roles: Vec<String>,
    /// Its groups.
    pub groups: Vec<String>,
}
redacted!(NewApiKey {
    shown: [api_key, subject, roles, groups],
    hidden: [api_secret]
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_original_shapes_hold() {
        let token: TokenRequest =
            serde_json::from_str(r#"{"api_key":"k","api_secret":"s"}"#).unwrap();
        assert_eq!(token.api_key, "k");
        let body = SecretBody {
            name: "db".to_owned(),
            created_at: 1,
            updated_at: 2,
            version: 3,
            value: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"name":"db","created_at":1,"updated_at":2,"version":3}"#
        );
        let op: BatchOp =
            serde_json::from_str(r#"{"op":"delete","scope":"s","name":"n"}"#).unwrap();
        assert!(matches!(op, BatchOp::Delete { .. }));
    }

    #[test]
    fn debug_never_shows_values() {
        let shown = format!(
            "{:?} {:?} {:?} {:?}",
            TokenRequest {
                api_key: "k".to_owned(),
                api_secret: "hunter2".to_owned()
            },
            WriteRequest {
                name: "n".to_owned(),
                value: "hunter2".to_owned(),
                scope: None
            },
            BatchOp::Set {
                scope: "s".to_owned(),
                name: "n".to_owned(),
                value: "hunter2".to_owned()
            },
            TokenResponse {
                access_token: "hunter2".to_owned(),
                token_type: "Bearer".to_owned(),
                expires_in: 1
            },
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
