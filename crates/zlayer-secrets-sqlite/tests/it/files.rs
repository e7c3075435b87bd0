//! Where the database goes, its permissions, and files that are not a secrets store.

use std::io::{BufRead, BufReader, Write};

use zlayer_secrets_core::{Secret, SecretsError, SecretsProvider, SecretsStore};
use zlayer_secrets_sqlite::{DB_FILE_NAME, PersistentSecretsStore, SCHEMA_VERSION};

use crate::{key_a, open_a, raw, temp_db};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_directory_gets_the_default_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_a(dir.path()).await;
    assert_eq!(store.path(), dir.path().join(DB_FILE_NAME));
    store.set_secret("s", "n", &Secret::new("v")).await.unwrap();
    drop(store);
    assert!(dir.path().join(DB_FILE_NAME).is_file());
    let store = open_a(dir.path()).await;
    assert_eq!(store.get_secret("s", "n").await.unwrap().expose(), "v");
}

#[cfg(unix)]
#[tokio::test]
async fn new_files_and_directories_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/store.db");
    let store = open_a(&path).await;
    store.set_secret("s", "n", &Secret::new("v")).await.unwrap();
    assert_eq!(store.path(), path);
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&dir.path().join("a/b")), 0o700);
    for file in ["store.db", "store.db-wal", "store.db-shm"] {
        assert_eq!(mode(&dir.path().join("a/b").join(file)), 0o600, "{file}");
    }
}

/// Even with umask 000, nothing the store creates is readable by others. Runs the store in
/// a child process started through `sh -c 'umask 000; exec ...'`.
#[cfg(unix)]
#[test]
fn files_are_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/store.db");
    let umask_file = dir.path().join("umask.txt");
    let mut child = crate::procs::child_command_umask_zero("hold-open", &path, &umask_file)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|line| line == "READY");
    assert!(ready, "the child did not open the store");
    // The shell that started the child recorded its umask.
    let umask = std::fs::read_to_string(&umask_file).unwrap();
    assert_eq!(
        umask.trim().trim_start_matches('0'),
        "",
        "umask was {umask}"
    );
    assert_eq!(mode(&dir.path().join("sub")), 0o700);
    for file in ["store.db", "store.db-wal", "store.db-shm"] {
        assert_eq!(mode(&dir.path().join("sub").join(file)), 0o600, "{file}");
    }
    child.stdin.take().unwrap().write_all(b"done\n").unwrap();
    lines.for_each(drop);
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_refused_and_left_alone() {
    let (_dir, path) = temp_db();
    let junk = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(&path, &junk).unwrap();
    let err = PersistentSecretsStore::open(&path, key_a())
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::Storage(_)), "{err}");
    assert!(err.to_string().contains("not a database"), "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "names the file: {err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[tokio::test]
async fn another_applications_database_is_refused_and_left_alone() {
    let (_dir, path) = temp_db();
    raw(&path)
        .execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');")
        .unwrap();
    let err = PersistentSecretsStore::open(&path, key_a())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a secrets store"), "{err}");
    let tables: i64 = raw(&path)
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 1);
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let (_dir, path) = temp_db();
    drop(open_a(&path).await);
    raw(&path)
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = PersistentSecretsStore::open(&path, key_a())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("newer"), "{msg}");
    assert!(msg.contains(&(SCHEMA_VERSION + 1).to_string()), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn an_empty_path_is_refused() {
    let err = PersistentSecretsStore::open("", key_a()).await.unwrap_err();
    assert!(matches!(err, SecretsError::InvalidInput(_)), "{err}");
}

#[tokio::test]
async fn the_database_runs_in_wal_mode_with_full_sync_and_foreign_keys() {
    let (_dir, path) = temp_db();
    drop(open_a(&path).await);
    let conn = raw(&path);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "WAL mode is persistent in the file");
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[tokio::test]
async fn concurrent_first_opens_create_one_store() {
    let (_dir, path) = temp_db();
    let mut handles = Vec::new();
    for _ in 0..4 {
        let path = path.clone();
        handles.push(tokio::spawn(async move {
            PersistentSecretsStore::open(&path, key_a()).await.unwrap()
        }));
    }
    let mut stores = Vec::new();
    for h in handles {
        stores.push(h.await.unwrap());
    }
    stores[0]
        .set_secret("s", "n", &Secret::new("v"))
        .await
        .unwrap();
    for store in &stores {
        assert_eq!(store.get_secret("s", "n").await.unwrap().expose(), "v");
    }
    let rows: i64 = raw(&path)
        .query_row("SELECT count(*) FROM store_meta", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}
