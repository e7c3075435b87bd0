//! One-line steps of a store test: write a value, read one back, list names or versions,
//! build batch operations.
//!
//! The reads return plain values so that the test's own `assert_eq!` says what was
//! expected; a store error panics with the step and the secret (`scope/name`), never a
//! value.

use crate::{Secret, SecretsProvider, SecretsStore, VersionedSecretsStore, WriteOp};

/// Writes `value` to `scope/name` (a new version when it exists).
pub async fn put<S: SecretsStore + ?Sized>(
    store: &S,
    scope: &str,
    name: &str,
    value: impl Into<String>,
) {
    store
        .set_secret(scope, name, &Secret::new(value))
        .await
        .unwrap_or_else(|e| panic!("set {scope}/{name}: {e}"));
}

/// Writes `{prefix}1`, `{prefix}2`, ... `{prefix}{count}` to `scope/name`, in order: for a
/// new secret, version `i` holds `{prefix}{i}`.
pub async fn put_versions<S: SecretsStore + ?Sized>(
    store: &S,
    scope: &str,
    name: &str,
    prefix: &str,
    count: u32,
) {
    for i in 1..=count {
        put(store, scope, name, format!("{prefix}{i}")).await;
    }
}

/// The current value of `scope/name`.
pub async fn value<S: SecretsProvider + ?Sized>(store: &S, scope: &str, name: &str) -> String {
    store
        .get_secret(scope, name)
        .await
        .unwrap_or_else(|e| panic!("get {scope}/{name}: {e}"))
        .expose()
        .to_owned()
}

/// The value of `version` of `scope/name`.
pub async fn version_value<S: VersionedSecretsStore + ?Sized>(
    store: &S,
    scope: &str,
    name: &str,
    version: u32,
) -> String {
    store
        .get_secret_version(scope, name, version)
        .await
        .unwrap_or_else(|e| panic!("get {scope}/{name} version {version}: {e}"))
        .expose()
        .to_owned()
}

/// The current version number of `scope/name`, from its metadata.
pub async fn version<S: VersionedSecretsStore + ?Sized>(store: &S, scope: &str, name: &str) -> u32 {
    store
        .get_metadata(scope, name)
        .await
        .unwrap_or_else(|e| panic!("metadata of {scope}/{name}: {e}"))
        .version
}

/// The names `list_secrets(scope)` gives, in its order.
pub async fn names<S: SecretsProvider + ?Sized>(store: &S, scope: &str) -> Vec<String> {
    store
        .list_secrets(scope)
        .await
        .unwrap_or_else(|e| panic!("list {scope}: {e}"))
        .into_iter()
        .map(|m| m.name)
        .collect()
}

/// The version numbers `list_versions(scope, name)` gives, in its order.
pub async fn version_numbers<S: VersionedSecretsStore + ?Sized>(
    store: &S,
    scope: &str,
    name: &str,
) -> Vec<u32> {
    store
        .list_versions(scope, name)
        .await
        .unwrap_or_else(|e| panic!("versions of {scope}/{name}: {e}"))
        .iter()
        .map(|v| v.version)
        .collect()
}

/// A batch operation that writes `value` to `scope/name`.
#[must_use]
pub fn set_op(scope: &str, name: &str, value: impl Into<String>) -> WriteOp {
    WriteOp::Set {
        scope: scope.to_owned(),
        name: name.to_owned(),
        value: Secret::new(value),
    }
}

/// A batch operation that deletes `scope/name`.
#[must_use]
pub fn delete_op(scope: &str, name: &str) -> WriteOp {
    WriteOp::Delete {
        scope: scope.to_owned(),
        name: name.to_owned(),
    }
}
