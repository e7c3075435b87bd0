//! Real processes: several writers at once, and writers killed with SIGKILL.
//!
//! The children are this test binary run again with `ZLAYER_SQLITE_CHILD` naming what to
//! do; [`child_entry`] is where they start. Round counts come from environment variables
//! (defaults in brackets): `ZLAYER_SQLITE_PROCS` [4], `ZLAYER_SQLITE_WRITES` [250],
//! `ZLAYER_SQLITE_KILL_ROUNDS` [20], `ZLAYER_SQLITE_REKEY_ROUNDS` [10].

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zlayer_secrets_core::testkit::steps::{put, value, version};
use zlayer_secrets_core::{
    BatchSecretsStore, Secret, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
    WriteOp,
};
use zlayer_secrets_sqlite::PersistentSecretsStore;

use crate::{env_count, key_a, key_b, new_store, open_a, raw, temp_db};

const MODE_VAR: &str = "ZLAYER_SQLITE_CHILD";
const PATH_VAR: &str = "ZLAYER_SQLITE_CHILD_PATH";
const ID_VAR: &str = "ZLAYER_SQLITE_CHILD_ID";
const COUNT_VAR: &str = "ZLAYER_SQLITE_CHILD_COUNT";

/// The arguments that make this test binary run only [`child_entry`].
fn child_args() -> [&'static str; 5] {
    [
        "procs::child_entry",
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ]
}

/// A command that runs this test binary as a child doing `mode` on the store at `path`.
pub(crate) fn child_command(mode: &str, path: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(child_args())
        .env(MODE_VAR, mode)
        .env(PATH_VAR, path)
        .stderr(Stdio::inherit());
    cmd
}

/// Like [`child_command`], started by a shell that first sets the umask to 000 and writes
/// the umask it then has to `umask_file`.
pub(crate) fn child_command_umask_zero(mode: &str, path: &Path, umask_file: &Path) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(r#"umask 000; umask > "$1"; shift; exec "$@""#)
        .arg("sh")
        .arg(umask_file)
        .arg(std::env::current_exe().unwrap())
        .args(child_args())
        .env(MODE_VAR, mode)
        .env(PATH_VAR, path)
        .stderr(Stdio::inherit());
    cmd
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").unwrap();
    out.flush().unwrap();
}

/// Opens with whichever of the two test keys locks the store now.
async fn open_either(path: &Path) -> (PersistentSecretsStore, bool) {
    match PersistentSecretsStore::open(path, key_a()).await {
        Ok(store) => (store, true),
        Err(SecretsError::WrongKey { .. }) => (
            PersistentSecretsStore::open(path, key_b()).await.unwrap(),
            false,
        ),
        Err(e) => panic!("opening the store: {e}"),
    }
}

/// Where child processes start. Does nothing in a normal test run (the variable is unset).
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(MODE_VAR) else {
        return;
    };
    let path = std::path::PathBuf::from(std::env::var(PATH_VAR).unwrap());
    let id = std::env::var(ID_VAR).unwrap_or_default();
    let count = env_count(COUNT_VAR, 0);
    zlayer_secrets_testsupport::block_on(async move {
        match mode.as_str() {
            "hold-open" => {
                let store = open_a(&path).await;
                put(&store, "s", "n", "v").await;
                say("READY");
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).unwrap();
            }
            "hammer-one" => {
                let store = open_a(&path).await;
                for i in 0..count {
                    put(&store, "race", "shared", format!("{id}-{i}")).await;
                }
            }
            "hammer-many" => {
                let store = open_a(&path).await;
                for i in 0..count {
                    store
                        .set_secret(
                            "race",
                            &format!("p{id}-{i}"),
                            &Secret::new(format!("{id}-{i}")),
                        )
                        .await
                        .unwrap();
                }
            }
            "write-loop" => {
                let store = open_a(&path).await;
                for i in 0u64.. {
                    put(&store, "kill", "counter", i.to_string()).await;
                    store
                        .set_secret(
                            "kill",
                            &format!("r{id}-k{i}"),
                            &Secret::new(format!("value-{i}")),
                        )
                        .await
                        .unwrap();
                    store.apply_batch(&batch_of(i)).await.unwrap();
                    say(&format!("COMMITTED {i}"));
                }
            }
            "rekey-loop" => {
                let (store, mut on_a) = open_either(&path).await;
                for i in 0u64.. {
                    let other = if on_a { key_b() } else { key_a() };
                    if i % 2 == 0 {
                        store.rekey(other).await.unwrap();
                    } else {
                        store.reencrypt_all(other).await.unwrap();
                    }
                    on_a = !on_a;
                    say(&format!("NOW {}", if on_a { "A" } else { "B" }));
                }
            }
            other => panic!("unknown child mode {other}"),
        }
    });
}

/// The batch written in round `i` of the write loop: the same value under ten names.
fn batch_of(i: u64) -> Vec<WriteOp> {
    (0..10)
        .map(|j| WriteOp::Set {
            scope: "batch".into(),
            name: format!("b{j}"),
            value: Secret::new(format!("batch-{i}")),
        })
        .collect()
}

fn random_below(limit: u64) -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now()) % limit.max(1)
}

/// Starts `cmd` with its stdout collected line by line in the background.
fn spawn_collecting(
    mut cmd: Command,
) -> (Child, Arc<Mutex<Vec<String>>>, std::thread::JoinHandle<()>) {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    (child, lines, reader)
}

fn integrity_ok(path: &Path) {
    let result: String = raw(path)
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(result, "ok");
    let fk: Option<String> = raw(path)
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .ok();
    assert_eq!(fk, None, "no dangling versions");
}

/// Runs `procs` children doing `mode` on the store at `path` at once, each told its id and
/// to make `writes` writes, and waits until each has succeeded.
fn run_writers(mode: &str, path: &Path, procs: u64, writes: u64) {
    let children: Vec<Child> = (0..procs)
        .map(|id| {
            child_command(mode, path)
                .env(ID_VAR, id.to_string())
                .env(COUNT_VAR, writes.to_string())
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a writer failed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_writing_one_secret_lose_no_update() {
    let procs = env_count("ZLAYER_SQLITE_PROCS", 4);
    let writes = env_count("ZLAYER_SQLITE_WRITES", 250);
    let (_dir, path, store) = new_store().await;
    put(&store, "race", "shared", "start").await;

    run_writers("hammer-one", &path, procs, writes);
    let current = version(&store, "race", "shared").await;
    assert_eq!(u64::from(current), 1 + procs * writes);
    // The last value is the last write of one of the writers.
    let last = store.get_secret("race", "shared").await.unwrap();
    assert!(
        last.expose().ends_with(&format!("-{}", writes - 1)),
        "{:?}",
        last.len()
    );
    integrity_ok(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_writing_different_secrets_lose_none() {
    let procs = env_count("ZLAYER_SQLITE_PROCS", 4);
    let writes = env_count("ZLAYER_SQLITE_WRITES", 250);
    let (_dir, path, store) = new_store().await;

    run_writers("hammer-many", &path, procs, writes);
    let listed = store.list_secrets("race").await.unwrap();
    assert_eq!(listed.len() as u64, procs * writes);
    let names: Vec<String> = listed.iter().map(|m| m.name.clone()).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let values = store.get_secrets("race", &refs).await.unwrap();
    for id in 0..procs {
        for i in 0..writes {
            assert_eq!(values[&format!("p{id}-{i}")].expose(), format!("{id}-{i}"));
        }
    }
    integrity_ok(&path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_killed_at_random_moments_loses_no_committed_write() {
    let rounds = env_count("ZLAYER_SQLITE_KILL_ROUNDS", 20);
    let (_dir, path) = temp_db();
    drop(open_a(&path).await);
    let mut total_committed = 0usize;
    let mut last_counter: Option<u64> = None;
    for round in 0..rounds {
        let mut cmd = child_command("write-loop", &path);
        cmd.env(ID_VAR, round.to_string());
        let (mut child, lines, reader) = spawn_collecting(cmd);
        std::thread::sleep(Duration::from_millis(20 + random_below(400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();

        let committed: Vec<u64> = lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| l.strip_prefix("COMMITTED "))
            .map(|n| n.parse().unwrap())
            .collect();
        total_committed += committed.len();

        integrity_ok(&path);
        let store = open_a(&path).await;
        for i in &committed {
            let got = store
                .get_secret("kill", &format!("r{round}-k{i}"))
                .await
                .unwrap_or_else(|e| panic!("round {round}: reported write {i} lost: {e}"));
            assert_eq!(got.expose(), format!("value-{i}"));
        }
        if let Some(&last) = committed.last() {
            let counter: u64 = value(&store, "kill", "counter").await.parse().unwrap();
            assert!(
                counter >= last,
                "round {round}: counter {counter} < reported {last}"
            );
            last_counter = Some(counter);
        }
        // Batches are all-or-nothing even when the process dies inside one.
        let names: Vec<String> = (0..10).map(|j| format!("b{j}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let batch = store.get_secrets("batch", &refs).await.unwrap();
        if !batch.is_empty() {
            assert_eq!(batch.len(), 10, "round {round}: a batch was half applied");
            let first = batch["b0"].expose().to_owned();
            assert!(
                batch.values().all(|v| v.expose() == first),
                "round {round}: mixed batch"
            );
            if let Some(&last) = committed.last() {
                let n: u64 = first.trim_start_matches("batch-").parse().unwrap();
                assert!(n >= last, "round {round}: batch {n} < reported {last}");
            }
        }
    }
    eprintln!("{rounds} kills; {total_committed} writes reported committed, all found");
    assert!(
        total_committed > 0,
        "no child ever committed: the test proved nothing"
    );
    assert!(last_counter.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekeying_killed_at_random_moments_keeps_one_key_and_every_value() {
    let rounds = env_count("ZLAYER_SQLITE_REKEY_ROUNDS", 10);
    let (_dir, path, store) = new_store().await;
    let mut expected: HashMap<(String, u32), String> = HashMap::new();
    for v in 1..=3u32 {
        let ops: Vec<WriteOp> = (0..300)
            .map(|i| {
                let value = format!("value-{i}-{v}");
                expected.insert((format!("n{i}"), v), value.clone());
                WriteOp::Set {
                    scope: "rk".into(),
                    name: format!("n{i}"),
                    value: Secret::new(value),
                }
            })
            .collect();
        store.apply_batch(&ops).await.unwrap();
    }
    drop(store);

    let mut switches = 0usize;
    for round in 0..rounds {
        let (mut child, lines, reader) = spawn_collecting(child_command("rekey-loop", &path));
        std::thread::sleep(Duration::from_millis(30 + random_below(600)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        switches += lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with("NOW "))
            .count();

        integrity_ok(&path);
        let with_a = PersistentSecretsStore::open(&path, key_a()).await;
        let with_b = PersistentSecretsStore::open(&path, key_b()).await;
        let store = match (with_a, with_b) {
            (Ok(s), Err(SecretsError::WrongKey { .. }))
            | (Err(SecretsError::WrongKey { .. }), Ok(s)) => s,
            (a, b) => panic!(
                "round {round}: exactly one key must open the store, got {:?} and {:?}",
                a.map(drop),
                b.map(drop)
            ),
        };
        for ((name, version), value) in &expected {
            let got = store
                .get_secret_version("rk", name, *version)
                .await
                .unwrap_or_else(|e| panic!("round {round}: {name} v{version}: {e}"));
            assert_eq!(got.expose(), value, "round {round}");
        }
    }
    eprintln!("{rounds} kills during re-keying; {switches} key changes completed");
    assert!(
        switches > 0,
        "no key change ever completed: the test proved little"
    );
}
