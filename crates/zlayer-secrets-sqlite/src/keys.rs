//! Envelope encryption: the data key (DEK) that encrypts every value, wrapped by the key the
//! caller holds (the key-encryption key, KEK), and the two ways of changing keys.
//!
//! The protocol is described in `docs/format.md` ("Re-keying").

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use zlayer_secrets_core::{
    Result, SecretsError, StoreProblem, TamperedRecord, WrongKeyReason, unix_now,
};
use zlayer_secrets_crypto::EncryptionKey;

use crate::aad::{current_version_aad, data_key_aad, value_aad};
use crate::error::database;
use crate::schema::problem;
use crate::seal;

mod shared;

pub(crate) use shared::SharedKeys;

/// Length of the random store identifier bound into the wrapped data key.
const STORE_ID_LEN: usize = 16;

/// The row of `store_meta`.
struct MetaRow {
    store_id: Vec<u8>,
    generation: u32,
    wrapped_dek: Vec<u8>,
    kek_fingerprint: String,
}

fn read_meta(conn: &Connection) -> Result<Option<MetaRow>> {
    conn.query_row(
        "SELECT store_id, dek_generation, wrapped_dek, kek_fingerprint FROM store_meta WHERE id = 1",
        [],
        |row| {
            Ok(MetaRow {
                store_id: row.get(0)?,
                generation: row.get(1)?,
                wrapped_dek: row.get(2)?,
                kek_fingerprint: row.get(3)?,
            })
        },
    )
    .optional()
    .map_err(|e| database("reading the store's key record", e))
}

/// The data key generation recorded in `conn`'s snapshot.
pub(crate) fn stored_generation(conn: &Connection) -> Result<u32> {
    conn.query_row(
        "SELECT dek_generation FROM store_meta WHERE id = 1",
        [],
        |row| row.get(0),
    )
    .optional()
    .map_err(|e| database("reading the store's key record", e))?
    .ok_or_else(missing_record)
}

/// The keys of an open store.
pub(crate) struct Keys {
    /// The key-encryption key this handle was opened (or last re-keyed) with.
    kek: EncryptionKey,
    /// The data key that encrypts every stored value.
    dek: EncryptionKey,
    /// Which data key `dek` is; bumped by every full re-encryption.
    generation: u32,
    store_id: Vec<u8>,
}

impl Keys {
    /// Unlocks the store's data key with `kek`, creating the key record of a new store.
    pub(crate) fn load_or_init(conn: &mut Connection, kek: EncryptionKey) -> Result<Self> {
        if let Some(meta) = read_meta(conn)? {
            return Self::unlock(meta, kek);
        }
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database to create its key record", e))?;
        // Another process may have created the record while we waited for the lock.
        if let Some(meta) = read_meta(&tx)? {
            drop(tx);
            return Self::unlock(meta, kek);
        }
        // A new key record is only for a new store: with values present, a fresh data key
        // would silently orphan all of them.
        let stored: i64 = tx
            .query_row("SELECT count(*) FROM secret_versions", [], |row| row.get(0))
            .map_err(|e| database("inspecting the store", e))?;
        if stored > 0 {
            return Err(problem(StoreProblem::KeyRecordMissing {
                values: stored.unsigned_abs(),
            }));
        }
        let mut store_id = vec![0u8; STORE_ID_LEN];
        zlayer_secrets_crypto::random::fill(&mut store_id)?;
        let dek = EncryptionKey::try_generate()?;
        let wrapped = seal::wrap_key(&kek, &dek, &data_key_aad(&store_id, 1))?;
        tx.execute(
            "INSERT INTO store_meta (id, store_id, dek_generation, wrapped_dek, kek_fingerprint, created_at)
             VALUES (1, ?1, 1, ?2, ?3, ?4)",
            params![store_id, wrapped, seal::fingerprint(&kek), unix_now()],
        )
        .map_err(|e| database("creating the store's key record", e))?;
        tx.commit()
            .map_err(|e| database("committing the store's key record", e))?;
        tracing::debug!("created the key record of a new secrets store");
        Ok(Self {
            kek,
            dek,
            generation: 1,
            store_id,
        })
    }

    fn unlock(meta: MetaRow, kek: EncryptionKey) -> Result<Self> {
        let aad = data_key_aad(&meta.store_id, meta.generation);
        if let Some(dek) = seal::unwrap_key(&kek, &meta.wrapped_dek, &aad) {
            return Ok(Self {
                kek,
                dek,
                generation: meta.generation,
                store_id: meta.store_id,
            });
        }
        let offered = seal::fingerprint(&kek);
        if offered == meta.kek_fingerprint {
            Err(SecretsError::Decryption(
                "the store's data-key record is damaged: it does not decrypt with the key it \
                 names"
                    .to_owned(),
            ))
        } else {
            Err(SecretsError::WrongKey {
                store: None,
                key: None,
                reason: Box::new(WrongKeyReason::Mismatch {
                    offered,
                    locked_with: meta.kek_fingerprint,
                    unfinished_rotation: None,
                }),
            })
        }
    }

    /// Makes sure `dek` is the data key of `conn`'s snapshot: another process may have
    /// re-encrypted the store with a new one since this handle last looked.
    pub(crate) fn refresh(&mut self, conn: &Connection) -> Result<()> {
        if stored_generation(conn)? == self.generation {
            return Ok(());
        }
        let meta = read_meta(conn)?.ok_or_else(missing_record)?;
        let aad = data_key_aad(&meta.store_id, meta.generation);
        let dek =
            seal::unwrap_key(&self.kek, &meta.wrapped_dek, &aad).ok_or(SecretsError::WrongKey {
                store: None,
                key: None,
                reason: Box::new(WrongKeyReason::Replaced),
            })?;
        self.dek = dek;
        self.generation = meta.generation;
        self.store_id = meta.store_id;
        Ok(())
    }

    /// Which data key is current (1 for a new store, plus one per full re-encryption).
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    /// The data key that encrypts values.
    pub(crate) fn dek(&self) -> &EncryptionKey {
        &self.dek
    }

    /// The store's random identifier.
    pub(crate) fn store_id(&self) -> &[u8] {
        &self.store_id
    }

    /// The same keys with a fresh data key (for tests of what a re-encryption does).
    #[cfg(test)]
    pub(crate) fn with_new_data_key_for_tests(&self) -> Self {
        Self {
            kek: self.kek.clone(),
            dek: EncryptionKey::generate(),
            generation: self.generation + 1,
            store_id: self.store_id.clone(),
        }
    }

    /// The authenticator of a secret's current version: a sealed box of nothing under the
    /// data key whose associated data says that `version` is the current version of
    /// `scope`/`name` in this store. Kept beside the pointer (`secrets.version_mac`), so that
    /// a pointer changed outside zlayer-secrets (rolled back to a version whose value still
    /// decrypts) is detected.
    pub(crate) fn seal_current(&self, scope: &str, name: &str, version: u32) -> Result<Vec<u8>> {
        seal_current_with(&self.dek, &self.store_id, scope, name, version)
    }

    /// Refuses, with [`SecretsError::Tampered`], a current-version pointer that `mac` does
    /// not authenticate.
    pub(crate) fn check_current(
        &self,
        scope: &str,
        name: &str,
        version: u32,
        mac: &[u8],
    ) -> Result<()> {
        if is_current_with(&self.dek, &self.store_id, scope, name, version, mac) {
            Ok(())
        } else {
            Err(tampered_pointer(scope, name, version))
        }
    }

    /// Authenticates the current version of every secret, as it is, with the current data
    /// key: the schema step that introduces the authenticators. Returns how many secrets.
    pub(crate) fn authenticate_all(&self, tx: &Connection) -> Result<u64> {
        let pointers = read_pointers(tx)?;
        seal_pointers(tx, &self.dek, &self.store_id, &pointers)?;
        Ok(pointers.len() as u64)
    }

    /// Writes the data key wrapped under `new_kek` in place of the current wrapping: one row
    /// update inside `tx`. After `tx` commits, the caller adopts the key with
    /// [`adopt_kek`](Self::adopt_kek).
    pub(crate) fn rekey(&mut self, tx: &Transaction<'_>, new_kek: &EncryptionKey) -> Result<()> {
        self.refresh(tx)?;
        let wrapped = seal::wrap_key(
            new_kek,
            &self.dek,
            &data_key_aad(&self.store_id, self.generation),
        )?;
        let changed = tx
            .execute(
                "UPDATE store_meta SET wrapped_dek = ?1, kek_fingerprint = ?2, rekeyed_at = ?3
                 WHERE id = 1 AND dek_generation = ?4",
                params![
                    wrapped,
                    seal::fingerprint(new_kek),
                    unix_now(),
                    self.generation
                ],
            )
            .map_err(|e| database("writing the re-wrapped data key", e))?;
        if changed == 1 {
            Ok(())
        } else {
            Err(missing_record())
        }
    }

    /// Takes `kek` as this handle's key-encryption key, once a re-key has committed.
    pub(crate) fn adopt_kek(&mut self, kek: EncryptionKey) {
        self.kek = kek;
    }

    /// Generates a new data key, re-encrypts every stored version with it and wraps it under
    /// `new_kek`, all inside `tx`, whose data key these keys must be ([`SharedKeys::for_write`]).
    /// Returns the number of versions re-encrypted and the keys to adopt once `tx` has
    /// committed.
    pub(crate) fn reencrypt_all(
        &self,
        tx: &Transaction<'_>,
        new_kek: EncryptionKey,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(u64, Self)> {
        // Every current-version pointer must be authentic before it is re-authenticated
        // under the new data key: re-encrypting must not launder a rolled-back pointer.
        let pointers = read_pointers(tx)?;
        for p in &pointers {
            self.check_current(&p.scope, &p.name, p.version, &p.mac)?;
        }
        let total: u64 = tx
            .query_row("SELECT count(*) FROM secret_versions", [], |row| row.get(0))
            .map_err(|e| database("counting stored versions", e))?;
        let fresh_dek = EncryptionKey::try_generate()?;
        let new_generation = self
            .generation
            .checked_add(1)
            .ok_or_else(|| problem(StoreProblem::GenerationLimit))?;
        let mut done = 0u64;
        let mut last: (i64, u32) = (i64::MIN, 0);
        progress(0, total);
        loop {
            let page = read_page(tx, last)?;
            let Some(tail) = page.last() else { break };
            last = (tail.secret_id, tail.version);
            let mut update = tx
                .prepare_cached(
                    "UPDATE secret_versions SET ciphertext = ?1 WHERE secret_id = ?2 AND version = ?3",
                )
                .map_err(|e| database("preparing the re-encryption", e))?;
            for row in &page {
                let aad = value_aad(&row.scope, &row.name, row.version);
                let plain = seal::open(&self.dek, &aad, &row.ciphertext).ok_or_else(|| {
                    SecretsError::Decryption(format!(
                        "version {} of {}/{} does not decrypt (the stored value was altered or \
                         moved); nothing was re-encrypted",
                        row.version, row.scope, row.name
                    ))
                })?;
                let sealed = seal::seal(&fresh_dek, &aad, &plain)?;
                update
                    .execute(params![sealed, row.secret_id, row.version])
                    .map_err(|e| database("writing a re-encrypted version", e))?;
                done += 1;
            }
            progress(done, total);
        }
        seal_pointers(tx, &fresh_dek, &self.store_id, &pointers)?;
        let wrapped = seal::wrap_key(
            &new_kek,
            &fresh_dek,
            &data_key_aad(&self.store_id, new_generation),
        )?;
        let now = unix_now();
        tx.execute(
            "UPDATE store_meta SET wrapped_dek = ?1, kek_fingerprint = ?2, dek_generation = ?3,
                 reencrypted_at = ?4, rekeyed_at = ?4
             WHERE id = 1",
            params![wrapped, seal::fingerprint(&new_kek), new_generation, now],
        )
        .map_err(|e| database("writing the new data key", e))?;
        Ok((
            done,
            Self {
                kek: new_kek,
                dek: fresh_dek,
                generation: new_generation,
                store_id: self.store_id.clone(),
            },
        ))
    }
}

/// Writes the authenticator of each pointer's current version under `dek` (inside `tx`).
fn seal_pointers(
    tx: &Connection,
    dek: &EncryptionKey,
    store_id: &[u8],
    pointers: &[Pointer],
) -> Result<()> {
    let mut update = tx
        .prepare_cached("UPDATE secrets SET version_mac = ?1 WHERE id = ?2")
        .map_err(|e| database("preparing to authenticate current versions", e))?;
    for p in pointers {
        let mac = seal_current_with(dek, store_id, &p.scope, &p.name, p.version)?;
        update
            .execute(params![mac, p.id])
            .map_err(|e| database("authenticating a current version", e))?;
    }
    Ok(())
}

fn seal_current_with(
    dek: &EncryptionKey,
    store_id: &[u8],
    scope: &str,
    name: &str,
    version: u32,
) -> Result<Vec<u8>> {
    seal::seal(
        dek,
        &current_version_aad(store_id, scope, name, version),
        b"",
    )
}

fn is_current_with(
    dek: &EncryptionKey,
    store_id: &[u8],
    scope: &str,
    name: &str,
    version: u32,
    mac: &[u8],
) -> bool {
    seal::open(
        dek,
        &current_version_aad(store_id, scope, name, version),
        mac,
    )
    .is_some_and(|plain| plain.is_empty())
}

/// The error for a current-version pointer that does not authenticate. Says what is wrong
/// and what to do; holds no value.
pub(crate) fn tampered_pointer(scope: &str, name: &str, version: u32) -> SecretsError {
    SecretsError::Tampered {
        scope: scope.to_owned(),
        name: name.to_owned(),
        record: TamperedRecord::CurrentVersion { version },
    }
}

fn missing_record() -> SecretsError {
    problem(StoreProblem::KeyRecordMissing { values: 0 })
}

/// One secret's current-version pointer and its authenticator.
struct Pointer {
    id: i64,
    scope: String,
    name: String,
    version: u32,
    mac: Vec<u8>,
}

/// Every secret's pointer (metadata only: a few dozen bytes per secret).
fn read_pointers(tx: &Connection) -> Result<Vec<Pointer>> {
    let mut stmt = tx
        .prepare_cached("SELECT id, scope, name, version, version_mac FROM secrets ORDER BY id")
        .map_err(|e| database("reading the current versions", e))?;
    let rows = stmt
        .query_map([], |row| {
            Ok(Pointer {
                id: row.get(0)?,
                scope: row.get(1)?,
                name: row.get(2)?,
                version: row.get(3)?,
                mac: row.get(4)?,
            })
        })
        .map_err(|e| database("reading the current versions", e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| database("reading the current versions", e))
}

/// One stored version, as read for re-encryption.
struct VersionRow {
    secret_id: i64,
    version: u32,
    scope: String,
    name: String,
    ciphertext: Vec<u8>,
}

/// Versions after `after` in (secret id, version) order, a page at a time.
fn read_page(tx: &Transaction<'_>, after: (i64, u32)) -> Result<Vec<VersionRow>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT v.secret_id, v.version, s.scope, s.name, v.ciphertext
             FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
             WHERE (v.secret_id, v.version) > (?1, ?2)
             ORDER BY v.secret_id, v.version
             LIMIT 256",
        )
        .map_err(|e| database("preparing the re-encryption", e))?;
    let rows = stmt
        .query_map(params![after.0, after.1], |row| {
            Ok(VersionRow {
                secret_id: row.get(0)?,
                version: row.get(1)?,
                scope: row.get(2)?,
                name: row.get(3)?,
                ciphertext: row.get(4)?,
            })
        })
        .map_err(|e| database("reading stored versions", e))?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| database("reading stored versions", e))
}
