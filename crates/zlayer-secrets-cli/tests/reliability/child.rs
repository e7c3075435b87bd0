//! The child processes: write loops over the library that print every write before they try
//! it (`TRY ...`) and once it returned (`ACK ...`), one line per `write(2)` on stdout.
//!
//! Stdout is a file: a line written before the process is killed is in that file.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use zlayer_secrets::sqlite::StoreOptions;
use zlayer_secrets::{
    BatchSecretsStore, EncryptionKey, GitCredentialKind, GitCredentialStore,
    PersistentSecretsStore, Secret, SecretsError, SecretsProvider, SecretsStore, WriteOp,
};

use crate::{Rng, key_from_hex, now_ns, runtime};

/// Selects the child mode.
pub(crate) const MODE_VAR: &str = "ZLAYER_RELIABILITY_CHILD";
const DB_VAR: &str = "ZLAYER_RELIABILITY_DB";
const KEY_VAR: &str = "ZLAYER_RELIABILITY_KEY";
const SEED_VAR: &str = "ZLAYER_RELIABILITY_CHILD_SEED";
const TAG_VAR: &str = "ZLAYER_RELIABILITY_TAG";
const OPS_VAR: &str = "ZLAYER_RELIABILITY_CHILD_OPS";

/// Scope of the `set` mode.
pub(crate) const SET_SCOPE: &str = "crash-set";
/// Scope of the `rotate` mode (its names exist before the first round).
pub(crate) const ROTATE_SCOPE: &str = "crash-rotate";
/// How many names the `set` and `rotate` modes write.
pub(crate) const NAMES: u64 = 20;
/// Entries of one import.
pub(crate) const IMPORT_ENTRIES: usize = 1000;
/// Imports one `import` child runs at most.
const IMPORTS_PER_CHILD: usize = 3;
/// Scope of the concurrency test.
pub(crate) const MIX_SCOPE: &str = "mix";
/// Names of the concurrency test (overlapping between the processes).
pub(crate) const MIX_NAMES: u64 = 5;
/// Versions kept by the concurrency test's processes: all of them, so the final history
/// shows the order of every write since the last delete.
pub(crate) const MIX_RETENTION: u32 = 1_000_000;

/// The value of entry `k` of the import into `scope`.
pub(crate) fn import_value(scope: &str, k: usize) -> String {
    format!("{scope}-value-{k}")
}

/// A command that runs this test binary as a child doing `mode` on the store at `db`.
pub(crate) fn command(mode: &str, db: &Path) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "child_process",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env(MODE_VAR, mode)
    .env(DB_VAR, db);
    cmd
}

/// Starts a child in `mode` with its stdout and stderr in `out` and `err`.
pub(crate) fn spawn(
    mode: &str,
    db: &Path,
    key: &EncryptionKey,
    seed: u64,
    tag: u64,
    ops: usize,
    out: &Path,
    err: &Path,
) -> Child {
    command(mode, db)
        .env(KEY_VAR, key.to_hex().as_str())
        .env(SEED_VAR, seed.to_string())
        .env(TAG_VAR, tag.to_string())
        .env(OPS_VAR, ops.to_string())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(std::fs::File::create(err).unwrap())
        .spawn()
        .unwrap()
}

/// One line to stdout, in one write, flushed.
fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    out.write_all(format!("{line}\n").as_bytes()).unwrap();
    out.flush().unwrap();
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for a child"))
}

/// Runs the child `mode`.
pub(crate) fn main(mode: &str) {
    let db = PathBuf::from(var(DB_VAR));
    if mode == "hold-wal" {
        hold_wal(&db);
        return;
    }
    let key = key_from_hex(&var(KEY_VAR));
    let mut rng = Rng::new(var(SEED_VAR).parse().unwrap());
    let tag: u64 = var(TAG_VAR).parse().unwrap();
    let ops: usize = var(OPS_VAR).parse().unwrap();
    runtime().block_on(async move {
        let mut options = StoreOptions::default();
        if mode == "mix" {
            options.retention = MIX_RETENTION;
        }
        let store = PersistentSecretsStore::open_with_options(&db, key, options)
            .await
            .unwrap();
        emit("READY");
        match mode {
            "set" => set_loop(&store, &mut rng, tag, ops).await,
            "rotate" => rotate_loop(&store, &mut rng, tag, ops).await,
            "import" => import_loop(&store, tag).await,
            "git" => git_loop(&store, &mut rng, tag, ops).await,
            "rekey" => rekey_loop(&store, ops).await,
            "mix" => mix_loop(&store, &mut rng, tag, ops).await,
            other => panic!("unknown child mode {other}"),
        }
        emit("DONE");
    });
}

async fn set_loop(store: &PersistentSecretsStore, rng: &mut Rng, round: u64, ops: usize) {
    for i in 0..ops {
        let name = format!("k{:02}", rng.below(NAMES));
        let value = format!("set-r{round}-i{i}-{}", rng.hex());
        emit(&format!("TRY\t{SET_SCOPE}\t{name}\t{value}"));
        store
            .set_secret(SET_SCOPE, &name, &Secret::new(value))
            .await
            .unwrap();
        emit("ACK");
    }
}

async fn rotate_loop(store: &PersistentSecretsStore, rng: &mut Rng, round: u64, ops: usize) {
    for i in 0..ops {
        let name = format!("k{:02}", rng.below(NAMES));
        let value = format!("rot-r{round}-i{i}-{}", rng.hex());
        emit(&format!("TRY\t{ROTATE_SCOPE}\t{name}\t{value}"));
        let r = store
            .rotate_secret(ROTATE_SCOPE, &name, &Secret::new(value))
            .await
            .unwrap();
        emit(&format!("ACK\t{}", r.new_version));
    }
}

async fn import_loop(store: &PersistentSecretsStore, round: u64) {
    for j in 0..IMPORTS_PER_CHILD {
        let scope = format!("import-r{round}-j{j}");
        let ops: Vec<WriteOp> = (0..IMPORT_ENTRIES)
            .map(|k| WriteOp::Set {
                scope: scope.clone(),
                name: format!("E{k:04}"),
                value: Secret::new(import_value(&scope, k)),
            })
            .collect();
        emit(&format!("TRYIMPORT\t{scope}"));
        store.apply_batch(&ops).await.unwrap();
        emit("ACK");
    }
}

async fn git_loop(store: &PersistentSecretsStore, rng: &mut Rng, round: u64, ops: usize) {
    let creds = GitCredentialStore::new(store.clone());
    for i in 0..ops {
        let value = format!("ghp_r{round}i{i}{}", rng.hex());
        emit(&format!("TRYGIT\t{value}"));
        let cred = creds
            .create(
                &format!("token {round}.{i}"),
                &value,
                GitCredentialKind::Pat,
            )
            .await
            .unwrap();
        emit(&format!("ACK\t{}", cred.id));
    }
}

async fn rekey_loop(store: &PersistentSecretsStore, ops: usize) {
    for i in 0..ops {
        let new_key = EncryptionKey::generate();
        let full = i % 2 == 1;
        emit(&format!(
            "TRYKEY\t{}\t{}",
            new_key.to_hex().as_str(),
            if full { "reencrypt" } else { "rekey" }
        ));
        if full {
            store.reencrypt_all(new_key).await.unwrap();
        } else {
            store.rekey(new_key).await.unwrap();
        }
        emit("ACK");
    }
}

/// The concurrency test's process: `ops` operations on overlapping names, each logged as
/// `OP proc seq kind name value result t0 t1` (times in ns since the epoch).
async fn mix_loop(store: &PersistentSecretsStore, rng: &mut Rng, proc_id: u64, ops: usize) {
    for seq in 0..ops {
        let name = format!("n{}", rng.below(MIX_NAMES));
        let value = format!("p{proc_id}s{seq}");
        let pick = rng.below(100);
        let t0 = now_ns();
        let (kind, result): (&str, Result<String, SecretsError>) = match pick {
            0..30 => (
                "set",
                store
                    .set_secret(MIX_SCOPE, &name, &Secret::new(value.clone()))
                    .await
                    .map(|()| String::new()),
            ),
            30..55 => (
                "rotate",
                store
                    .rotate_secret(MIX_SCOPE, &name, &Secret::new(value.clone()))
                    .await
                    .map(|r| format!("{}/{}", r.previous_version.unwrap_or(0), r.new_version)),
            ),
            55..75 => (
                "get",
                store
                    .get_secret(MIX_SCOPE, &name)
                    .await
                    .map(|s| s.expose().to_owned()),
            ),
            75..90 => (
                "list",
                store.list_secrets(MIX_SCOPE).await.map(|list| {
                    list.iter()
                        .map(|m| format!("{}={}", m.name, m.version))
                        .collect::<Vec<_>>()
                        .join(",")
                }),
            ),
            _ => (
                "delete",
                store
                    .delete_secret(MIX_SCOPE, &name)
                    .await
                    .map(|()| String::new()),
            ),
        };
        let t1 = now_ns();
        let result = match result {
            Ok(r) => format!("ok:{r}"),
            Err(SecretsError::NotFound { .. }) => "notfound".to_owned(),
            Err(e) => {
                emit(&format!("ERR\t{proc_id}\t{seq}\t{kind}\t{name}\t{e}"));
                std::process::exit(3);
            }
        };
        emit(&format!(
            "OP\t{proc_id}\t{seq}\t{kind}\t{name}\t{value}\t{result}\t{t0}\t{t1}"
        ));
    }
}

/// Holds a read transaction on `db` while stdin says `hold`, ends it on `release`, and
/// answers `OK` to each: the WAL of the database then survives the commands that run
/// meanwhile. (In a process of its own, because POSIX locks vanish when the same process
/// closes any other descriptor of the file, as reading snapshots of it does.)
fn hold_wal(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    for line in std::io::stdin().lines() {
        match line.unwrap().as_str() {
            "hold" => {
                conn.execute_batch("BEGIN").unwrap();
                let _: i64 = conn
                    .query_row("SELECT count(*) FROM secrets", [], |r| r.get(0))
                    .unwrap();
            }
            "release" => conn.execute_batch("COMMIT").unwrap(),
            other => panic!("unknown request {other}"),
        }
        emit("OK");
    }
}
