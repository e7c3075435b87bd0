//! Schema migrations: a version-1 database (fixture `tests/data/v1.sql`) opens, is upgraded
//! to the current schema, and keeps every value.

use std::path::Path;

use zlayer_secrets_core::testkit::steps::{names, put, value, version, version_value};
use zlayer_secrets_core::{Secret, SecretsError, SecretsProvider, SecretsStore, TamperedRecord};
use zlayer_secrets_sqlite::{PersistentSecretsStore, SCHEMA_VERSION};

use crate::{first_column, key_a, key_b, raw, temp_db};

/// A store written by schema version 1, locked with [`key_a`].
const V1_FIXTURE: &str = include_str!("../data/v1.sql");

/// What the fixture holds: (scope, name, version, value).
const V1_CONTENT: &[(&str, &str, u32, &str)] = &[
    ("prod", "db-password", 1, "first password"),
    ("prod", "db-password", 2, "second password"),
    ("prod", "db-password", 3, "third password"),
    ("a", "b:c", 1, "in scope a"),
    ("a:b", "c", 1, "in scope a:b"),
    ("prod/api", "TOKEN", 1, "ünïcødé ✓\nline two"),
    ("env:prod", "EMPTY", 1, ""),
];

fn columns(path: &Path, table: &str) -> Vec<String> {
    first_column(
        path,
        &format!("SELECT name FROM pragma_table_info('{table}')"),
    )
}

fn load_v1(path: &Path) {
    raw(path).execute_batch(V1_FIXTURE).unwrap();
    let version: u32 = raw(path)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1, "the fixture is schema version 1");
    assert!(!columns(path, "store_meta").contains(&"rekeyed_at".to_owned()));
}

#[tokio::test]
async fn a_version_1_store_is_upgraded_and_keeps_everything() {
    let (_dir, path) = temp_db();
    load_v1(&path);

    let store = PersistentSecretsStore::open(&path, key_a()).await.unwrap();
    let info = store.key_info().await.unwrap();
    assert_eq!(info.schema_version, SCHEMA_VERSION);
    assert_eq!(info.fingerprint, key_a().fingerprint());
    assert_eq!((info.rekeyed_at, info.reencrypted_at), (None, None));
    assert!(columns(&path, "store_meta").contains(&"rekeyed_at".to_owned()));
    assert!(columns(&path, "store_meta").contains(&"reencrypted_at".to_owned()));

    for (scope, name, version, value) in V1_CONTENT {
        assert_eq!(
            version_value(&store, scope, name, *version).await,
            *value,
            "{scope}/{name} v{version}"
        );
    }
    assert_eq!(value(&store, "prod", "db-password").await, "third password");
    assert_eq!(names(&store, "a").await, ["b:c"]);

    // The upgraded store is fully usable, re-keying included.
    put(&store, "prod", "db-password", "fourth").await;
    assert_eq!(version(&store, "prod", "db-password").await, 4);
    store.rekey(key_b()).await.unwrap();
    drop(store);
    let store = PersistentSecretsStore::open(&path, key_b()).await.unwrap();
    assert_eq!(
        version_value(&store, "prod", "db-password", 1).await,
        "first password"
    );
    let check: String = raw(&path)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

#[tokio::test]
async fn a_version_1_store_refuses_the_wrong_key_and_keeps_its_data() {
    let (_dir, path) = temp_db();
    load_v1(&path);
    let err = PersistentSecretsStore::open(&path, key_b())
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::WrongKey { .. }), "{err}");
    // The steps that need no key ran; the one that authenticates the current versions with
    // the data key did not, and the data did not change.
    let version: u32 = raw(&path)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    let store = PersistentSecretsStore::open(&path, key_a()).await.unwrap();
    assert_eq!(
        store.key_info().await.unwrap().schema_version,
        SCHEMA_VERSION
    );
    assert_eq!(value(&store, "a:b", "c").await, "in scope a:b");
}

/// The upgrade authenticates the current version of every existing secret: afterwards each
/// reads as before, and a pointer rolled back in SQL is a tamper error.
#[tokio::test]
async fn the_upgrade_authenticates_every_current_version() {
    let (_dir, path) = temp_db();
    load_v1(&path);
    let store = PersistentSecretsStore::open(&path, key_a()).await.unwrap();
    assert!(columns(&path, "secrets").contains(&"version_mac".to_owned()));
    let empty: i64 = raw(&path)
        .query_row(
            "SELECT count(*) FROM secrets WHERE length(version_mac) = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(empty, 0, "every secret has its authenticator");
    for scope in ["prod", "a", "a:b", "prod/api", "env:prod"] {
        store.list_secrets(scope).await.unwrap();
    }
    raw(&path)
        .execute(
            "UPDATE secrets SET version = 2 WHERE scope = 'prod' AND name = 'db-password'",
            [],
        )
        .unwrap();
    let err = store.get_secret("prod", "db-password").await.unwrap_err();
    assert!(
        matches!(
            &err,
            SecretsError::Tampered {
                scope,
                name,
                record: TamperedRecord::CurrentVersion { version: 2 }
            } if scope == "prod" && name == "db-password"
        ),
        "{err}"
    );
    assert!(!err.to_string().contains("second password"), "{err}");
    let err = store
        .set_secret("prod", "db-password", &Secret::new("fourth"))
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::Tampered { .. }), "{err}");
}

/// Set to make [`print_v1_fixture_rows`] print the fixture's rows.
const PRINT_FIXTURE_VAR: &str = "ZLAYER_PRINT_V1_FIXTURE";

/// Prints the data rows of the fixture. The schema part of `tests/data/v1.sql` is written by
/// hand; this produced the `INSERT` statements below it, from a store written by the current
/// code, whose version-1 columns are unchanged. It prints only when [`PRINT_FIXTURE_VAR`] is
/// set (`ZLAYER_PRINT_V1_FIXTURE=1 cargo test -p zlayer-secrets-sqlite --test it
/// print_v1_fixture_rows -- --nocapture`); otherwise it returns at once.
#[tokio::test]
async fn print_v1_fixture_rows() {
    if std::env::var_os(PRINT_FIXTURE_VAR).is_none() {
        return;
    }
    let (_dir, path) = temp_db();
    let store = PersistentSecretsStore::open(&path, key_a()).await.unwrap();
    for (scope, name, _, value) in V1_CONTENT {
        put(&store, scope, name, *value).await;
    }
    drop(store);
    let conn = raw(&path);
    let (id, generation, wrapped, fp, created): (Vec<u8>, u32, Vec<u8>, String, i64) = conn
        .query_row(
            "SELECT store_id, dek_generation, wrapped_dek, kek_fingerprint, created_at FROM store_meta",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    println!(
        "INSERT INTO store_meta (id, store_id, dek_generation, wrapped_dek, kek_fingerprint, created_at)\n    VALUES (1, X'{}', {generation}, X'{}', '{fp}', {created});",
        hex::encode(id),
        hex::encode(wrapped)
    );
    let mut stmt = conn
        .prepare("SELECT id, scope, name, version, created_at, updated_at FROM secrets ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (id, scope, name, version, c, u) = row.unwrap();
        println!(
            "INSERT INTO secrets (id, scope, name, version, created_at, updated_at)\n    VALUES ({id}, '{}', '{}', {version}, {c}, {u});",
            scope.replace('\'', "''"),
            name.replace('\'', "''")
        );
    }
    let mut stmt = conn
        .prepare("SELECT secret_id, version, created_at, ciphertext FROM secret_versions ORDER BY secret_id, version")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (id, version, c, blob) = row.unwrap();
        println!(
            "INSERT INTO secret_versions (secret_id, version, created_at, ciphertext)\n    VALUES ({id}, {version}, {c}, X'{}');",
            hex::encode(blob)
        );
    }
}
