//! [`WatchSet`]: the secrets a process was given, and their versions, to tell when they
//! change (`zlayer-secret run --watch` restarts the process then).

use std::collections::{BTreeMap, BTreeSet};

use crate::{Result, SecretsProvider};

/// A set of secrets to watch: single secrets of a scope, or whole scopes (where a secret
/// added counts as a change too). [`versions`](Self::versions) reads their current
/// versions from metadata only, one [`list_secrets`](SecretsProvider::list_secrets) per
/// scope; no value is read.
///
/// ```
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// # block_on(async {
/// use zlayer_secrets_core::{MemoryStore, Secret, SecretsStore, WatchSet};
///
/// let store = MemoryStore::new();
/// store.set_secret("shop", "db", &Secret::new("v1")).await?;
/// let mut watched = WatchSet::default();
/// watched.secret("shop", "db");
/// let before = watched.versions(&store).await?;
/// store.set_secret("shop", "db", &Secret::new("v2")).await?;
/// let after = watched.versions(&store).await?;
/// assert_eq!(before.changes(&after), [("shop".to_owned(), "db".to_owned())]);
/// # Ok::<(), zlayer_secrets_core::SecretsError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchSet {
    /// Scope to the names watched in it; `None` for every secret of the scope.
    scopes: BTreeMap<String, Option<BTreeSet<String>>>,
}

impl WatchSet {
    /// Watches the secret `name` of `scope`.
    pub fn secret(&mut self, scope: impl Into<String>, name: impl Into<String>) {
        if let Some(names) = self
            .scopes
            .entry(scope.into())
            .or_insert_with(|| Some(BTreeSet::new()))
        {
            names.insert(name.into());
        }
    }

    /// Watches every secret of `scope`, and secrets added to it.
    pub fn scope(&mut self, scope: impl Into<String>) {
        self.scopes.insert(scope.into(), None);
    }

    /// Whether nothing is watched.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// The current version of every watched secret that exists.
    pub async fn versions<P: SecretsProvider + ?Sized>(&self, provider: &P) -> Result<Versions> {
        let mut versions = BTreeMap::new();
        for (scope, names) in &self.scopes {
            for meta in provider.list_secrets(scope).await? {
                if names
                    .as_ref()
                    .is_none_or(|names| names.contains(&meta.name))
                {
                    versions.insert((scope.clone(), meta.name), meta.version);
                }
            }
        }
        Ok(Versions(versions))
    }
}

/// The versions of the secrets of a [`WatchSet`] at one moment; a deleted secret is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions(BTreeMap<(String, String), u32>);

impl Versions {
    /// The secrets (scope, name) that differ between `self` and `later`: a new version, a
    /// deletion or, for a watched scope, an addition.
    #[must_use]
    pub fn changes(&self, later: &Self) -> Vec<(String, String)> {
        let keys: BTreeSet<&(String, String)> = self.0.keys().chain(later.0.keys()).collect();
        keys.into_iter()
            .filter(|key| self.0.get(*key) != later.0.get(*key))
            .cloned()
            .collect()
    }

    /// The version of the secret `name` of `scope`, if it exists.
    #[must_use]
    pub fn get(&self, scope: &str, name: &str) -> Option<u32> {
        self.0.get(&(scope.to_owned(), name.to_owned())).copied()
    }
}
