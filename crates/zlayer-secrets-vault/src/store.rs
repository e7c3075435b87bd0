//! [`VaultSecretsProvider`]: the store traits over the KV v2 HTTP API.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::{StreamExt as _, stream};
use reqwest::{Method, StatusCode};
use zlayer_secrets_core::{
    Result, RotationResult, Secret, SecretMetadata, SecretVersion, SecretsError, SecretsProvider,
    SecretsStore, VersionHistory, VersionState, VersionedSecretsStore, label, validate_name,
    validate_scope, validate_value,
};

use crate::VaultConfig;
use crate::client::Client;
use crate::wire::{self, Current, Envelope, KeyList, KvMetadata, ReadError};
use crate::writes::Written;

/// Secrets in a HashiCorp Vault or OpenBao KV version 2 engine.
///
/// The secret `name` of `scope` lives at `{mount}/data/{scope}/{name}`, its value in the
/// field `value` (`{"value": "..."}`); every segment of the scope and the name is
/// percent-encoded, and both are validated first, so no name can reach outside its scope.
/// Versions, history and rollback use the engine's own versions.
///
/// Before its first request the provider looks up the engine at the mount once and
/// refuses anything but KV version 2 (a KV version 1 mount, another engine, or a path
/// inside a mount), so nothing is ever written to the wrong place.
///
/// **Data other tools wrote.** Every write reads the current version first and writes its
/// other fields back unchanged next to the new `value`, with check-and-set against the
/// version read (starting over when a concurrent writer won), so fields that `bao kv put`
/// stored are kept; a rollback copies every field of the old version. Reads:
///
/// | the version's data | reads as |
/// | --- | --- |
/// | a `value` field holding a string (other fields or not) | that string |
/// | fields, none of them `value` | the JSON object of the fields, `{"password":"...","username":"app"}`, so `$S:name/password` reads one field |
/// | a `value` field holding `null`, a number, ... | [`SecretsError::NotText`] naming its kind; the secret is still listed, and can be overwritten and deleted |
///
/// [`rotate_secret`](SecretsStore::rotate_secret) and
/// [`rollback_secret`](VersionedSecretsStore::rollback_secret) write with check-and-set
/// against the version they start from, so of two concurrent rotations of one version
/// exactly one succeeds and the other gets [`SecretsError::Conflict`].
/// [`create_secret`](SecretsStore::create_secret) is one write with check-and-set 0 (the
/// server's own create-if-absent), so of concurrent creates exactly one succeeds.
///
/// Every write of a new value refuses one of more than
/// [`MAX_VALUE_LEN`](zlayer_secrets_core::MAX_VALUE_LEN) bytes with
/// [`SecretsError::InvalidInput`] before any request is sent.
///
/// A secret exists while its current version is readable. A current version that was
/// deleted or destroyed with Vault's own tools makes the secret absent for
/// [`get_secret`](SecretsProvider::get_secret), [`exists`](SecretsProvider::exists),
/// listings and [`get_metadata`](VersionedSecretsStore::get_metadata), while its remaining
/// versions can still be listed, read and rolled back to, and
/// [`version_history`](VersionedSecretsStore::version_history) says what became of it.
///
/// Errors: 404 is [`SecretsError::NotFound`]; 403 is [`SecretsError::AccessDenied`] naming
/// the Vault path and the capability, and saying (after one lookup of the token) whether the
/// token is invalid or expired or its policies do not allow the operation; a namespace that
/// does not exist, a wrong mount and a server that cannot be reached are
/// [`SecretsError::Provider`] errors naming `VAULT_NAMESPACE`, `VAULT_MOUNT` or the address.
/// The token is never in an error or in `Debug` output.
///
/// Cloning is cheap and shares the connection pool and what was learnt about the mount.
#[derive(Clone)]
pub struct VaultSecretsProvider {
    pub(crate) client: Arc<Client>,
}

impl core::fmt::Debug for VaultSecretsProvider {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VaultSecretsProvider")
            .field("address", &self.client.address())
            .field("mount", &self.client.mount())
            .field("token", &"[REDACTED]")
            .finish_non_exhaustive()
    }
}

impl VaultSecretsProvider {
    /// A provider for the server at `address` (such as `https://vault.example.com:8200`),
    /// authenticating with `token`, over the KV v2 engine mounted at `mount` (usually
    /// `secret`). No request is sent yet. For a namespace, CA file or other timeouts use
    /// [`VaultConfig`].
    pub fn new(address: &str, token: &str, mount: &str) -> Result<Self> {
        VaultConfig::new(address, token).with_mount(mount).build()
    }

    /// A provider configured from `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_MOUNT` (default
    /// `secret`), `VAULT_NAMESPACE`, `VAULT_CACERT` and `VAULT_CLIENT_TIMEOUT`; see
    /// [`VaultConfig::from_env`].
    pub fn from_env() -> Result<Self> {
        VaultConfig::from_env()?.build()
    }

    /// A provider from a full configuration.
    pub fn with_config(config: VaultConfig) -> Result<Self> {
        Ok(Self {
            client: Arc::new(Client::new(config)?),
        })
    }

    /// The server address (without any credentials), as named in error messages.
    #[must_use]
    pub fn address(&self) -> &str {
        self.client.address()
    }

    /// The KV v2 mount path.
    #[must_use]
    pub fn mount(&self) -> &str {
        self.client.mount()
    }

    /// Metadata of every secret in `scope` and in the scopes below it (`scope/...`), as
    /// `(scope, metadata)` pairs ordered by scope, then name.
    pub async fn list_secrets_recursive(
        &self,
        scope: &str,
    ) -> Result<Vec<(String, SecretMetadata)>> {
        validate_scope(scope)?;
        let mut out = Vec::new();
        let mut pending = vec![scope.to_owned()];
        while let Some(current) = pending.pop() {
            let (names, folders) = self.list_keys(&current).await?;
            for folder in folders {
                let below = format!("{current}/{folder}");
                if validate_scope(&below).is_ok() {
                    pending.push(below);
                }
            }
            for meta in self.metadata_of(&current, names).await? {
                out.push((current.clone(), meta));
            }
        }
        out.sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
        Ok(out)
    }

    /// Writes a new value only if the current version is still `expected` (check-and-set):
    /// [`SecretsError::Conflict`] if another version is current by now, for example because a
    /// concurrent rotation won; [`SecretsError::NotFound`] if the secret does not exist.
    ///
    /// [`rotate_secret`](SecretsStore::rotate_secret) is this with the version it has just
    /// read; call it directly to rotate from a version read earlier.
    pub async fn rotate_secret_from(
        &self,
        scope: &str,
        name: &str,
        expected: u32,
        value: &Secret,
    ) -> Result<RotationResult> {
        validate_value(scope, name, value)?;
        if expected == 0 {
            // Check-and-set 0 means "create": that is not a rotation.
            return Err(SecretsError::NotFound {
                name: format!("{} version 0", label(scope, name)),
            });
        }
        match self.write_from(scope, name, expected, value).await? {
            Written::Version(new_version) => Ok(RotationResult {
                previous_version: Some(expected),
                new_version,
            }),
            Written::CasMismatch | Written::CasRequired => {
                // A check-and-set against a secret that was deleted meanwhile also lands here.
                if self
                    .read_metadata(scope, name)
                    .await?
                    .is_some_and(|m| m.is_live())
                {
                    Err(SecretsError::Conflict {
                        scope: scope.to_owned(),
                        name: name.to_owned(),
                        expected,
                    })
                } else {
                    Err(SecretsError::NotFound {
                        name: label(scope, name),
                    })
                }
            }
        }
    }

    /// The leaf names and the sub-folders (without their `/`) directly in `scope`. Keys that
    /// are not valid names (written by other tools) are skipped.
    async fn list_keys(&self, scope: &str) -> Result<(Vec<String>, Vec<String>)> {
        let mut url = self.client.url("metadata", scope, None)?;
        url.set_query(Some("list=true"));
        let what = format!("the listing of scope {scope}");
        let reply = self.client.send(Method::GET, url, None, &what).await?;
        match reply.status {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok((Vec::new(), Vec::new())),
            _ => {
                let path = format!("{}/metadata/{scope}/", self.client.mount());
                return Err(self.client.status_error(&reply, &what, &path).await);
            }
        }
        let list: Envelope<KeyList> = serde_json::from_slice(reply.body.as_slice())
            .map_err(|e| self.malformed(&what, &e.to_string()))?;
        let mut names = Vec::new();
        let mut folders = Vec::new();
        for key in list.data.keys {
            if let Some(folder) = key.strip_suffix('/') {
                folders.push(folder.to_owned());
            } else if validate_name(&key).is_ok() {
                names.push(key);
            } else {
                tracing::debug!(scope, "skipping a KV key that is not a valid secret name");
            }
        }
        Ok((names, folders))
    }

    /// Metadata of the existing secrets among `names`, fetched a few at a time.
    async fn metadata_of(&self, scope: &str, names: Vec<String>) -> Result<Vec<SecretMetadata>> {
        let fetches: Vec<_> = names
            .into_iter()
            .map(|name| async move {
                let meta = self.read_metadata(scope, &name).await?;
                Ok::<_, SecretsError>(
                    meta.filter(KvMetadata::is_live)
                        .map(|m| to_metadata(name, &m)),
                )
            })
            .collect();
        let mut fetches = stream::iter(fetches).buffer_unordered(self.client.max_concurrency);
        let mut out = Vec::new();
        while let Some(found) = fetches.next().await {
            out.extend(found?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The KV metadata of a secret; `None` if it has none.
    pub(crate) async fn read_metadata(
        &self,
        scope: &str,
        name: &str,
    ) -> Result<Option<KvMetadata>> {
        let url = self.client.url("metadata", scope, Some(name))?;
        let what = label(scope, name);
        let reply = self.client.send(Method::GET, url, None, &what).await?;
        match reply.status {
            StatusCode::OK => {
                let meta: Envelope<KvMetadata> = serde_json::from_slice(reply.body.as_slice())
                    .map_err(|e| self.malformed(&what, &e.to_string()))?;
                Ok(Some(meta.data))
            }
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self
                .client
                .status_error(
                    &reply,
                    &what,
                    &self.client.vault_path("metadata", scope, name),
                )
                .await),
        }
    }

    /// The value of the current version, or of `version`.
    pub(crate) async fn read_value(
        &self,
        scope: &str,
        name: &str,
        version: Option<u32>,
    ) -> Result<Secret> {
        let mut url = self.client.url("data", scope, Some(name))?;
        let what = match version {
            Some(v) => format!("{} version {v}", label(scope, name)),
            None => label(scope, name),
        };
        if let Some(v) = version {
            if v == 0 {
                // Vault would read version 0 as "the current one".
                return Err(SecretsError::NotFound { name: what });
            }
            url.set_query(Some(&format!("version={v}")));
        }
        let reply = self.client.send(Method::GET, url, None, &what).await?;
        match reply.status {
            StatusCode::OK => wire::read_value(reply.body.as_slice()).map_err(|e| match e {
                ReadError::Malformed(why) => self.malformed(&what, &why),
                ReadError::NotText(found) => SecretsError::NotText {
                    scope: scope.to_owned(),
                    name: name.to_owned(),
                    version,
                    found,
                },
            }),
            StatusCode::NOT_FOUND if version.is_some() => {
                // A deleted or destroyed version still has its metadata in the answer.
                let why = match wire::read_current(reply.body.as_slice(), false) {
                    Ok(Current::Gone { state, .. }) => format!(" ({})", state.as_str()),
                    _ => String::new(),
                };
                Err(SecretsError::NotFound {
                    name: format!("{what}{why}"),
                })
            }
            _ => Err(self
                .client
                .status_error(&reply, &what, &self.client.vault_path("data", scope, name))
                .await),
        }
    }

    /// Deletes the metadata and every version; `Ok(false)` if there was nothing.
    pub(crate) async fn destroy_all(&self, scope: &str, name: &str) -> Result<bool> {
        if self.read_metadata(scope, name).await?.is_none() {
            return Ok(false);
        }
        let url = self.client.url("metadata", scope, Some(name))?;
        let what = label(scope, name);
        let reply = self.client.send(Method::DELETE, url, None, &what).await?;
        match reply.status {
            StatusCode::OK | StatusCode::NO_CONTENT => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self
                .client
                .status_error(
                    &reply,
                    &what,
                    &self.client.vault_path("metadata", scope, name),
                )
                .await),
        }
    }

    /// Soft-deletes the current version (its data stays recoverable with Vault's tools).
    pub(crate) async fn delete_current_version(&self, scope: &str, name: &str) -> Result<()> {
        let url = self.client.url("data", scope, Some(name))?;
        let what = label(scope, name);
        let reply = self.client.send(Method::DELETE, url, None, &what).await?;
        match reply.status {
            StatusCode::OK | StatusCode::NO_CONTENT | StatusCode::NOT_FOUND => Ok(()),
            _ => Err(self
                .client
                .status_error(&reply, &what, &self.client.vault_path("data", scope, name))
                .await),
        }
    }

    /// A Provider error for an answer this crate cannot read; never quotes the body.
    pub(crate) fn malformed(&self, what: &str, why: &str) -> SecretsError {
        SecretsError::Provider(format!(
            "Vault at {} gave an unexpected answer for {what}: {why}",
            self.client.address()
        ))
    }
}

fn to_metadata(name: String, meta: &KvMetadata) -> SecretMetadata {
    SecretMetadata {
        name,
        created_at: wire::unix_seconds(&meta.created_time),
        updated_at: wire::unix_seconds(&meta.updated_time),
        version: meta.current_version,
    }
}

#[async_trait]
impl SecretsProvider for VaultSecretsProvider {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        self.read_value(scope, name, None).await
    }

    /// Reads the names a few at a time (see [`VaultConfig::with_max_concurrency`]).
    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        validate_scope(scope)?;
        for name in names {
            validate_name(name)?;
        }
        let reads: Vec<_> = names
            .iter()
            .map(|&name| async move { (name, self.read_value(scope, name, None).await) })
            .collect();
        let mut reads = stream::iter(reads).buffer_unordered(self.client.max_concurrency);
        let mut out = HashMap::with_capacity(names.len());
        while let Some((name, read)) = reads.next().await {
            match read {
                Ok(secret) => {
                    out.insert(name.to_owned(), secret);
                }
                Err(SecretsError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        validate_scope(scope)?;
        let (names, _folders) = self.list_keys(scope).await?;
        self.metadata_of(scope, names).await
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        match self.read_metadata(scope, name).await {
            Ok(meta) => Ok(meta.is_some_and(|m| m.is_live())),
            // A token may read values without reading metadata.
            Err(SecretsError::AccessDenied { .. }) => {
                match self.read_value(scope, name, None).await {
                    Ok(_) => Ok(true),
                    Err(SecretsError::NotFound { .. }) => Ok(false),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl SecretsStore for VaultSecretsProvider {
    /// Keeps the fields other tools wrote beside `value` (see the type's documentation).
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        validate_value(scope, name, value)?;
        self.write_any(scope, name, value).await.map(drop)
    }

    /// One write with check-and-set 0, which the server refuses if the secret has any
    /// version: atomic. A secret whose current version was deleted or destroyed with
    /// Vault's own tools (`kv delete`, `kv destroy`: the metadata and older versions remain)
    /// does not exist, as for [`exists`](SecretsProvider::exists) and
    /// [`get_secret`](SecretsProvider::get_secret); it is created again with check-and-set
    /// against that version, so the version written is the next one, not 1.
    async fn create_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        validate_value(scope, name, value)?;
        self.create(scope, name, value).await
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        if self.destroy_all(scope, name).await? {
            Ok(())
        } else {
            Err(SecretsError::NotFound {
                name: label(scope, name),
            })
        }
    }

    /// Writes with check-and-set against the current version: a concurrent writer makes
    /// this fail with [`SecretsError::Conflict`] instead of being overwritten.
    async fn rotate_secret(
        &self,
        scope: &str,
        name: &str,
        value: &Secret,
    ) -> Result<RotationResult> {
        validate_value(scope, name, value)?;
        let current = match self.read_metadata(scope, name).await? {
            Some(meta) if meta.is_live() => meta.current_version,
            _ => {
                return Err(SecretsError::NotFound {
                    name: label(scope, name),
                });
            }
        };
        self.rotate_secret_from(scope, name, current, value).await
    }
}

#[async_trait]
impl VersionedSecretsStore for VaultSecretsProvider {
    async fn get_metadata(&self, scope: &str, name: &str) -> Result<SecretMetadata> {
        match self.read_metadata(scope, name).await? {
            Some(meta) if meta.is_live() => Ok(to_metadata(name.to_owned(), &meta)),
            _ => Err(SecretsError::NotFound {
                name: label(scope, name),
            }),
        }
    }

    /// The version comes from the write's own answer: no permission to read metadata is
    /// needed.
    async fn write_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<u32> {
        validate_value(scope, name, value)?;
        self.write_any(scope, name, value).await
    }

    /// The versions that can still be read: deleted, destroyed and pruned versions are left
    /// out.
    async fn list_versions(&self, scope: &str, name: &str) -> Result<Vec<SecretVersion>> {
        Ok(self.version_history(scope, name).await?.versions)
    }

    /// Also when the current version was deleted or destroyed with Vault's tools.
    async fn version_history(&self, scope: &str, name: &str) -> Result<VersionHistory> {
        let not_found = || SecretsError::NotFound {
            name: label(scope, name),
        };
        let meta = self
            .read_metadata(scope, name)
            .await?
            .filter(|m| m.current_version > 0)
            .ok_or_else(not_found)?;
        let current = meta.current_version;
        Ok(VersionHistory {
            current: SecretVersion {
                version: current,
                created_at: meta.created_at(current),
            },
            // The current version is never pruned; not in the metadata would be odd.
            current_state: meta.state_of(current).unwrap_or(VersionState::Destroyed),
            versions: meta
                .live_versions()
                .into_iter()
                .map(|(version, created_at)| SecretVersion {
                    version,
                    created_at,
                })
                .collect(),
        })
    }

    async fn get_secret_version(&self, scope: &str, name: &str, version: u32) -> Result<Secret> {
        self.read_value(scope, name, Some(version)).await
    }

    /// Writes every field of version `to` again (as `bao kv rollback` does), with
    /// check-and-set against the current version.
    async fn rollback_secret(&self, scope: &str, name: &str, to: u32) -> Result<RotationResult> {
        let what = label(scope, name);
        let meta = self
            .read_metadata(scope, name)
            .await?
            .ok_or_else(|| SecretsError::NotFound { name: what.clone() })?;
        let state = meta.state_of(to);
        if state != Some(VersionState::Live) || to == 0 {
            return Err(SecretsError::NotFound {
                name: format!("{what} version {to} ({})", wire::describe(state)),
            });
        }
        let Current::Live { fields, .. } = self.read_current(scope, name, Some(to)).await? else {
            return Err(SecretsError::NotFound {
                name: format!("{what} version {to} (deleted meanwhile)"),
            });
        };
        let current = meta.current_version;
        match self.write_fields(scope, name, &fields, current).await? {
            Written::Version(new_version) => Ok(RotationResult {
                previous_version: Some(current),
                new_version,
            }),
            Written::CasMismatch | Written::CasRequired => Err(SecretsError::Conflict {
                scope: scope.to_owned(),
                name: name.to_owned(),
                expected: current,
            }),
        }
    }
}
