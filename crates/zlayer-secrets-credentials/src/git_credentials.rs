//! Credentials for Git: personal access tokens and SSH private keys.
//!
//! Each credential is one record in [`GIT_CREDENTIALS_SCOPE`] (`_zlayer/git_credentials`),
//! named by its id (a random UUID), whose value is the JSON
//! `{"id", "name", "kind", "host"?, "username"?, "value", "stored_at_ns"?}`: metadata and
//! secret together, so creating or deleting a credential is a single write and can never
//! leave one without the other (see the crate docs).
//!
//! A credential may be bound to a Git host ([`GitCredentialStore::create_for_host`]); the
//! host look-up [`GitCredentialStore::find_by_host`] accepts a host or any remote URL and
//! compares through [`normalize_git_host`]. Credentials made with the original
//! [`GitCredentialStore::create`] have no host and are found by id or label only.
//!
//! A credential helper, which git also asks about other protocols (`smtp` for
//! `git send-email`, ...), binds credentials to a location `scheme://host[:port]` of any
//! scheme and finds them with [`GitCredentialStore::find_by_location_key`], newest first:
//! the record keeps when its value was stored (`stored_at_ns`), so that of several
//! credentials for one place the one stored last is offered first, as git's own
//! `credential-store` does.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = zlayer_secrets_core::MemoryStore::new();
//! use zlayer_secrets_credentials::git_credentials::{GitCredentialKind, GitCredentialStore};
//!
//! let git = GitCredentialStore::new(store);
//! let cred = git
//!     .create_for_host("ci token", "ghp_xxxx", GitCredentialKind::Pat, "github.com", Some("ci-bot"))
//!     .await?;
//! let found = git.find_by_host("git@github.com:org/repo.git").await?;
//! assert_eq!(found[0].credential.id, cred.id);
//! assert_eq!(found[0].username.as_deref(), Some("ci-bot"));
//! assert_eq!(git.get_value(&cred.id).await?.expose(), "ghp_xxxx");
//! # Ok::<(), zlayer_secrets_core::SecretsError>(())
//! # }).unwrap();
//! ```

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;
use zlayer_secrets_core::{Result, Secret, SecretMetadata, SecretsStore};

pub use crate::host::{
    is_git_scheme, normalize_git_host, normalize_git_host_fields, normalize_git_location,
    normalize_git_location_fields,
};
use crate::scopes::GIT_CREDENTIALS_SCOPE;
use crate::typed::{self, CredentialRecord};

/// A Git credential without its secret value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitCredential {
    /// Unique identifier (a random UUID).
    pub id: String,
    /// Human-readable label, e.g. `"GitHub PAT for ci"`.
    pub name: String,
    /// A personal access token or an SSH key.
    pub kind: GitCredentialKind,
}

/// What a Git credential holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GitCredentialKind {
    /// A personal access token (HTTPS).
    Pat,
    /// An SSH private key.
    SshKey,
}

/// A Git credential with the host it is bound to, without its secret value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitCredentialDetails {
    /// The credential.
    #[serde(flatten)]
    pub credential: GitCredential,
    /// The host as given at creation (compare with [`normalize_git_host`]); `None` for a
    /// credential made without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The user name to present with the secret, if one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// The stored form: details and secret value in one record.
#[derive(Serialize, Deserialize)]
struct GitRecord {
    #[serde(flatten)]
    details: GitCredentialDetails,
    value: String,
    /// When the value was stored (at creation and by each `set_value`), in nanoseconds
    /// since the Unix epoch; absent in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stored_at_ns: Option<i64>,
}

/// Now, in nanoseconds since the Unix epoch (0 before 1970, saturating in 2262).
fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

impl std::fmt::Debug for GitRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRecord")
            .field("details", &self.details)
            .field("value", &"[REDACTED]")
            .field("stored_at_ns", &self.stored_at_ns)
            .finish()
    }
}

impl Drop for GitRecord {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

impl CredentialRecord for GitRecord {
    const NOUN: &'static str = "Git credential";

    fn id(&self) -> &str {
        &self.details.credential.id
    }
}

/// Store of Git credentials over any [`SecretsStore`].
pub struct GitCredentialStore<S: SecretsStore> {
    store: S,
}

impl<S: SecretsStore> std::fmt::Debug for GitCredentialStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitCredentialStore")
            .field("scope", &GIT_CREDENTIALS_SCOPE)
            .finish_non_exhaustive()
    }
}

impl<S: SecretsStore> GitCredentialStore<S> {
    /// A Git credential store keeping its records in `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Stores a new credential, bound to no host, under a fresh random id and returns it
    /// (without the value). `name` is a label of 1 to 256 bytes without control characters;
    /// `value` (the token or key) must not be empty. One write to the store.
    pub async fn create(
        &self,
        name: &str,
        value: &str,
        kind: GitCredentialKind,
    ) -> Result<GitCredential> {
        self.insert(name, value, kind, None, None).await
    }

    /// Like [`create`](Self::create), bound to a host (a host or URL that
    /// [`normalize_git_location`] accepts: any Git remote, or a URL of another scheme such
    /// as `smtp://smtp.example.com:587`; kept as given) and optionally a user name to
    /// present with the secret. With a user name, `value` may be empty: some servers take
    /// a token as the user name and a blank password, and git stores those too.
    pub async fn create_for_host(
        &self,
        name: &str,
        value: &str,
        kind: GitCredentialKind,
        host: &str,
        username: Option<&str>,
    ) -> Result<GitCredential> {
        normalize_git_location(host)?;
        self.insert(name, value, kind, Some(host.trim()), username)
            .await
    }

    async fn insert(
        &self,
        name: &str,
        value: &str,
        kind: GitCredentialKind,
        host: Option<&str>,
        username: Option<&str>,
    ) -> Result<GitCredential> {
        typed::check_label("label", name, false)?;
        if let Some(u) = username {
            typed::check_label("user name", u, false)?;
        } else {
            typed::check_secret_value("token or key", value)?;
        }
        let rec = GitRecord {
            details: GitCredentialDetails {
                credential: GitCredential {
                    id: crate::random::uuid_v4()?,
                    name: name.to_owned(),
                    kind,
                },
                host: host.map(str::to_owned),
                username: username.map(str::to_owned),
            },
            value: value.to_owned(),
            stored_at_ns: Some(now_ns()),
        };
        typed::insert(&self.store, GIT_CREDENTIALS_SCOPE, &rec).await?;
        tracing::info!(
            id = %rec.details.credential.id,
            name = %rec.details.credential.name,
            kind = ?kind,
            host = ?rec.details.host,
            "created Git credential"
        );
        Ok(rec.details.credential.clone())
    }

    /// The credential (without value), `None` if there is none with this id.
    pub async fn get(&self, id: &str) -> Result<Option<GitCredential>> {
        Ok(self.get_details(id).await?.map(|d| d.credential))
    }

    /// The credential with its host and user name (without value), `None` if there is none
    /// with this id.
    pub async fn get_details(&self, id: &str) -> Result<Option<GitCredentialDetails>> {
        let rec: Option<GitRecord> = typed::fetch(&self.store, GIT_CREDENTIALS_SCOPE, id).await?;
        Ok(rec.map(|r| r.details.clone()))
    }

    /// The token or key of a credential;
    /// [`NotFound`](zlayer_secrets_core::SecretsError::NotFound) if there is none with this
    /// id.
    pub async fn get_value(&self, id: &str) -> Result<Secret> {
        let rec: GitRecord = typed::fetch(&self.store, GIT_CREDENTIALS_SCOPE, id)
            .await?
            .ok_or_else(|| typed::not_found::<GitRecord>(id))?;
        Ok(Secret::new(rec.value.as_str()))
    }

    /// Replaces the token or key of an existing credential, keeping everything else (one
    /// write; setting the same value again makes it the newest for
    /// [`find_by_location_key`](Self::find_by_location_key));
    /// [`NotFound`](zlayer_secrets_core::SecretsError::NotFound) if there is none with this
    /// id. The value may be empty only for a credential with a user name.
    pub async fn set_value(&self, id: &str, value: &str) -> Result<()> {
        let mut rec: GitRecord = typed::fetch(&self.store, GIT_CREDENTIALS_SCOPE, id)
            .await?
            .ok_or_else(|| typed::not_found::<GitRecord>(id))?;
        if rec.details.username.is_none() {
            typed::check_secret_value("token or key", value)?;
        }
        rec.value.zeroize();
        value.clone_into(&mut rec.value);
        rec.stored_at_ns = Some(now_ns());
        typed::replace(&self.store, GIT_CREDENTIALS_SCOPE, &rec).await?;
        tracing::info!(id, "changed value of Git credential");
        Ok(())
    }

    /// Every credential with its host and user name (without values), ordered by label,
    /// then id. A corrupt record fails the listing with an error naming its id.
    pub async fn list_details(&self) -> Result<Vec<GitCredentialDetails>> {
        let recs: Vec<GitRecord> = typed::fetch_all(&self.store, GIT_CREDENTIALS_SCOPE).await?;
        let mut out: Vec<GitCredentialDetails> = recs.iter().map(|r| r.details.clone()).collect();
        out.sort_by(|a, b| {
            (&a.credential.name, &a.credential.id).cmp(&(&b.credential.name, &b.credential.id))
        });
        Ok(out)
    }

    /// Every credential (without values), in the order of
    /// [`list_details`](Self::list_details).
    pub async fn list(&self) -> Result<Vec<GitCredential>> {
        Ok(self
            .list_details()
            .await?
            .into_iter()
            .map(|d| d.credential)
            .collect())
    }

    /// The credentials bound to the host of `host_or_url` (compared through
    /// [`normalize_git_host`]: `git@github.com:org/repo.git`, `https://GitHub.com/org` and
    /// `github.com` are the same host), in the order of [`list_details`](Self::list_details).
    /// Credentials without a host never match. Empty if there is none.
    pub async fn find_by_host(&self, host_or_url: &str) -> Result<Vec<GitCredentialDetails>> {
        self.find_by_host_key(&normalize_git_host(host_or_url)?)
            .await
    }

    /// The credentials whose host has exactly the comparison key `key`, as
    /// [`normalize_git_host`] or [`normalize_git_host_fields`] return it (`github.com`,
    /// `git.example.com:8443`). `key` itself is compared as it is, not parsed. In the order
    /// of [`list_details`](Self::list_details); empty if there is none.
    pub async fn find_by_host_key(&self, key: &str) -> Result<Vec<GitCredentialDetails>> {
        Ok(self
            .list_details()
            .await?
            .into_iter()
            .filter(|d| {
                d.host
                    .as_deref()
                    .and_then(|h| normalize_git_host(h).ok())
                    .is_some_and(|h| h == key)
            })
            .collect())
    }

    /// The credentials whose host has exactly the location key `key`, as
    /// [`normalize_git_location`] or [`normalize_git_location_fields`] return it
    /// (`https://github.com`, `smtp://smtp.example.com:587`); `key` itself is compared as
    /// it is, not parsed. Newest first: the credential whose value was stored last (at
    /// creation or by [`set_value`](Self::set_value)) comes first; records written before
    /// that time was kept count as stored when the backing store last wrote them (a
    /// second's precision); ties go by label, then id. Empty if there is none.
    pub async fn find_by_location_key(&self, key: &str) -> Result<Vec<GitCredentialDetails>> {
        let recs: Vec<(SecretMetadata, GitRecord)> =
            typed::fetch_all_with_metadata(&self.store, GIT_CREDENTIALS_SCOPE).await?;
        let mut found: Vec<(i64, GitCredentialDetails)> = recs
            .iter()
            .filter(|(_, r)| {
                r.details
                    .host
                    .as_deref()
                    .and_then(|h| normalize_git_location(h).ok())
                    .is_some_and(|h| h == key)
            })
            .map(|(meta, r)| {
                let stored = r
                    .stored_at_ns
                    .unwrap_or_else(|| meta.updated_at.saturating_mul(1_000_000_000));
                (stored, r.details.clone())
            })
            .collect();
        found.sort_by(|(ta, a), (tb, b)| {
            tb.cmp(ta).then_with(|| {
                (&a.credential.name, &a.credential.id).cmp(&(&b.credential.name, &b.credential.id))
            })
        });
        Ok(found.into_iter().map(|(_, d)| d).collect())
    }

    /// Deletes a credential and its value (one write);
    /// [`NotFound`](zlayer_secrets_core::SecretsError::NotFound) if there is none with this
    /// id.
    pub async fn delete(&self, id: &str) -> Result<()> {
        typed::remove::<S, GitRecord>(&self.store, GIT_CREDENTIALS_SCOPE, id).await?;
        tracing::info!(id, "deleted Git credential");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_serde_is_snake_case() {
        assert_eq!(
            serde_json::to_string(&GitCredentialKind::Pat).unwrap(),
            "\"pat\""
        );
        assert_eq!(
            serde_json::to_string(&GitCredentialKind::SshKey).unwrap(),
            "\"ssh_key\""
        );
        let k: GitCredentialKind = serde_json::from_str("\"ssh_key\"").unwrap();
        assert_eq!(k, GitCredentialKind::SshKey);
    }

    #[test]
    fn credential_serde_shape_is_the_original() {
        let c = GitCredential {
            id: "i".into(),
            name: "n".into(),
            kind: GitCredentialKind::SshKey,
        };
        assert_eq!(
            serde_json::to_value(&c).unwrap(),
            serde_json::json!({"id": "i", "name": "n", "kind": "ssh_key"})
        );
    }

    #[test]
    fn record_debug_hides_the_value() {
        let rec = GitRecord {
            details: GitCredentialDetails {
                credential: GitCredential {
                    id: "i".into(),
                    name: "n".into(),
                    kind: GitCredentialKind::Pat,
                },
                host: Some("github.com".into()),
                username: None,
            },
            value: "ghp_hunter2".into(),
            stored_at_ns: Some(1),
        };
        let json = serde_json::to_value(&rec).unwrap();
        assert_eq!(json["value"], "ghp_hunter2");
        assert_eq!(json["host"], "github.com");
        assert!(json.get("username").is_none());
        let dbg = format!("{rec:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
    }
}
