//! The database schema and its migrations, keyed on `PRAGMA user_version`.
//!
//! Version `n` of the schema is reached from version `n - 1` by exactly one step,
//! [`upgrade_from`]`(n - 1)`, run in its own `BEGIN IMMEDIATE` transaction together with the
//! `user_version` update, so a crash leaves the database at one version or the next. The
//! connection pragmas (WAL, `synchronous`, foreign keys) are set outside any transaction by
//! [`configure`]. The tables are described in `docs/format.md` ("SQLite schema").
//!
//! Steps from [`FIRST_KEYED_STEP`] on compute authenticators with the store's data key, so
//! opening runs [`migrate`] twice: without keys (the steps before, which also create the
//! key record's table), then, once the key given has unlocked the data key, with them. A
//! wrong key therefore stops an upgrade before any keyed step writes anything.

use rusqlite::{Connection, TransactionBehavior};
use zlayer_secrets_core::{Result, SecretsError, StoreProblem};

use crate::StoreOptions;
use crate::error::database;
use crate::keys::Keys;

/// The schema version this crate writes.
pub const SCHEMA_VERSION: u32 = 4;

/// The first step ([`upgrade_from`] of this version) that needs the store's keys.
const FIRST_KEYED_STEP: u32 = 2;

/// Version 1: the store's key record, the secrets and their versions.
const V1: &str = "
CREATE TABLE store_meta (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    store_id        BLOB    NOT NULL CHECK (length(store_id) = 16),
    dek_generation  INTEGER NOT NULL CHECK (dek_generation >= 1),
    wrapped_dek     BLOB    NOT NULL,
    kek_fingerprint TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE TABLE secrets (
    id         INTEGER PRIMARY KEY,
    scope      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (scope, name)
) STRICT;

CREATE TABLE secret_versions (
    secret_id  INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at INTEGER NOT NULL,
    ciphertext BLOB    NOT NULL,
    PRIMARY KEY (secret_id, version)
) STRICT, WITHOUT ROWID;
";

/// Version 2: when the store was last re-keyed and last re-encrypted (for `key status`).
const V2: &str = "
ALTER TABLE store_meta ADD COLUMN rekeyed_at INTEGER;
ALTER TABLE store_meta ADD COLUMN reencrypted_at INTEGER;
";

/// Version 3: an authenticator of each secret's current version (see
/// [`Keys::seal_current`]), filled in for every existing secret by the step itself.
const V3: &str = "
ALTER TABLE secrets ADD COLUMN version_mac BLOB NOT NULL DEFAULT x'';
";

/// Version 4: the audit log (`audit_log`, `audit_state`; see `audit.rs`), its state row
/// sealed with the data key by the step itself.
const V4: &str = crate::audit::SCHEMA;

/// The one step from schema version `from` to `from + 1`. Steps from
/// [`FIRST_KEYED_STEP`] on need `keys`.
fn upgrade_from(conn: &Connection, from: u32, keys: Option<&Keys>) -> Result<()> {
    let step = |e: rusqlite::Error| {
        database(
            format!("upgrading the schema from version {from} to {}", from + 1),
            e,
        )
    };
    match from {
        0 => conn.execute_batch(V1).map_err(step),
        1 => conn.execute_batch(V2).map_err(step),
        2 => {
            let keys = keys.ok_or_else(|| problem(StoreProblem::UpgradeNeedsKey { to: 3 }))?;
            conn.execute_batch(V3).map_err(step)?;
            let secrets = keys.authenticate_all(conn)?;
            tracing::debug!(secrets, "authenticated the current version of every secret");
            Ok(())
        }
        3 => {
            let keys = keys.ok_or_else(|| problem(StoreProblem::UpgradeNeedsKey { to: 4 }))?;
            conn.execute_batch(V4).map_err(step)?;
            crate::audit::init(conn, keys)
        }
        _ => Err(problem(StoreProblem::NoUpgrade { from })),
    }
}

/// Refuses, before anything is written, a file that is not a SQLite database, another
/// application's database, or a store from a newer version of this crate.
pub(crate) fn preflight(conn: &Connection, options: &StoreOptions) -> Result<()> {
    conn.busy_timeout(options.busy_timeout)
        .map_err(|e| database("setting the busy timeout", e))?;
    // One read transaction: the version and the tables are seen at the same moment, not
    // "version 0" before and "tables" after another process created the store.
    let tx = conn
        .unchecked_transaction()
        .map_err(|e| database("reading the database", e))?;
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    if found == 0 {
        ensure_empty(&tx)?;
    }
    tx.commit().map_err(|e| database("reading the database", e))
}

/// Checks a read connection to a store the writer has opened, as [`preflight`] and
/// [`configure`] check the writer's where it matters for reads: the schema is not newer than
/// this crate's (a newer program may have upgraded the file since), and the database is in
/// WAL mode (without it, readers and the writer would lock each other out).
pub(crate) fn check_reader(conn: &Connection) -> Result<()> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .map_err(|e| database("reading the journal mode", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(problem(StoreProblem::NoWal { mode }));
    }
    Ok(())
}

/// Sets the connection's pragmas. Must run outside any transaction: `foreign_keys` is a
/// no-op inside one, and the journal mode cannot change inside one.
pub(crate) fn configure(conn: &Connection, options: &StoreOptions) -> Result<()> {
    // Switching a new database to WAL needs an exclusive lock, and SQLite does not wait for
    // it (no busy handler) while another process opens the same new store: retry until the
    // busy timeout.
    let deadline = std::time::Instant::now() + options.busy_timeout;
    let mode: String = loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)) {
            Ok(mode) => break mode,
            Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(database("switching to WAL journal mode", e)),
        }
    };
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(problem(StoreProblem::NoWal { mode }));
    }
    conn.pragma_update(None, "synchronous", options.durability.pragma_value())
        .map_err(|e| database("setting `synchronous`", e))?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(|e| database("turning on foreign keys", e))?;
    // Freed pages are overwritten with zeros: an old wrapped data key does not linger in
    // the file after a re-key.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(|e| database("turning on secure_delete", e))?;
    Ok(())
}

/// The database is locked by another connection.
fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn user_version(conn: &Connection) -> Result<u32> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| database("reading the schema version", e))?;
    u32::try_from(version)
        .map_err(|_| problem(StoreProblem::InvalidSchemaVersion { found: version }))
}

fn too_new(found: u32) -> SecretsError {
    problem(StoreProblem::SchemaTooNew {
        found,
        supported: SCHEMA_VERSION,
    })
}

/// A [`SecretsError::Store`] whose path the caller fills in.
pub(crate) fn problem(problem: StoreProblem) -> SecretsError {
    SecretsError::Store {
        path: None,
        problem,
    }
}

/// Brings the schema up to [`SCHEMA_VERSION`], one step per transaction. Without `keys`
/// it stops before [`FIRST_KEYED_STEP`] (the caller runs it again once it has the keys).
pub(crate) fn migrate(conn: &mut Connection, mut keys: Option<&mut Keys>) -> Result<()> {
    // A store already at the current version needs no write lock to open.
    let found = user_version(conn)?;
    if found == SCHEMA_VERSION || (found >= FIRST_KEYED_STEP && keys.is_none()) {
        return Ok(());
    }
    if found > SCHEMA_VERSION {
        return Err(too_new(found));
    }
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| database("locking the database for a schema upgrade", e))?;
        // Another process may have upgraded while we waited for the lock.
        let from = user_version(&tx)?;
        if from == SCHEMA_VERSION {
            return Ok(());
        }
        if from > SCHEMA_VERSION {
            return Err(too_new(from));
        }
        if from >= FIRST_KEYED_STEP && keys.is_none() {
            // Nothing written; the transaction rolls back as it is dropped.
            return Ok(());
        }
        if from == 0 {
            ensure_empty(&tx)?;
        }
        if let Some(keys) = keys.as_deref_mut() {
            // Another process may have re-encrypted the store since the keys were loaded.
            keys.refresh(&tx)?;
        }
        upgrade_from(&tx, from, keys.as_deref())?;
        tx.pragma_update(None, "user_version", from + 1)
            .map_err(|e| database("recording the schema version", e))?;
        tx.commit()
            .map_err(|e| database("committing the schema upgrade", e))?;
        tracing::debug!(from, to = from + 1, "upgraded the secrets store schema");
    }
}

/// Refuses to lay our schema over some other application's database.
fn ensure_empty(conn: &Connection) -> Result<()> {
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |row| row.get(0),
        )
        .map_err(|e| database("inspecting the database", e))?;
    if tables > 0 {
        return Err(problem(StoreProblem::NotAStore));
    }
    Ok(())
}

/// The schema version of an open database (for [`KeyInfo`](crate::KeyInfo)).
pub(crate) fn current_version(conn: &Connection) -> Result<u32> {
    user_version(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_sql(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get::<_, String>(0))
            .unwrap()
            .map(|sql| {
                sql.unwrap()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn version_1_is_frozen_as_in_the_fixture() {
        // The fixture holds version 1 as released; the migration chain must still start
        // from exactly that schema.
        let fixture = Connection::open_in_memory().unwrap();
        fixture
            .execute_batch(include_str!("../tests/data/v1.sql"))
            .unwrap();
        let fresh = Connection::open_in_memory().unwrap();
        upgrade_from(&fresh, 0, None).unwrap();
        assert_eq!(schema_sql(&fixture), schema_sql(&fresh));
    }

    #[test]
    fn migrations_step_one_version_at_a_time_to_the_latest() {
        let mut conn = Connection::open_in_memory().unwrap();
        // Without keys, the upgrade stops before the first keyed step.
        migrate(&mut conn, None).unwrap();
        assert_eq!(user_version(&conn).unwrap(), FIRST_KEYED_STEP);
        let kek = zlayer_secrets_crypto::EncryptionKey::generate();
        let mut keys = Keys::load_or_init(&mut conn, kek).unwrap();
        migrate(&mut conn, Some(&mut keys)).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        // Running again is a no-op, with or without keys.
        migrate(&mut conn, Some(&mut keys)).unwrap();
        migrate(&mut conn, None).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        assert!(upgrade_from(&conn, SCHEMA_VERSION, Some(&keys)).is_err());
        assert!(upgrade_from(&conn, FIRST_KEYED_STEP, None).is_err());
    }

    #[test]
    fn a_failed_step_leaves_the_previous_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        // Make step 1 -> 2 fail half-way: its second column already exists.
        conn.execute_batch("ALTER TABLE store_meta ADD COLUMN reencrypted_at INTEGER;")
            .unwrap();
        let err = migrate(&mut conn, None).unwrap_err().to_string();
        assert!(err.contains("from version 1 to 2"), "{err}");
        assert_eq!(user_version(&conn).unwrap(), 1);
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('store_meta')")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            !columns.contains(&"rekeyed_at".to_owned()),
            "the first half of the failed step was rolled back"
        );
    }
}
