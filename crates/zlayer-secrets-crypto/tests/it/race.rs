//! Concurrent first use, and the real process environment, with real processes.
//!
//! The parent tests re-run this test binary with a helper test selected by name and its
//! inputs in environment variables, so that each child reads a real environment of its own
//! (this crate forbids `unsafe`, and changing the parent's environment would be both unsafe
//! and racy with the other tests).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use zlayer_secrets_crypto::{
    ENV_DIR, ENV_KEY, ENV_PASSWORD, EncryptionKey, KeyManager, KeySource, ResolvedKey,
};

use crate::file_names;

/// Directory a child resolves keys in.
const CHILD_DIR: &str = "ZLAYER_CRYPTO_TEST_CHILD_DIR";
/// File whose appearance starts the children of a race at (nearly) the same moment.
const CHILD_GO: &str = "ZLAYER_CRYPTO_TEST_CHILD_GO";
/// Set to make the child use `KeyManager::new()` (the default directory) instead.
const CHILD_DEFAULT_DIR: &str = "ZLAYER_CRYPTO_TEST_CHILD_DEFAULT_DIR";

const RACERS: usize = 8;

/// One line a child prints about the key it got.
fn report(resolved: &ResolvedKey) -> String {
    let source = match &resolved.source {
        KeySource::Env => "env".to_owned(),
        KeySource::Password { new_salt, .. } => format!("password new_salt={new_salt}"),
        KeySource::File(path) => format!("file {}", path.display()),
        KeySource::Generated(path) => format!("generated {}", path.display()),
        other => format!("{other}"),
    };
    format!(
        "RESULT fingerprint={} source={source}",
        resolved.fingerprint()
    )
}

/// Helper run in a child process: resolve the key of deployment `race` and print a report.
///
/// It does its work only when [`CHILD_DIR`] is set, which only [`spawn_child`] does; in an
/// ordinary test run it returns at once.
#[test]
fn child_resolve() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    if let Some(go) = std::env::var_os(CHILD_GO) {
        let go = PathBuf::from(go);
        while !go.exists() {
            thread::sleep(Duration::from_millis(1));
        }
    }
    let manager = if std::env::var_os(CHILD_DEFAULT_DIR).is_some() {
        KeyManager::new()
    } else {
        KeyManager::with_base_dir(dir)
    };
    match manager.resolve("race") {
        Ok(resolved) => println!("{}", report(&resolved)),
        Err(e) => println!("ERROR {e}"),
    }
}

/// Starts this test binary running [`child_resolve`] with `vars` and without the key
/// variables of the parent's environment.
fn spawn_child(vars: &[(&str, &std::ffi::OsStr)]) -> std::process::Child {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "race::child_resolve",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove(ENV_KEY)
        .env_remove(ENV_PASSWORD)
        .env_remove(ENV_DIR)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in vars {
        command.env(name, value);
    }
    command.spawn().unwrap()
}

/// The `RESULT ...` line of a finished child; panics with its output otherwise.
fn child_result(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The harness prints the test's name on the same line, before the helper's output.
    stdout
        .lines()
        .find_map(|line| {
            let start = line.find("RESULT ").or_else(|| line.find("ERROR "))?;
            Some(line[start..].to_owned())
        })
        .unwrap_or_else(|| panic!("child printed no result: {stdout}"))
}

fn run_child(vars: &[(&str, &std::ffi::OsStr)]) -> String {
    child_result(&spawn_child(vars).wait_with_output().unwrap())
}

#[test]
fn eight_processes_creating_the_first_key_agree_on_one() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("keys");
    let go = dir.path().join("go");
    let children: Vec<_> = (0..RACERS)
        .map(|_| spawn_child(&[(CHILD_DIR, base.as_os_str()), (CHILD_GO, go.as_os_str())]))
        .collect();
    // Give every child time to start and wait on the go file, then release them together.
    thread::sleep(Duration::from_millis(300));
    fs::write(&go, b"").unwrap();
    let results: Vec<String> = children
        .into_iter()
        .map(|child| child_result(&child.wait_with_output().unwrap()))
        .collect();

    let key_file = base.join("secrets_race.key");
    let on_disk = EncryptionKey::from_bytes(
        &hex::decode(fs::read_to_string(&key_file).unwrap().trim_end()).unwrap(),
    )
    .unwrap();
    let fingerprint = format!("fingerprint={}", on_disk.fingerprint());
    for result in &results {
        assert!(
            result.starts_with(&format!("RESULT {fingerprint}")),
            "{results:#?}"
        );
    }
    let generated = results
        .iter()
        .filter(|r| r.contains("source=generated"))
        .count();
    assert_eq!(generated, 1, "{results:#?}");
    assert_eq!(file_names(&base), ["secrets_race.key"]);
    assert_eq!(
        fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

/// `threads` threads, each with a manager of its own over `base` that sees `vars`, resolve
/// the key of deployment `race` at the same moment; what each got.
fn resolve_at_once(
    base: &Path,
    threads: usize,
    vars: &'static [(&'static str, &'static str)],
) -> Vec<ResolvedKey> {
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let base = base.to_path_buf();
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let manager = KeyManager::with_base_dir(&base).with_env_vars(vars.iter().copied());
                barrier.wait();
                manager.resolve("race").unwrap()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn eight_threads_with_their_own_managers_agree_on_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("keys");
    let results = resolve_at_once(&base, RACERS, &[]);
    assert!(results.iter().all(|r| r.key == results[0].key));
    let generated = results
        .iter()
        .filter(|r| matches!(r.source, KeySource::Generated(_)))
        .count();
    assert_eq!(generated, 1);
    assert_eq!(file_names(&base), ["secrets_race.key"]);
    let on_disk = KeyManager::with_base_dir(&base)
        .with_env_vars::<&str, &str>([])
        .get_or_create_key("race")
        .unwrap();
    assert_eq!(on_disk, results[0].key);
}

#[test]
fn concurrent_first_password_use_agrees_on_one_salt() {
    let dir = tempfile::tempdir().unwrap();
    let results = resolve_at_once(dir.path(), 4, &[(ENV_PASSWORD, "pw")]);
    assert!(results.iter().all(|r| r.key == results[0].key));
    let created = results
        .iter()
        .filter(|r| matches!(r.source, KeySource::Password { new_salt: true, .. }))
        .count();
    assert_eq!(created, 1);
    assert_eq!(file_names(dir.path()), ["secrets_race.salt"]);
}

#[test]
fn the_real_environment_is_read_in_order_of_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("keys");
    let key = EncryptionKey::generate();
    let hex = key.to_hex();

    // Nothing set: generated, then read back.
    let first = run_child(&[(CHILD_DIR, base.as_os_str())]);
    assert!(first.contains("source=generated"), "{first}");
    let again = run_child(&[(CHILD_DIR, base.as_os_str())]);
    assert!(again.contains("source=file"), "{again}");
    assert_eq!(first.split(' ').nth(1), again.split(' ').nth(1));

    // The password beats the file; the same password gives the same key in a new process.
    let password = run_child(&[(CHILD_DIR, base.as_os_str()), (ENV_PASSWORD, "pw".as_ref())]);
    assert!(
        password.contains("source=password new_salt=true"),
        "{password}"
    );
    let password_again = run_child(&[(CHILD_DIR, base.as_os_str()), (ENV_PASSWORD, "pw".as_ref())]);
    assert!(
        password_again.contains("new_salt=false"),
        "{password_again}"
    );
    assert_eq!(password.split(' ').nth(1), password_again.split(' ').nth(1));
    assert_ne!(password.split(' ').nth(1), first.split(' ').nth(1));

    // The hex key beats both.
    let env = run_child(&[
        (CHILD_DIR, base.as_os_str()),
        (ENV_PASSWORD, "pw".as_ref()),
        (ENV_KEY, hex.as_str().as_ref()),
    ]);
    assert_eq!(
        env,
        format!("RESULT fingerprint={} source=env", key.fingerprint())
    );

    // A bad hex key is an error naming the variable, not a fallback.
    let bad = run_child(&[(CHILD_DIR, base.as_os_str()), (ENV_KEY, "abc".as_ref())]);
    assert!(bad.starts_with("ERROR ") && bad.contains(ENV_KEY), "{bad}");
}

#[test]
fn the_default_directory_comes_from_zlayer_secrets_dir() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("from-env");
    let result = run_child(&[
        (CHILD_DIR, base.as_os_str()),
        (CHILD_DEFAULT_DIR, "1".as_ref()),
        (ENV_DIR, base.as_os_str()),
    ]);
    assert!(
        result.contains(&format!(
            "source=generated {}",
            base.join("secrets_race.key").display()
        )),
        "{result}"
    );
    assert_eq!(file_names(&base), ["secrets_race.key"]);
}
