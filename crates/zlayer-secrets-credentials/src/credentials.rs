//! API keys for the `ZLayer` API: a key (a public identifier) plus a secret, kept as an
//! Argon2id PHC string with the key's roles.
//!
//! Each key is one record in [`API_KEYS_SCOPE`] (`_zlayer/api_keys`), named by the key, whose
//! value is the JSON `{"hash": "$argon2id$...", "roles": ["admin"]}` (the shape of the
//! original crate). The store encrypts it like any secret; the plain secret is never stored.
//!
//! [`CredentialStore::validate`] costs the same Argon2id work whether or not the key exists:
//! for a missing key it verifies against a fixed dummy hash with the same parameters, so the
//! response time does not tell which keys exist. The dummy hash is computed when the first
//! store of the process is built, never during a validation. A stored hash made with older
//! (cheaper) parameters is replaced by one with the current parameters the first time its
//! key validates, so every key soon costs the same. Hash outputs are compared in constant
//! time.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let store = zlayer_secrets_core::MemoryStore::new();
//! use zlayer_secrets_credentials::credentials::{CredentialStore, generate_api_key, generate_api_secret};
//!
//! let creds = CredentialStore::new(store);
//! let (key, secret) = (generate_api_key()?, generate_api_secret()?);
//! creds.create_api_key(&key, secret.expose(), &["deployer"]).await?;
//! assert_eq!(creds.validate(&key, secret.expose()).await?, Some(vec!["deployer".to_owned()]));
//! assert_eq!(creds.validate(&key, "wrong").await?, None);
//! # Ok::<(), zlayer_secrets_core::SecretsError>(())
//! # }).unwrap();
//! ```

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};
use zlayer_secrets_core::{Result, Secret, SecretsError, SecretsStore, validate_name};

use subtle::ConstantTimeEq;

use crate::blocking::run_blocking;
use crate::scopes::API_KEYS_SCOPE;
use crate::{hashing, random, record, typed};

/// The role [`CredentialStore::ensure_admin`] gives.
pub const ADMIN_ROLE: &str = "admin";

/// Longest API secret accepted by [`CredentialStore::create_api_key`], in bytes.
pub const MAX_API_SECRET_LEN: usize = 1024;

/// Prefix of keys made by [`generate_api_key`].
pub const GENERATED_KEY_PREFIX: &str = "zk_";

/// A new random API key: [`GENERATED_KEY_PREFIX`] followed by 128 bits from the operating
/// system as 32 hex digits. A key identifies; it is not secret on its own.
pub fn generate_api_key() -> Result<String> {
    Ok(format!("{GENERATED_KEY_PREFIX}{}", *random::hex_token(16)?))
}

/// A new random API secret: 256 bits from the operating system as 64 hex digits.
pub fn generate_api_secret() -> Result<Secret> {
    let token = random::hex_token(32)?;
    Ok(Secret::new(token.as_str()))
}

/// The stored form of one API key.
#[derive(Serialize, Deserialize)]
struct ApiKeyRecord {
    /// Argon2id PHC string of the secret.
    hash: String,
    /// Roles, in the order given, without duplicates.
    roles: Vec<String>,
    /// The user the key speaks for; absent in records of the original shape, whose subject
    /// is the key itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    /// Groups the key belongs to, in the order given, without duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    groups: Vec<String>,
}

/// Who an API key speaks for: its subject (a user name, to which grants to `user:SUBJECT`
/// apply), its roles and its groups (grants to `group:G` apply). Never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyIdentity {
    /// The key.
    pub api_key: String,
    /// The user name the key speaks for; the key itself for keys made without one.
    pub subject: String,
    /// The key's roles ([`ADMIN_ROLE`] may do everything).
    pub roles: Vec<String>,
    /// The key's groups.
    pub groups: Vec<String>,
}

impl ApiKeyIdentity {
    /// Whether the key has role [`ADMIN_ROLE`].
    #[must_use]
    pub fn is_admin(&self) -> bool {
        self.roles.iter().any(|r| r == ADMIN_ROLE)
    }

    fn of(api_key: &str, rec: &mut ApiKeyRecord) -> Self {
        Self {
            api_key: api_key.to_owned(),
            subject: rec.subject.take().unwrap_or_else(|| api_key.to_owned()),
            roles: std::mem::take(&mut rec.roles),
            groups: std::mem::take(&mut rec.groups),
        }
    }
}

impl std::fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("hash", &"[REDACTED]")
            .field("roles", &self.roles)
            .field("subject", &self.subject)
            .field("groups", &self.groups)
            .finish()
    }
}

impl Drop for ApiKeyRecord {
    fn drop(&mut self) {
        self.hash.zeroize();
    }
}

/// Store of API keys with Argon2id-hashed secrets and roles, over any [`SecretsStore`].
///
/// As in the original crate, [`create_api_key`](Self::create_api_key) overwrites a key that
/// exists (its secret and roles are replaced). [`create_new_api_key`](Self::create_new_api_key)
/// is the strict form: it fails with [`SecretsError::AlreadyExists`] and leaves the existing
/// key alone, and it is built on the store's
/// [`create_secret`](SecretsStore::create_secret), so on the stores of this workspace two
/// processes creating one key at the same instant cannot both succeed.
/// [`ensure_admin`](Self::ensure_admin) and
/// [`create_generated_api_key`](Self::create_generated_api_key) use the strict form. Change
/// only the secret with [`set_api_secret`](Self::set_api_secret) and only the roles with
/// [`set_roles`](Self::set_roles).
pub struct CredentialStore<S: SecretsStore> {
    store: S,
    #[cfg(test)]
    pub(crate) verifications: std::sync::Arc<tests::Verifications>,
}

impl<S: SecretsStore> std::fmt::Debug for CredentialStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field("scope", &API_KEYS_SCOPE)
            .finish_non_exhaustive()
    }
}

fn what(api_key: &str) -> String {
    format!("API key `{api_key}`")
}

fn not_found(api_key: &str) -> SecretsError {
    SecretsError::NotFound {
        name: what(api_key),
    }
}

/// Checks a key's subject (a user name, by the rule of grant subjects).
fn check_subject(subject: &str) -> Result<()> {
    crate::grants::Subject::user(subject).validate()?;
    if subject.contains(':') {
        // `group:ops` or `user:bob` would read as a kind and an id wherever subjects are
        // written out.
        return Err(SecretsError::InvalidInput {
            what: format!("user \"{}\"", subject.escape_debug()),
            reason: "a key's user name may not contain `:`".to_owned(),
        });
    }
    Ok(())
}

/// Checks groups (by the rule of grant subjects) and returns them in order, without
/// duplicates.
fn clean_groups(groups: &[&str]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(groups.len());
    for group in groups {
        crate::grants::Subject::group(*group).validate()?;
        if !out.iter().any(|g| g == group) {
            out.push((*group).to_owned());
        }
    }
    Ok(out)
}

/// Checks roles and returns them in order, without duplicates.
fn clean_roles(roles: &[&str]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(roles.len());
    for role in roles {
        if role.is_empty()
            || role.chars().any(char::is_control)
            || role.trim() != *role
            || role.len() > 128
        {
            return Err(SecretsError::InvalidInput {
                what: format!("role {role:?}"),
                reason: "a role is 1 to 128 bytes, without control characters or leading or \
                         trailing whitespace"
                    .to_owned(),
            });
        }
        if !out.iter().any(|r| r == role) {
            out.push((*role).to_owned());
        }
    }
    Ok(out)
}

fn check_secret(secret: &str) -> Result<()> {
    if secret.is_empty() {
        return Err(typed::empty("API secret"));
    }
    if secret.len() > MAX_API_SECRET_LEN {
        return Err(SecretsError::TooLarge {
            what: "the API secret".to_owned(),
            size: secret.len(),
            limit: MAX_API_SECRET_LEN,
        });
    }
    Ok(())
}

/// A checked, hashed record for a new key and its encoded value.
async fn new_record(
    api_key: &str,
    password: &str,
    roles: &[&str],
) -> Result<(ApiKeyRecord, Secret)> {
    validate_name(api_key)?;
    check_secret(password)?;
    let rec = ApiKeyRecord {
        roles: clean_roles(roles)?,
        hash: hash_secret(password).await?,
        subject: None,
        groups: Vec::new(),
    };
    let value = record::encode(&what(api_key), &rec)?;
    Ok((rec, value))
}

async fn hash_secret(secret: &str) -> Result<String> {
    let secret = Zeroizing::new(secret.as_bytes().to_vec());
    run_blocking(move || hashing::hash(&secret)).await?
}

impl<S: SecretsStore> CredentialStore<S> {
    /// A credential store keeping its records in `store`.
    ///
    /// The first store built in a process computes the dummy hash that
    /// [`validate`](Self::validate) checks unknown keys against (one Argon2id hash, tens of
    /// milliseconds of CPU, on the calling thread), so that no validation pays for it and the
    /// first unknown key of a short-lived process costs no more than any other. Later stores
    /// reuse it.
    pub fn new(store: S) -> Self {
        if let Err(e) = hashing::dummy_hash() {
            // Only the operating system's random number generator can fail here; validation
            // tries again, and fails with this error rather than skip the verification.
            tracing::warn!(error = %e, "cannot prepare the dummy hash for unknown API keys");
        }
        Self {
            store,
            #[cfg(test)]
            verifications: std::sync::Arc::default(),
        }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    async fn read(&self, api_key: &str) -> Result<Option<ApiKeyRecord>> {
        match self.store.get_secret(API_KEYS_SCOPE, api_key).await {
            Ok(value) => record::decode(&what(api_key), &value).map(Some),
            Err(SecretsError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Checks an API key and secret.
    ///
    /// `Ok(Some(roles))` when the secret is right; `Ok(None)` when it is wrong, when the key
    /// does not exist, or when the key is not a valid name (it cannot exist). Errors only
    /// for storage failures and corrupt records.
    ///
    /// Every call runs exactly one Argon2id verification: against the stored hash, or for a
    /// missing key against the dummy hash prepared by [`new`](Self::new), so timing does not
    /// reveal which keys exist. When the right secret matches a hash made with older
    /// parameters, the record is rewritten with a hash of the current parameters (one more
    /// Argon2id hash, once per key), so that old keys do not stay cheaper to try. The
    /// rewrite is skipped if the record changed meanwhile; if it fails, the validation still
    /// succeeds and the failure is logged.
    pub async fn validate(&self, api_key: &str, api_secret: &str) -> Result<Option<Vec<String>>> {
        Ok(self
            .authenticate(api_key, api_secret)
            .await?
            .map(|identity| identity.roles))
    }

    /// Checks an API key and secret like [`validate`](Self::validate) (the same single
    /// Argon2id verification, whether or not the key exists) and returns who the key speaks
    /// for: `Ok(None)` for a wrong secret or an unknown key.
    pub async fn authenticate(
        &self,
        api_key: &str,
        api_secret: &str,
    ) -> Result<Option<ApiKeyIdentity>> {
        let found = if validate_name(api_key).is_ok() {
            self.read(api_key).await?
        } else {
            None
        };
        let (phc, identity, is_dummy) = if let Some(mut rec) = found {
            (
                std::mem::take(&mut rec.hash),
                Some(ApiKeyIdentity::of(api_key, &mut rec)),
                false,
            )
        } else {
            let dummy = if let Some(h) = hashing::dummy_hash_if_ready() {
                h
            } else {
                // Only if `new` could not prepare it (no randomness then): try again.
                run_blocking(hashing::dummy_hash).await??
            };
            (dummy.to_owned(), None, true)
        };
        let phc = Zeroizing::new(phc);
        let secret = Zeroizing::new(api_secret.as_bytes().to_vec());
        #[cfg(test)]
        self.verifications.record(is_dummy);
        let (phc, matched, upgraded) = run_blocking(move || {
            let matched = hashing::verify(&phc, &secret);
            let upgraded = match matched {
                Ok(true) if !is_dummy && !hashing::has_current_parameters(&phc) => {
                    Some(hashing::hash(&secret))
                }
                _ => None,
            };
            (phc, matched, upgraded)
        })
        .await?;
        match matched {
            Ok(true) => {
                if let Some(upgraded) = upgraded {
                    self.upgrade_hash(api_key, &phc, upgraded).await;
                }
                Ok(identity)
            }
            Ok(false) => Ok(None),
            Err(hashing::MalformedHash(why)) => Err(record::corrupt(
                &what(api_key),
                &format!("stored hash: {why}"),
            )),
        }
    }

    /// Replaces the hash `old` of `api_key` by `new` (a hash of the same secret with the
    /// current parameters), unless the record changed since `old` was read. Best effort: a
    /// failure is logged, never returned (the validation it follows has succeeded).
    async fn upgrade_hash(&self, api_key: &str, old: &str, new: Result<String>) {
        let result = async {
            let new = new?;
            let Some(mut rec) = self.read(api_key).await? else {
                return Ok(false);
            };
            // Another writer may have changed the secret since the validation read it; a
            // rewrite then would put the old secret back.
            if !bool::from(rec.hash.as_bytes().ct_eq(old.as_bytes())) {
                return Ok(false);
            }
            rec.hash = new;
            self.rewrite(api_key, &rec).await.map(|()| true)
        }
        .await;
        match result {
            Ok(true) => tracing::info!(
                api_key,
                "replaced the hash of API key with one of the current Argon2id parameters"
            ),
            Ok(false) => {}
            Err(e) => tracing::warn!(
                api_key,
                error = %e,
                "cannot replace the hash of API key made with older Argon2id parameters"
            ),
        }
    }

    /// Creates an API key with the given secret and roles, or replaces the secret and roles
    /// of an existing one (the original crate's behaviour; see
    /// [`create_new_api_key`](Self::create_new_api_key) for a create that never overwrites).
    ///
    /// The key must be a valid secret name; the secret 1 to [`MAX_API_SECRET_LEN`] bytes;
    /// each role 1 to 128 bytes without control characters (duplicates are dropped). One
    /// write to the store.
    pub async fn create_api_key(
        &self,
        api_key: &str,
        password: &str,
        roles: &[&str],
    ) -> Result<()> {
        let (rec, value) = new_record(api_key, password, roles).await?;
        self.store
            .set_secret(API_KEYS_SCOPE, api_key, &value)
            .await?;
        tracing::info!(api_key, roles = ?rec.roles, "stored API key");
        Ok(())
    }

    /// Creates an API key that does not exist yet, with the same rules as
    /// [`create_api_key`](Self::create_api_key); [`SecretsError::AlreadyExists`] (naming
    /// the key) if it exists, which is then left as it was.
    ///
    /// One [`create_secret`](SecretsStore::create_secret) of the store: on the memory,
    /// SQLite and Vault stores the check and the write are one atomic step, so of several
    /// concurrent creates of one key exactly one succeeds.
    pub async fn create_new_api_key(
        &self,
        api_key: &str,
        password: &str,
        roles: &[&str],
    ) -> Result<()> {
        let (rec, value) = new_record(api_key, password, roles).await?;
        match self
            .store
            .create_secret(API_KEYS_SCOPE, api_key, &value)
            .await
        {
            Ok(_) => {
                tracing::info!(api_key, roles = ?rec.roles, "created API key");
                Ok(())
            }
            Err(SecretsError::AlreadyExists { .. }) => Err(SecretsError::AlreadyExists {
                name: what(api_key),
            }),
            Err(e) => Err(e),
        }
    }

    /// Creates a key with a generated key and secret ([`generate_api_key`],
    /// [`generate_api_secret`]) and returns both. The secret is shown only here.
    pub async fn create_generated_api_key(&self, roles: &[&str]) -> Result<(String, Secret)> {
        let key = generate_api_key()?;
        let secret = generate_api_secret()?;
        self.create_new_api_key(&key, secret.expose(), roles)
            .await?;
        Ok((key, secret))
    }

    /// Creates a key for the user `subject` with the given roles and groups: a generated key
    /// and secret ([`generate_api_key`], [`generate_api_secret`]), returned with the key's
    /// identity. The secret is shown only here. The subject and each group follow the rules
    /// of grant subjects ([`Subject::validate`](crate::grants::Subject::validate)); grants
    /// to `user:SUBJECT` and to `group:G` for each group apply to the key.
    pub async fn create_user_api_key(
        &self,
        subject: &str,
        roles: &[&str],
        groups: &[&str],
    ) -> Result<(ApiKeyIdentity, Secret)> {
        check_subject(subject)?;
        let groups = clean_groups(groups)?;
        let key = generate_api_key()?;
        let secret = generate_api_secret()?;
        let (mut rec, _) = new_record(&key, secret.expose(), roles).await?;
        rec.subject = Some(subject.to_owned());
        rec.groups = groups;
        let value = record::encode(&what(&key), &rec)?;
        match self.store.create_secret(API_KEYS_SCOPE, &key, &value).await {
            Ok(_) => {}
            Err(SecretsError::AlreadyExists { .. }) => {
                return Err(SecretsError::AlreadyExists { name: what(&key) });
            }
            Err(e) => return Err(e),
        }
        tracing::info!(api_key = %key, subject, roles = ?rec.roles, groups = ?rec.groups, "created API key");
        Ok((ApiKeyIdentity::of(&key, &mut rec), secret))
    }

    /// Who an existing key speaks for, without checking a secret; `None` if the key does
    /// not exist. A server calls this on every request of a token, so that a deleted key
    /// or a changed role takes effect at once.
    pub async fn identity(&self, api_key: &str) -> Result<Option<ApiKeyIdentity>> {
        if validate_name(api_key).is_err() {
            return Ok(None);
        }
        Ok(self
            .read(api_key)
            .await?
            .map(|mut rec| ApiKeyIdentity::of(api_key, &mut rec)))
    }

    /// Every key with its identity, ordered by key. No secrets or hashes.
    pub async fn list_identities(&self) -> Result<Vec<ApiKeyIdentity>> {
        let mut out = Vec::new();
        for key in self.list_api_keys().await? {
            if let Some(identity) = self.identity(&key).await? {
                out.push(identity);
            }
        }
        Ok(out)
    }

    /// Whether some key has role [`ADMIN_ROLE`].
    pub async fn has_admin(&self) -> Result<bool> {
        Ok(self
            .list_identities()
            .await?
            .iter()
            .any(ApiKeyIdentity::is_admin))
    }

    /// Deletes an API key; [`SecretsError::NotFound`] if it does not exist.
    pub async fn delete_api_key(&self, api_key: &str) -> Result<()> {
        match self.store.delete_secret(API_KEYS_SCOPE, api_key).await {
            Ok(()) => {
                tracing::info!(api_key, "deleted API key");
                Ok(())
            }
            Err(SecretsError::NotFound { .. }) => Err(not_found(api_key)),
            Err(e) => Err(e),
        }
    }

    /// Whether the API key exists.
    pub async fn exists(&self, api_key: &str) -> Result<bool> {
        self.store.exists(API_KEYS_SCOPE, api_key).await
    }

    /// The roles of an API key, `None` if it does not exist.
    pub async fn roles(&self, api_key: &str) -> Result<Option<Vec<String>>> {
        Ok(self
            .read(api_key)
            .await?
            .map(|mut rec| std::mem::take(&mut rec.roles)))
    }

    /// Every API key, ordered by key (byte order). No secrets, hashes or roles.
    pub async fn list_api_keys(&self) -> Result<Vec<String>> {
        let mut keys: Vec<String> = self
            .store
            .list_secrets(API_KEYS_SCOPE)
            .await?
            .into_iter()
            .map(|m| m.name)
            .collect();
        keys.sort_unstable();
        Ok(keys)
    }

    /// Replaces the roles of an existing key (same rules as
    /// [`create_api_key`](Self::create_api_key)); [`SecretsError::NotFound`] if it does not
    /// exist. The secret is unchanged.
    pub async fn set_roles(&self, api_key: &str, roles: &[&str]) -> Result<()> {
        let roles = clean_roles(roles)?;
        let mut rec = self
            .read(api_key)
            .await?
            .ok_or_else(|| not_found(api_key))?;
        rec.roles = roles;
        self.rewrite(api_key, &rec).await?;
        tracing::info!(api_key, roles = ?rec.roles, "changed roles of API key");
        Ok(())
    }

    /// Replaces the secret of an existing key, keeping its roles;
    /// [`SecretsError::NotFound`] if it does not exist.
    pub async fn set_api_secret(&self, api_key: &str, password: &str) -> Result<()> {
        check_secret(password)?;
        let mut rec = self
            .read(api_key)
            .await?
            .ok_or_else(|| not_found(api_key))?;
        rec.hash = hash_secret(password).await?;
        self.rewrite(api_key, &rec).await?;
        tracing::info!(api_key, "changed secret of API key");
        Ok(())
    }

    /// Writes a new version of an existing record. `rotate_secret` refuses a record deleted
    /// meanwhile, so a concurrent delete is not undone.
    async fn rewrite(&self, api_key: &str, rec: &ApiKeyRecord) -> Result<()> {
        let value = record::encode(&what(api_key), rec)?;
        match self
            .store
            .rotate_secret(API_KEYS_SCOPE, api_key, &value)
            .await
        {
            Ok(_) => Ok(()),
            Err(SecretsError::NotFound { .. }) => Err(not_found(api_key)),
            Err(e) => Err(e),
        }
    }

    /// Creates `api_key` with role [`ADMIN_ROLE`] and the given secret unless the key
    /// exists. `true` if it was created, `false` if it existed (its secret and roles are
    /// left alone, also when another process creates it at the same instant: the create is
    /// [`create_new_api_key`](Self::create_new_api_key)).
    pub async fn ensure_admin(&self, api_key: &str, password: &str) -> Result<bool> {
        if self.exists(api_key).await? {
            return Ok(false);
        }
        match self
            .create_new_api_key(api_key, password, &[ADMIN_ROLE])
            .await
        {
            Ok(()) => Ok(true),
            Err(SecretsError::AlreadyExists { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests;
