//! The shared storage pattern of the registry and Git credential stores: one record per
//! credential, holding its metadata and its secret together.
//!
//! A credential is one JSON value in its reserved scope, named by the credential's id, so
//! creating or deleting it is exactly one store write: on every backend (SQLite, memory,
//! Vault, which has no transactions) a crash leaves either the whole credential or nothing,
//! and there is no second record or index that could fall out of step with it.

use serde::Serialize;
use serde::de::DeserializeOwned;
use zlayer_secrets_core::{Result, SecretMetadata, SecretsError, SecretsStore};

use crate::record;

/// A record kept by [`insert`] and read back by [`fetch`] / [`fetch_all`].
pub(crate) trait CredentialRecord: Serialize + DeserializeOwned {
    /// What the records are called in messages, e.g. "registry credential".
    const NOUN: &'static str;

    /// The id the record claims; it must equal the name it is stored under.
    fn id(&self) -> &str;
}

fn what<R: CredentialRecord>(id: &str) -> String {
    format!("{} `{id}`", R::NOUN)
}

fn check_id<R: CredentialRecord>(name: &str, rec: &R) -> Result<()> {
    if rec.id() == name {
        Ok(())
    } else {
        Err(record::corrupt(
            &what::<R>(name),
            "its id does not match the name it is stored under",
        ))
    }
}

/// Writes a new record (one `create_secret`: a record of the same id is never overwritten,
/// the fresh random id makes one all but impossible).
pub(crate) async fn insert<S: SecretsStore, R: CredentialRecord>(
    store: &S,
    scope: &str,
    rec: &R,
) -> Result<()> {
    let value = record::encode(&what::<R>(rec.id()), rec)?;
    match store.create_secret(scope, rec.id(), &value).await {
        Ok(_) => Ok(()),
        Err(SecretsError::AlreadyExists { .. }) => Err(SecretsError::AlreadyExists {
            name: what::<R>(rec.id()),
        }),
        Err(e) => Err(e),
    }
}

/// Writes a new version of an existing record (one `rotate_secret`, which refuses a record
/// deleted meanwhile); [`SecretsError::NotFound`] naming the credential if it is gone.
pub(crate) async fn replace<S: SecretsStore, R: CredentialRecord>(
    store: &S,
    scope: &str,
    rec: &R,
) -> Result<()> {
    let value = record::encode(&what::<R>(rec.id()), rec)?;
    match store.rotate_secret(scope, rec.id(), &value).await {
        Ok(_) => Ok(()),
        Err(SecretsError::NotFound { .. }) => Err(SecretsError::NotFound {
            name: what::<R>(rec.id()),
        }),
        Err(e) => Err(e),
    }
}

/// The error for a credential that does not exist.
pub(crate) fn not_found<R: CredentialRecord>(id: &str) -> SecretsError {
    SecretsError::NotFound {
        name: what::<R>(id),
    }
}

/// Reads a record, `None` if it does not exist.
pub(crate) async fn fetch<S: SecretsStore, R: CredentialRecord>(
    store: &S,
    scope: &str,
    id: &str,
) -> Result<Option<R>> {
    let value = match store.get_secret(scope, id).await {
        Ok(v) => v,
        Err(SecretsError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let rec: R = record::decode(&what::<R>(id), &value)?;
    check_id(id, &rec)?;
    Ok(Some(rec))
}

/// Reads every record of the scope with one batched read, in the store's name order.
/// A record deleted between the listing and the read is skipped.
pub(crate) async fn fetch_all<S: SecretsStore, R: CredentialRecord>(
    store: &S,
    scope: &str,
) -> Result<Vec<R>> {
    Ok(fetch_all_with_metadata(store, scope)
        .await?
        .into_iter()
        .map(|(_, rec)| rec)
        .collect())
}

/// [`fetch_all`], each record with the store's metadata of it (when it was written).
pub(crate) async fn fetch_all_with_metadata<S: SecretsStore, R: CredentialRecord>(
    store: &S,
    scope: &str,
) -> Result<Vec<(SecretMetadata, R)>> {
    let metadata = store.list_secrets(scope).await?;
    let refs: Vec<&str> = metadata.iter().map(|m| m.name.as_str()).collect();
    let mut values = store.get_secrets(scope, &refs).await?;
    let mut out = Vec::with_capacity(metadata.len());
    for meta in metadata {
        if let Some(value) = values.remove(&meta.name) {
            let rec: R = record::decode(&what::<R>(&meta.name), &value)?;
            check_id(&meta.name, &rec)?;
            out.push((meta, rec));
        }
    }
    Ok(out)
}

/// Deletes a record (one `delete_secret`); [`SecretsError::NotFound`] naming the credential
/// if it does not exist.
pub(crate) async fn remove<S: SecretsStore, R: CredentialRecord>(
    store: &S,
    scope: &str,
    id: &str,
) -> Result<()> {
    match store.delete_secret(scope, id).await {
        Ok(()) => Ok(()),
        Err(SecretsError::NotFound { .. }) => Err(SecretsError::NotFound {
            name: what::<R>(id),
        }),
        Err(e) => Err(e),
    }
}

/// Refuses text with control characters or surrounding whitespace (labels, user names).
pub(crate) fn check_label(field: &str, value: &str, may_be_empty: bool) -> Result<()> {
    if value.is_empty() && !may_be_empty {
        return Err(empty(field));
    }
    if value.chars().any(char::is_control) || value.trim() != value || value.len() > 256 {
        return Err(SecretsError::InvalidInput {
            what: format!("{field} {:?}", value.chars().take(80).collect::<String>()),
            reason: "at most 256 bytes, without control characters or leading or trailing \
                     whitespace"
                .to_owned(),
        });
    }
    Ok(())
}

/// Refuses an empty secret value (a password, token or key).
pub(crate) fn check_secret_value(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(empty(field));
    }
    Ok(())
}

/// The error for an empty `field`.
pub(crate) fn empty(field: &str) -> SecretsError {
    SecretsError::InvalidInput {
        what: field.to_owned(),
        reason: "it must not be empty".to_owned(),
    }
}
