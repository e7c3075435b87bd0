//! Where the database goes, its permissions, and files that are not a secrets store.

use std::io::{BufRead, BufReader, Write};

use zlayer_secrets_core::testkit::steps::{put, value};
use zlayer_secrets_core::{FileProblem, Secret, SecretsError, SecretsStore};
use zlayer_secrets_sqlite::{DB_FILE_NAME, PersistentSecretsStore, SCHEMA_VERSION};
#[cfg(unix)]
use zlayer_secrets_testsupport::ownership::{OTHER_UID, give_away};

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
    put(&store, "s", "n", "v").await;
    drop(store);
    assert!(dir.path().join(DB_FILE_NAME).is_file());
    let store = open_a(dir.path()).await;
    assert_eq!(value(&store, "s", "n").await, "v");
}

#[cfg(unix)]
#[tokio::test]
async fn new_files_and_directories_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/store.db");
    let store = open_a(&path).await;
    put(&store, "s", "n", "v").await;
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
    assert!(
        matches!(&err, SecretsError::Database { path: Some(p), .. } if *p == path),
        "{err}"
    );
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
    assert!(
        matches!(&err, SecretsError::InvalidInput { what, .. } if what == "secrets store path"),
        "{err}"
    );
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
        assert_eq!(value(store, "s", "n").await, "v");
    }
    let rows: i64 = raw(&path)
        .query_row("SELECT count(*) FROM store_meta", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

#[cfg(unix)]
fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A data directory that group or others can write to (sticky or not) or that another user
/// owns is refused before any file is created in it; so is an existing database file that
/// another user owns or that group or others can write.
#[cfg(unix)]
#[tokio::test]
async fn stores_others_could_tamper_with_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for dir_mode in [0o1777, 0o777, 0o770, 0o733] {
        set_mode(&data, dir_mode);
        let err = PersistentSecretsStore::open(&data, key_a())
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(&err, SecretsError::FileRefused { path, problem: FileProblem::Writable { mode, is_dir: true, .. }, .. }
                if *path == data && *mode == dir_mode),
            "{msg}"
        );
        assert!(msg.contains(&data.display().to_string()), "{msg}");
        assert!(msg.contains(&format!("mode {dir_mode:04o}")), "{msg}");
        assert!(msg.contains("owner uid"), "{msg}");
        assert_eq!(
            std::fs::read_dir(&data).unwrap().count(),
            0,
            "nothing created"
        );
    }
    set_mode(&data, 0o700);
    let store = open_a(&data).await;
    put(&store, "s", "n", "v").await;
    drop(store);

    let db = data.join(DB_FILE_NAME);
    for file_mode in [0o666, 0o620, 0o602] {
        set_mode(&db, file_mode);
        let msg = PersistentSecretsStore::open(&data, key_a())
            .await
            .unwrap_err()
            .to_string();
        assert!(msg.contains(&db.display().to_string()), "{msg}");
        assert!(msg.contains(&format!("mode {file_mode:04o}")), "{msg}");
    }
    set_mode(&db, 0o600);
    if !give_away(&db) {
        return;
    }
    let msg = PersistentSecretsStore::open(&data, key_a())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&db.display().to_string()), "{msg}");
    assert!(msg.contains(&format!("owner uid {OTHER_UID}")), "{msg}");
    assert!(msg.contains("mode 0600"), "{msg}");
    std::os::unix::fs::lchown(&db, Some(0), None).unwrap();
    drop(open_a(&data).await);

    assert!(give_away(&data));
    let msg = PersistentSecretsStore::open(&data, key_a())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains(&format!("owner uid {OTHER_UID}")), "{msg}");
    assert!(msg.contains(&data.display().to_string()), "{msg}");
}

/// A symbolic link at the database path is never followed, whether it points to a store or
/// to nothing (where following it would create a database wherever it points).
#[cfg(unix)]
#[tokio::test]
async fn a_symbolic_link_at_the_database_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.sqlite");
    let store = open_a(&real).await;
    put(&store, "s", "n", "v").await;
    drop(store);
    let before = std::fs::read(&real).unwrap();

    let link = dir.path().join("link.sqlite");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let msg = PersistentSecretsStore::open(&link, key_a())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("symbolic link"), "{msg}");
    assert!(msg.contains(&link.display().to_string()), "{msg}");
    assert_eq!(std::fs::read(&real).unwrap(), before);

    let dangling = dir.path().join("dangling.sqlite");
    let target = dir.path().join("elsewhere.sqlite");
    std::os::unix::fs::symlink(&target, &dangling).unwrap();
    let msg = PersistentSecretsStore::open(&dangling, key_a())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("symbolic link"), "{msg}");
    assert!(!target.exists(), "nothing created where the link points");

    // The same for the default file name inside a data directory.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::symlink(&target, data.join(DB_FILE_NAME)).unwrap();
    let msg = PersistentSecretsStore::open(&data, key_a())
        .await
        .unwrap_err()
        .to_string();
    assert!(msg.contains("symbolic link"), "{msg}");
    assert!(!target.exists());
}

/// A missing path without a database extension is the store's directory, as in the
/// original crate: it is created (0700) with `secrets.sqlite` inside, and opening the same
/// path again finds it.
#[tokio::test]
async fn a_missing_path_without_a_database_extension_becomes_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets");
    let store = open_a(&path).await;
    assert_eq!(store.path(), path.join(DB_FILE_NAME));
    put(&store, "s", "n", "v").await;
    drop(store);
    assert!(path.is_dir());
    assert!(path.join(DB_FILE_NAME).is_file());
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o700);
    let store = open_a(&path).await;
    assert_eq!(store.path(), path.join(DB_FILE_NAME));
    assert_eq!(value(&store, "s", "n").await, "v");
}

/// A missing path ending in `.sqlite`, `.db` or `.sqlite3` (in any case) is the database
/// file itself.
#[tokio::test]
async fn a_missing_path_with_a_database_extension_is_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.sqlite", "b.db", "c.sqlite3", "d.DB", "nested/e.db"] {
        let path = dir.path().join(name);
        let store = open_a(&path).await;
        assert_eq!(store.path(), path, "{name}");
        drop(store);
        assert!(path.is_file(), "{name}");
    }
    // Another extension is a directory name like any other.
    let path = dir.path().join("f.txt");
    assert_eq!(open_a(&path).await.path(), path.join(DB_FILE_NAME));
    assert!(path.is_dir());
}

/// An existing file is the database, whatever its name.
#[tokio::test]
async fn an_existing_file_without_an_extension_is_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.db");
    let store = open_a(&first).await;
    put(&store, "s", "n", "v").await;
    drop(store);
    let plain = dir.path().join("plain");
    std::fs::rename(&first, &plain).unwrap();
    let store = open_a(&plain).await;
    assert_eq!(store.path(), plain);
    assert_eq!(value(&store, "s", "n").await, "v");
    assert!(plain.is_file(), "not turned into a directory");
}
