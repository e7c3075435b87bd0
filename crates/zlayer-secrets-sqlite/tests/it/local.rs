//! `LocalStore`: a data directory's layout, key, opening rules and key rotation.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use zlayer_secrets_core::testkit::steps::{put, value};
use zlayer_secrets_core::{SecretsError, WrongKeyReason};
use zlayer_secrets_crypto::{KeyManager, KeySource};
use zlayer_secrets_sqlite::{KEY_NAME, LocalStore, Notice, PersistentSecretsStore};

/// The notices a store sent.
type Notices = Arc<Mutex<Vec<Notice>>>;

/// A data directory (not created) in a temporary directory.
fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    (tmp, dir)
}

/// The store of `dir` with the key variables in `env` (none from the process), collecting
/// its notices.
fn local_with(dir: &Path, env: &[(&str, &str)]) -> (LocalStore, Notices) {
    let notices = Notices::default();
    let sink = Arc::clone(&notices);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let local = LocalStore::new(dir)
        .with_env_vars(env)
        .on_notice(move |n| sink.lock().unwrap().push(n.clone()));
    (local, notices)
}

fn fresh(dir: &Path) -> (LocalStore, Notices) {
    local_with(dir, &[])
}

fn taken(notices: &Notices) -> Vec<Notice> {
    std::mem::take(&mut *notices.lock().unwrap())
}

/// The files in `dir`, sorted (empty if it does not exist).
fn files(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A store in `dir` holding `a = survives`, locked with its key file.
async fn store_with_a_secret(dir: &Path) -> LocalStore {
    let (local, _) = fresh(dir);
    let store = local.open_write().await.unwrap();
    put(&store, "s", "a", "survives").await;
    local
}

/// A rotation that wrote its pending key file and, with `rekeyed`, re-keyed the store, then
/// "died" before replacing the key file. Returns the pending key's fingerprint.
async fn interrupted_rotation(dir: &Path, rekeyed: bool) -> String {
    let manager = KeyManager::with_base_dir(dir).with_env_vars(Vec::<(String, String)>::new());
    let old = manager.get_or_create_key(KEY_NAME).unwrap();
    let rotation = manager.begin_rotation(KEY_NAME).unwrap();
    if rekeyed {
        let store = PersistentSecretsStore::open(dir.join("secrets.sqlite"), old)
            .await
            .unwrap();
        store.rekey(rotation.new_key().clone()).await.unwrap();
    }
    rotation.new_key().fingerprint()
}

async fn reveal(local: &LocalStore) -> String {
    let store = local.open_read().await.unwrap().unwrap();
    value(&store, "s", "a").await
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_layout_of_a_data_directory() {
    let local = LocalStore::new("/srv/data");
    assert_eq!(local.dir(), Path::new("/srv/data"));
    assert_eq!(local.database_path(), Path::new("/srv/data/secrets.sqlite"));
    assert_eq!(
        local.key_file_path(),
        Path::new("/srv/data/secrets_default.key")
    );
    assert_eq!(
        local.pending_key_file_path(),
        Path::new("/srv/data/secrets_default.key.new")
    );
}

#[tokio::test]
async fn reading_a_missing_store_creates_nothing() {
    let (_tmp, dir) = data_dir();
    let (local, notices) = fresh(&dir);
    assert!(local.open_read().await.unwrap().is_none());
    assert!(!dir.exists(), "not even the directory");
    // An existing, empty directory stays empty.
    std::fs::create_dir(&dir).unwrap();
    assert!(local.open_read().await.unwrap().is_none());
    assert!(files(&dir).is_empty());
    assert!(!local.exists());
    assert!(taken(&notices).is_empty());

    let status = local.key_status().await.unwrap();
    assert_eq!(status.database, dir.join("secrets.sqlite"));
    assert!(status.store.is_none() && status.key.is_none());
    assert!(status.pending_rotation.is_none());
    assert!(files(&dir).is_empty(), "status creates nothing");

    let err = local.rotate_key(false).await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::NothingToRotate { dir: d } if *d == dir),
        "{err}"
    );
    assert!(err.to_string().contains("nothing to rotate"), "{err}");
    assert!(files(&dir).is_empty());
}

#[tokio::test]
async fn writing_creates_the_store_and_a_private_key_file() {
    let (_tmp, dir) = data_dir();
    let (local, notices) = fresh(&dir);
    let store = local.open_write().await.unwrap();
    assert_eq!(store.path(), local.database_path());
    assert!(local.exists());
    #[cfg(unix)]
    {
        assert_eq!(mode(&local.key_file_path()), 0o600);
        assert_eq!(mode(&local.database_path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }
    assert!(taken(&notices).is_empty());
    drop(store);
    assert_eq!(
        files(&dir),
        ["secrets.sqlite", "secrets_default.key"],
        "no pending file, no salt"
    );

    let status = local.key_status().await.unwrap();
    let key = status.key.unwrap();
    assert!(matches!(key.source, KeySource::File(_)), "{:?}", key.source);
    assert_eq!(status.store.unwrap().fingerprint, key.fingerprint);
    assert!(!status.locked_with_pending_key);
}

#[tokio::test]
async fn an_existing_store_without_its_key_is_refused_and_no_key_is_made() {
    let (_tmp, dir) = data_dir();
    let local = store_with_a_secret(&dir).await;
    std::fs::remove_file(local.key_file_path()).unwrap();
    for result in [
        local.open_read().await.map(drop),
        local.open_write().await.map(drop),
        local.key_status().await.map(drop),
        local.rotate_key(false).await.map(drop),
    ] {
        let err = result.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("exists but there is no key for it"), "{msg}");
        assert!(
            msg.contains("secrets_default.key"),
            "names the key file: {msg}"
        );
        assert!(!local.key_file_path().exists(), "no new key: {msg}");
    }
    assert_eq!(files(&dir), ["secrets.sqlite"]);
}

#[tokio::test]
async fn a_store_only_the_pending_key_opens_is_refused_inspected_and_finished() {
    let (_tmp, dir) = data_dir();
    let local = store_with_a_secret(&dir).await;
    let pending_fingerprint = interrupted_rotation(&dir, true).await;
    let key_before = std::fs::read(local.key_file_path()).unwrap();
    let (local, notices) = local_with(&dir, &[]);

    // Readers and writers refuse, saying how to finish; nothing is committed.
    for result in [
        local.open_read().await.map(drop),
        local.open_write().await.map(drop),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(
                &err,
                SecretsError::WrongKey {
                    store: Some(_),
                    key: Some(_),
                    reason,
                } if matches!(**reason, WrongKeyReason::UnfinishedRotation { .. })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("unfinished key rotation"), "{err}");
        assert!(err.to_string().contains("key rotate"), "{err}");
    }
    assert!(local.pending_key_file_path().exists());
    assert_eq!(std::fs::read(local.key_file_path()).unwrap(), key_before);

    // The status opens it with the pending key, and says so.
    let status = local.key_status().await.unwrap();
    assert!(status.locked_with_pending_key);
    assert_eq!(status.pending_rotation, Some(local.pending_key_file_path()));
    assert_eq!(status.store.unwrap().fingerprint, pending_fingerprint);
    assert_ne!(status.key.unwrap().fingerprint, pending_fingerprint);
    assert!(local.pending_key_file_path().exists());
    assert_eq!(std::fs::read(local.key_file_path()).unwrap(), key_before);
    assert!(taken(&notices).is_empty());

    // Rotating finishes the interrupted rotation, then rotates again.
    let rotated = local.rotate_key(false).await.unwrap();
    assert_eq!(rotated.old_fingerprint, pending_fingerprint);
    assert_ne!(rotated.new_fingerprint, pending_fingerprint);
    assert!(!rotated.resumed);
    assert_eq!(
        taken(&notices),
        [
            Notice::FinishedRotation {
                key_file: local.key_file_path()
            },
            Notice::ReplacedKeyFile {
                key_file: local.key_file_path()
            },
        ]
    );
    assert!(!local.pending_key_file_path().exists());
    assert_eq!(reveal(&local).await, "survives");
    assert_eq!(
        local.key_status().await.unwrap().store.unwrap().fingerprint,
        rotated.new_fingerprint
    );
}

#[tokio::test]
async fn a_rotation_that_had_not_rekeyed_the_store_is_noted_and_resumed() {
    let (_tmp, dir) = data_dir();
    store_with_a_secret(&dir).await;
    let pending_fingerprint = interrupted_rotation(&dir, false).await;
    let (local, notices) = fresh(&dir);

    assert_eq!(reveal(&local).await, "survives");
    match taken(&notices).as_slice() {
        [
            Notice::UnfinishedRotation {
                pending_key_file,
                key_source: KeySource::File(_),
            },
        ] => assert_eq!(*pending_key_file, local.pending_key_file_path()),
        other => panic!("{other:?}"),
    }

    let rotated = local.rotate_key(false).await.unwrap();
    assert!(rotated.resumed);
    assert_eq!(
        rotated.new_fingerprint, pending_fingerprint,
        "the same new key"
    );
    assert_eq!(
        taken(&notices),
        [
            Notice::ResumedRotation {
                pending_key_file: local.pending_key_file_path()
            },
            Notice::ReplacedKeyFile {
                key_file: local.key_file_path()
            },
        ]
    );
    assert!(!local.pending_key_file_path().exists());
    assert_eq!(reveal(&local).await, "survives");
}

/// A key from the environment is not the one a rotation started from: when it does not
/// open the store, the pending key is neither tried nor committed.
#[tokio::test]
async fn a_wrong_environment_key_never_finishes_a_rotation() {
    let (_tmp, dir) = data_dir();
    store_with_a_secret(&dir).await;
    interrupted_rotation(&dir, true).await;
    let hex = "b2".repeat(32);
    let (local, notices) = local_with(&dir, &[("ZLAYER_SECRETS_KEY", &hex)]);
    let key_before = std::fs::read(local.key_file_path()).unwrap();
    for result in [
        local.open_read().await.map(drop),
        local.key_status().await.map(drop),
        local.rotate_key(false).await.map(drop),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(
                &err,
                SecretsError::WrongKey {
                    key: Some(key),
                    reason,
                    ..
                } if key.contains("ZLAYER_SECRETS_KEY")
                    && matches!(**reason, WrongKeyReason::Mismatch { unfinished_rotation: Some(_), .. })
            ),
            "{err}"
        );
        let msg = err.to_string();
        assert!(msg.contains("ZLAYER_SECRETS_KEY"), "{msg}");
        assert!(msg.contains("unfinished"), "{msg}");
        assert!(local.pending_key_file_path().exists(), "{msg}");
        assert_eq!(std::fs::read(local.key_file_path()).unwrap(), key_before);
    }
    assert!(taken(&notices).is_empty());
}

#[tokio::test]
async fn rotating_rekeys_or_reencrypts_and_keeps_the_values() {
    let (_tmp, dir) = data_dir();
    let local = store_with_a_secret(&dir).await;
    let (local, notices) = local_with(local.dir(), &[]);
    let first = local.key_status().await.unwrap().key.unwrap().fingerprint;
    let old_key = std::fs::read_to_string(local.key_file_path()).unwrap();

    let rotated = local.rotate_key(false).await.unwrap();
    assert_eq!(rotated.old_fingerprint, first);
    assert_ne!(rotated.new_fingerprint, first);
    assert_eq!(rotated.key_file, local.key_file_path());
    assert!(rotated.reencrypted.is_none());
    let status = local.key_status().await.unwrap();
    let info = status.store.unwrap();
    assert_eq!(
        info.data_key_generation, 1,
        "only the data key was re-wrapped"
    );
    assert_eq!(info.fingerprint, rotated.new_fingerprint);
    assert_eq!(status.key.unwrap().fingerprint, rotated.new_fingerprint);
    assert_eq!(reveal(&local).await, "survives");
    // The old key no longer opens it.
    let (with_old, _) = local_with(&dir, &[("ZLAYER_SECRETS_KEY", old_key.trim())]);
    let err = with_old.open_read().await.unwrap_err();
    assert!(matches!(err, SecretsError::WrongKey { .. }), "{err}");

    taken(&notices);
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&progress);
    let again = local
        .rotate_key_with_progress(true, move |done, total| {
            seen.lock().unwrap().push((done, total));
        })
        .await
        .unwrap();
    assert_eq!(again.old_fingerprint, rotated.new_fingerprint);
    let report = again.reencrypted.unwrap();
    assert_eq!((report.versions, report.data_key_generation), (1, 2));
    assert_eq!(progress.lock().unwrap().last(), Some(&(1, 1)));
    assert_eq!(
        taken(&notices),
        [
            Notice::Reencrypted(report),
            Notice::ReplacedKeyFile {
                key_file: local.key_file_path()
            },
        ]
    );
    assert_eq!(
        local
            .key_status()
            .await
            .unwrap()
            .store
            .unwrap()
            .data_key_generation,
        2
    );
    assert_eq!(reveal(&local).await, "survives");
    assert_eq!(files(&dir), ["secrets.sqlite", "secrets_default.key"]);
}

#[cfg(unix)]
#[tokio::test]
async fn a_key_file_others_can_read_is_a_warning_notice() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, dir) = data_dir();
    let local = store_with_a_secret(&dir).await;
    std::fs::set_permissions(
        local.key_file_path(),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let (local, notices) = fresh(&dir);
    assert_eq!(reveal(&local).await, "survives");
    match taken(&notices).as_slice() {
        [warning @ Notice::KeyWarning(text)] => {
            assert!(warning.is_warning());
            assert!(text.contains("secrets_default.key"), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_empty_data_directory_path_is_refused() {
    let (local, _) = fresh(Path::new(""));
    let err = local.open_write().await.unwrap_err();
    assert!(
        matches!(&err, SecretsError::InvalidInput { what, .. } if what == "data directory"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("data directory: the path is empty"),
        "{err}"
    );
}

#[test]
fn notices_read_as_the_command_prints_them() {
    let notice = Notice::FinishedRotation {
        key_file: PathBuf::from("/d/secrets_default.key"),
    };
    assert_eq!(
        notice.to_string(),
        "finished an interrupted key rotation: /d/secrets_default.key now holds the key that \
         opens the store"
    );
    assert!(!notice.is_warning());
}
