//! The reads of the store, each inside one read transaction with the data key of its
//! snapshot (given by [`Readers`](crate::readers::Readers)), and the lookups writes share
//! with them.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use zlayer_secrets_core::{
    Result, Secret, SecretMetadata, SecretVersion, SecretsError, TamperedRecord, label,
    validate_name, validate_scope,
};

use crate::KeyInfo;
use crate::aad::value_aad;
use crate::error::database;
use crate::keys::Keys;
use crate::{schema, seal};

pub(crate) fn not_found(scope: &str, name: &str) -> SecretsError {
    SecretsError::NotFound {
        name: label(scope, name),
    }
}

/// A valid scope and name.
pub(crate) fn check_target(scope: &str, name: &str) -> Result<()> {
    validate_scope(scope)?;
    validate_name(name)
}

/// The current row of a secret.
pub(crate) struct Current {
    pub(crate) id: i64,
    pub(crate) version: u32,
    /// The authenticator of `version` as the current version ([`Keys::seal_current`]).
    pub(crate) mac: Vec<u8>,
}

/// The row of a secret as stored, its pointer not yet checked: only for what does not
/// depend on which version is current (existence, deletion).
pub(crate) fn current_unchecked(
    tx: &Connection,
    scope: &str,
    name: &str,
) -> Result<Option<Current>> {
    tx.prepare_cached("SELECT id, version, version_mac FROM secrets WHERE scope = ?1 AND name = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![scope, name], |row| {
                Ok(Current {
                    id: row.get(0)?,
                    version: row.get(1)?,
                    mac: row.get(2)?,
                })
            })
            .optional()
        })
        .map_err(|e| database("looking up a secret", e))
}

/// The row of a secret, its current version authenticated: [`SecretsError::Tampered`] if the
/// pointer was changed outside zlayer-secrets.
pub(crate) fn current(
    tx: &Connection,
    keys: &Keys,
    scope: &str,
    name: &str,
) -> Result<Option<Current>> {
    let cur = current_unchecked(tx, scope, name)?;
    if let Some(cur) = &cur {
        keys.check_current(scope, name, cur.version, &cur.mac)?;
    }
    Ok(cur)
}

/// The error for a current version whose stored value is missing (the store never prunes the
/// current version, so only a change outside zlayer-secrets can remove it).
fn current_value_missing(scope: &str, name: &str, version: u32) -> SecretsError {
    SecretsError::Tampered {
        scope: scope.to_owned(),
        name: name.to_owned(),
        record: TamperedRecord::MissingValue { version },
    }
}

/// Metadata from a row of `name, created_at, updated_at, version, version_mac`, with the
/// authenticator.
fn metadata_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(SecretMetadata, Vec<u8>)> {
    Ok((
        SecretMetadata {
            name: row.get(0)?,
            created_at: row.get(1)?,
            updated_at: row.get(2)?,
            version: row.get(3)?,
        },
        row.get(4)?,
    ))
}

/// Decrypts version `version` of `scope`/`name`.
pub(crate) fn decrypt(
    keys: &Keys,
    scope: &str,
    name: &str,
    version: u32,
    ciphertext: &[u8],
) -> Result<Secret> {
    let mut plain = seal::open(keys.dek(), &value_aad(scope, name, version), ciphertext)
        .ok_or_else(|| {
            SecretsError::Decryption(format!(
                "version {version} of {} does not decrypt: the stored value was altered or \
                 copied from another secret or version",
                label(scope, name)
            ))
        })?;
    let bytes = std::mem::take(&mut *plain);
    String::from_utf8(bytes).map(Secret::new).map_err(|e| {
        zeroize::Zeroize::zeroize(&mut e.into_bytes());
        SecretsError::Decryption(format!(
            "version {version} of {} decrypted to bytes that are not UTF-8",
            label(scope, name)
        ))
    })
}

/// The current value of `scope`/`name` and its version.
pub(crate) fn get(tx: &Connection, keys: &Keys, scope: &str, name: &str) -> Result<(Secret, u32)> {
    let row: Option<(u32, Vec<u8>, Option<Vec<u8>>)> = tx
        .prepare_cached(
            "SELECT s.version, s.version_mac, v.ciphertext FROM secrets s
             LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.version
             WHERE s.scope = ?1 AND s.name = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![scope, name], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()
        })
        .map_err(|e| database("reading a secret", e))?;
    let (version, mac, ciphertext) = row.ok_or_else(|| not_found(scope, name))?;
    keys.check_current(scope, name, version, &mac)?;
    let ciphertext = ciphertext.ok_or_else(|| current_value_missing(scope, name, version))?;
    Ok((decrypt(keys, scope, name, version, &ciphertext)?, version))
}

/// The names of a batch read as the JSON array its query takes, after checking the scope
/// and every name (before any connection is taken).
pub(crate) fn check_many(scope: &str, names: &[String]) -> Result<String> {
    validate_scope(scope)?;
    for name in names {
        validate_name(name)?;
    }
    serde_json::to_string(names).map_err(|e| SecretsError::Database {
        operation: "encoding the list of names".to_owned(),
        path: None,
        source: Box::new(e),
    })
}

/// The current values of the names in `names_json` (from [`check_many`]) in `scope`, in
/// one query; the version of each value found is pushed to `versions`.
pub(crate) fn get_many(
    tx: &Connection,
    keys: &Keys,
    scope: &str,
    names_json: &str,
    count: usize,
    versions: &mut Vec<(String, u32)>,
) -> Result<HashMap<String, Secret>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT s.name, s.version, s.version_mac, v.ciphertext FROM secrets s
             LEFT JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.version
             WHERE s.scope = ?1 AND s.name IN (SELECT value FROM json_each(?2))",
        )
        .map_err(|e| database("preparing a batch read", e))?;
    let rows = stmt
        .query_map(params![scope, names_json], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, u32>(1)?,
                row.get::<_, Vec<u8>>(2)?,
                row.get::<_, Option<Vec<u8>>>(3)?,
            ))
        })
        .map_err(|e| database("reading secrets", e))?;
    let mut out = HashMap::with_capacity(count);
    for row in rows {
        let (name, version, mac, ciphertext) = row.map_err(|e| database("reading secrets", e))?;
        keys.check_current(scope, &name, version, &mac)?;
        let ciphertext = ciphertext.ok_or_else(|| current_value_missing(scope, &name, version))?;
        let value = decrypt(keys, scope, &name, version, &ciphertext)?;
        versions.push((name.clone(), version));
        out.insert(name, value);
    }
    Ok(out)
}

/// The secrets of `scope`, each one's current version authenticated.
pub(crate) fn list(tx: &Connection, keys: &Keys, scope: &str) -> Result<Vec<SecretMetadata>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT name, created_at, updated_at, version, version_mac FROM secrets
             WHERE scope = ?1 ORDER BY name",
        )
        .map_err(|e| database("preparing a listing", e))?;
    let rows = stmt
        .query_map(params![scope], metadata_row)
        .map_err(|e| database("listing secrets", e))?;
    let mut out = Vec::new();
    for row in rows {
        let (meta, mac) = row.map_err(|e| database("listing secrets", e))?;
        keys.check_current(scope, &meta.name, meta.version, &mac)?;
        out.push(meta);
    }
    Ok(out)
}

/// The metadata of `scope`/`name`, its current version authenticated.
pub(crate) fn metadata(
    tx: &Connection,
    keys: &Keys,
    scope: &str,
    name: &str,
) -> Result<SecretMetadata> {
    let (meta, mac) = tx
        .prepare_cached(
            "SELECT name, created_at, updated_at, version, version_mac FROM secrets
             WHERE scope = ?1 AND name = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![scope, name], metadata_row)
                .optional()
        })
        .map_err(|e| database("reading a secret's metadata", e))?
        .ok_or_else(|| not_found(scope, name))?;
    keys.check_current(scope, name, meta.version, &mac)?;
    Ok(meta)
}

/// Whether `scope`/`name` exists (one statement, no key needed).
pub(crate) fn exists(conn: &Connection, scope: &str, name: &str) -> Result<bool> {
    Ok(current_unchecked(conn, scope, name)?.is_some())
}

/// The retained versions of `scope`/`name`, oldest first.
pub(crate) fn list_versions(
    tx: &Connection,
    keys: &Keys,
    scope: &str,
    name: &str,
) -> Result<Vec<SecretVersion>> {
    let cur = current(tx, keys, scope, name)?.ok_or_else(|| not_found(scope, name))?;
    let mut stmt = tx
        .prepare_cached(
            "SELECT version, created_at FROM secret_versions
             WHERE secret_id = ?1 ORDER BY version",
        )
        .map_err(|e| database("preparing a version listing", e))?;
    let rows = stmt
        .query_map(params![cur.id], |row| {
            Ok(SecretVersion {
                version: row.get(0)?,
                created_at: row.get(1)?,
            })
        })
        .map_err(|e| database("listing versions", e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| database("listing versions", e))
}

/// Version `version` of `scope`/`name`.
pub(crate) fn get_version(
    tx: &Connection,
    keys: &Keys,
    scope: &str,
    name: &str,
    version: u32,
) -> Result<Secret> {
    let ciphertext = stored_version(tx, keys, scope, name, version)?;
    decrypt(keys, scope, name, version, &ciphertext)
}

/// The ciphertext of one retained version, or a `NotFound` naming what is retained.
pub(crate) fn stored_version(
    tx: &Connection,
    keys: &Keys,
    scope: &str,
    name: &str,
    version: u32,
) -> Result<Vec<u8>> {
    let cur = current(tx, keys, scope, name)?.ok_or_else(|| not_found(scope, name))?;
    let ciphertext: Option<Vec<u8>> = tx
        .prepare_cached(
            "SELECT ciphertext FROM secret_versions WHERE secret_id = ?1 AND version = ?2",
        )
        .and_then(|mut stmt| {
            stmt.query_row(params![cur.id, version], |row| row.get(0))
                .optional()
        })
        .map_err(|e| database("reading a secret version", e))?;
    ciphertext.ok_or_else(|| {
        let retained: Option<(u32, u32)> = tx
            .query_row(
                "SELECT min(version), max(version) FROM secret_versions WHERE secret_id = ?1",
                params![cur.id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .ok();
        let what = match retained {
            Some((lo, hi)) => format!(
                "version {version} of {} (versions {lo} to {hi} are kept)",
                label(scope, name)
            ),
            None => format!("version {version} of {}", label(scope, name)),
        };
        SecretsError::NotFound { name: what }
    })
}

/// What the store records about its keys.
pub(crate) fn key_info(tx: &Connection) -> Result<KeyInfo> {
    let schema_version = schema::current_version(tx)?;
    tx.query_row(
        "SELECT kek_fingerprint, dek_generation, store_id, created_at, rekeyed_at,
                reencrypted_at
         FROM store_meta WHERE id = 1",
        [],
        |row| {
            Ok(KeyInfo {
                fingerprint: row.get(0)?,
                data_key_generation: row.get(1)?,
                store_id: hex::encode(row.get::<_, Vec<u8>>(2)?),
                created_at: row.get(3)?,
                rekeyed_at: row.get(4)?,
                reencrypted_at: row.get(5)?,
                schema_version,
            })
        },
    )
    .map_err(|e| database("reading the store's key record", e))
}
