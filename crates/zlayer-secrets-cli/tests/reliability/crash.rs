//! Writers killed with SIGKILL at random points: the store opens afterwards, SQLite finds it
//! intact, every acknowledged write reads back, and an interrupted import is all or nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::Duration;

use zlayer_secrets::{
    EncryptionKey, GitCredentialStore, LocalEnvScopes, PersistentSecretsStore, Secret,
    SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
};

use crate::child::{self, IMPORT_ENTRIES, NAMES, ROTATE_SCOPE, SET_SCOPE, import_value};
use crate::{Rng, cli, count_from_env, integrity_check, key_from_hex, runtime, seed};

/// The kinds of writer, taken in turn.
const KINDS: [&str; 6] = ["set", "rotate", "import", "import-cli", "git", "rekey"];

/// The longest wait before the kill, per kind, in milliseconds.
fn max_delay_ms(kind: &str) -> u64 {
    match kind {
        "import" | "rekey" => 300,
        "import-cli" => 900,
        _ => 150,
    }
}

/// What a child printed: acknowledged writes and the one it was doing when killed.
#[derive(Debug, Default)]
struct Log {
    /// `(TRY fields, ACK fields)` of every acknowledged write.
    acked: Vec<(Vec<String>, Vec<String>)>,
    /// The TRY fields of the write in flight at the kill, if any.
    pending: Option<Vec<String>>,
}

fn parse(out: &str) -> Log {
    let mut log = Log::default();
    for line in out.lines() {
        let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
        if fields[0].starts_with("TRY") {
            assert!(log.pending.is_none(), "two TRY lines in a row:\n{out}");
            log.pending = Some(fields);
        } else if fields[0] == "ACK" {
            let tried = log.pending.take().expect("an ACK follows a TRY");
            log.acked.push((tried, fields));
        }
    }
    log
}

/// What the store must hold, built from the acknowledgements of every round so far.
#[derive(Default)]
struct Model {
    key: Option<EncryptionKey>,
    set: BTreeMap<String, String>,
    rotate: BTreeMap<String, (String, u32)>,
    /// Import scopes and whether they must be present (`false`: interrupted and absent).
    imports: BTreeMap<String, bool>,
    git: Vec<(String, String)>,
    /// Git credentials created by an interrupted (unacknowledged) call that did commit.
    git_unacked: usize,
}

#[derive(Debug, Default)]
struct Stats {
    rounds: usize,
    acked_writes: usize,
    interrupted: BTreeMap<&'static str, usize>,
    imports_interrupted_absent: usize,
    imports_interrupted_present: usize,
    /// Writes in flight at the kill that had committed (found in the store afterwards).
    landed_unacknowledged: usize,
}

#[test]
fn killed_writers_lose_nothing_acknowledged() {
    let rounds = count_from_env("ZLAYER_RELIABILITY_ROUNDS", 50);
    let seed = seed("crash");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let db = data_dir.join(zlayer_secrets::sqlite::DB_FILE_NAME);
    let rt = runtime();

    let mut model = Model {
        key: Some(EncryptionKey::generate()),
        ..Model::default()
    };
    // The rotate writer needs existing names.
    rt.block_on(async {
        let store = PersistentSecretsStore::open(&db, model.key.clone().unwrap())
            .await
            .unwrap();
        for i in 0..NAMES {
            let name = format!("k{i:02}");
            store
                .set_secret(ROTATE_SCOPE, &name, &Secret::new("initial"))
                .await
                .unwrap();
            model.rotate.insert(name, ("initial".to_owned(), 1));
        }
    });

    let mut tally = Stats::default();
    for round in 0..rounds {
        let kind = KINDS[round % KINDS.len()];
        let delay = Duration::from_millis(rng.below(max_delay_ms(kind)));
        let out = dir.path().join(format!("out-{round}"));
        let err = dir.path().join(format!("err-{round}"));
        let key = model.key.clone().unwrap();
        let round_tag = u64::try_from(round).unwrap();
        let (status, log, cli_scope) = if kind == "import-cli" {
            let env = format!("cli{round}");
            let file = dir.path().join(format!("import-{round}.env"));
            let body: String = (0..IMPORT_ENTRIES)
                .map(|k| format!("E{k:04}={}\n", import_value(&env, k)))
                .collect();
            std::fs::write(&file, body).unwrap();
            let mut cmd = cli(&data_dir, &[("ZLAYER_SECRETS_KEY", key.to_hex().as_str())]);
            cmd.arg("import")
                .arg(&file)
                .args(["--env", &env])
                .stdout(std::fs::File::create(&out).unwrap())
                .stderr(std::fs::File::create(&err).unwrap());
            let child = cmd.spawn().unwrap();
            let status = kill_after(child, delay);
            let scope = LocalEnvScopes::scope_for(None, &env);
            (status, Log::default(), Some(scope))
        } else {
            let ops = 100_000;
            let child = child::spawn(kind, &db, &key, rng.next_u64(), round_tag, ops, &out, &err);
            let child = wait_ready(child, &out, &err);
            let status = kill_after(child, delay);
            let log = parse(&std::fs::read_to_string(&out).unwrap());
            (status, log, None)
        };
        let stderr = std::fs::read_to_string(&err).unwrap();
        let killed = status.code().is_none();
        assert!(
            killed || status.success(),
            "round {round} ({kind}): the writer failed by itself: {status}\n{stderr}"
        );
        if log.pending.is_some() {
            *tally.interrupted.entry(kind).or_default() += 1;
        }
        tally.acked_writes += log.acked.len();
        rt.block_on(check_round(
            round, kind, &db, &mut model, &log, cli_scope, killed, &mut tally,
        ));
        tally.rounds += 1;
    }
    // A last full pass over every import: each value, not only the counts.
    rt.block_on(async {
        let store = PersistentSecretsStore::open(&db, model.key.clone().unwrap())
            .await
            .unwrap();
        for (scope, present) in &model.imports {
            check_import(&store, scope, *present).await;
        }
    });
    eprintln!("crash: {tally:?}");
    assert_eq!(tally.rounds, rounds);
}

/// Waits until the child has opened the store (its `READY` line).
fn wait_ready(mut child: Child, out: &Path, err: &Path) -> Child {
    loop {
        // The test harness prints its own lines first.
        let ready = std::fs::read_to_string(out).unwrap().contains("READY\n");
        if ready {
            return child;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the child exited before opening the store: {status}\n{}",
                std::fs::read_to_string(err).unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sends SIGKILL after `delay` (unless the child finished first) and reaps it.
fn kill_after(mut child: Child, delay: Duration) -> ExitStatus {
    std::thread::sleep(delay);
    // `Child::kill` is SIGKILL on Unix; it fails only if the child was already reaped.
    let _ = child.kill();
    child.wait().unwrap()
}

/// Opens the store after a round, with the key the model expects or, after an interrupted
/// re-key, the new one; exactly one of them must open it.
async fn open_after(
    db: &Path,
    model: &mut Model,
    log: &Log,
    stats: &mut Stats,
) -> PersistentSecretsStore {
    let mut key = model.key.clone().unwrap();
    for (tried, _) in &log.acked {
        if tried[0] == "TRYKEY" {
            key = key_from_hex(&tried[1]);
        }
    }
    let pending_key = log
        .pending
        .as_ref()
        .filter(|p| p[0] == "TRYKEY")
        .map(|p| key_from_hex(&p[1]));
    let store = match PersistentSecretsStore::open(db, key.clone()).await {
        Ok(store) => {
            if let Some(other) = pending_key {
                let e = PersistentSecretsStore::open(db, other).await.unwrap_err();
                assert!(matches!(e, SecretsError::WrongKey { .. }), "{e}");
            }
            store
        }
        Err(SecretsError::WrongKey { .. }) if pending_key.is_some() => {
            key = pending_key.unwrap();
            stats.landed_unacknowledged += 1;
            PersistentSecretsStore::open(db, key.clone()).await.unwrap()
        }
        Err(e) => panic!("the store does not open after the kill: {e}"),
    };
    model.key = Some(key);
    store
}

#[allow(clippy::too_many_arguments)] // one round's whole context, passed once
async fn check_round(
    round: usize,
    kind: &str,
    db: &Path,
    model: &mut Model,
    log: &Log,
    cli_scope: Option<String>,
    killed: bool,
    stats: &mut Stats,
) {
    let store = open_after(db, model, log, stats).await;
    assert_eq!(integrity_check(db), "ok", "round {round} ({kind})");

    // Acknowledged writes update the model; the write in flight may or may not have landed.
    let mut in_flight: Option<(String, String, String)> = None;
    for (tried, ack) in &log.acked {
        match tried[0].as_str() {
            "TRY" if tried[1] == SET_SCOPE => {
                model.set.insert(tried[2].clone(), tried[3].clone());
            }
            "TRY" => {
                let version = ack[1].parse().unwrap();
                model
                    .rotate
                    .insert(tried[2].clone(), (tried[3].clone(), version));
            }
            "TRYIMPORT" => {
                model.imports.insert(tried[1].clone(), true);
            }
            "TRYGIT" => model.git.push((ack[1].clone(), tried[1].clone())),
            _ => {}
        }
    }
    if let Some(p) = &log.pending {
        match p[0].as_str() {
            "TRY" => in_flight = Some((p[1].clone(), p[2].clone(), p[3].clone())),
            "TRYIMPORT" => {
                let n = store.list_secrets(&p[1]).await.unwrap().len();
                assert!(
                    n == 0 || n == IMPORT_ENTRIES,
                    "round {round}: interrupted import {} left {n} of {IMPORT_ENTRIES} entries",
                    p[1]
                );
                if n == 0 {
                    stats.imports_interrupted_absent += 1;
                } else {
                    stats.imports_interrupted_present += 1;
                }
                model.imports.insert(p[1].clone(), n == IMPORT_ENTRIES);
                check_import(&store, &p[1], n == IMPORT_ENTRIES).await;
            }
            _ => {}
        }
    }
    if let Some(scope) = cli_scope {
        let n = store.list_secrets(&scope).await.unwrap().len();
        if killed {
            assert!(
                n == 0 || n == IMPORT_ENTRIES,
                "round {round}: killed CLI import left {n} of {IMPORT_ENTRIES} entries"
            );
            *stats.interrupted.entry("import-cli").or_default() += 1;
            if n == 0 {
                stats.imports_interrupted_absent += 1;
            } else {
                stats.imports_interrupted_present += 1;
            }
        } else {
            assert_eq!(n, IMPORT_ENTRIES, "round {round}: finished CLI import");
        }
        model.imports.insert(scope.clone(), n == IMPORT_ENTRIES);
        check_import(&store, &scope, n == IMPORT_ENTRIES).await;
    }

    // Every acknowledged value reads back (the write in flight may have replaced it).
    for (name, want) in model.set.clone() {
        let got = store.get_secret(SET_SCOPE, &name).await.unwrap();
        let got = got.expose();
        if got != want {
            let Some((_, n, v)) = in_flight.as_ref().filter(|(s, ..)| s == SET_SCOPE) else {
                panic!("round {round}: {SET_SCOPE}/{name} lost its acknowledged value");
            };
            assert!(
                n == &name && v == got,
                "round {round}: {SET_SCOPE}/{name} holds a value never written"
            );
            model.set.insert(name, got.to_owned());
            stats.landed_unacknowledged += 1;
        }
    }
    if let Some((s, name, v)) = &in_flight
        && s == SET_SCOPE
        && !model.set.contains_key(name)
    {
        match store.get_secret(SET_SCOPE, name).await {
            Ok(got) => {
                assert_eq!(got.expose(), v);
                model.set.insert(name.clone(), v.clone());
                stats.landed_unacknowledged += 1;
            }
            Err(SecretsError::NotFound { .. }) => {}
            Err(e) => panic!("round {round}: {e}"),
        }
    }
    for (name, (want, version)) in model.rotate.clone() {
        let meta = store.get_metadata(ROTATE_SCOPE, &name).await.unwrap();
        let got = store.get_secret(ROTATE_SCOPE, &name).await.unwrap();
        if meta.version == version {
            assert_eq!(
                got.expose(),
                want,
                "round {round}: {ROTATE_SCOPE}/{name} v{version}"
            );
        } else {
            let Some((_, n, v)) = in_flight.as_ref().filter(|(s, ..)| s == ROTATE_SCOPE) else {
                panic!(
                    "round {round}: {ROTATE_SCOPE}/{name} is at v{}, acknowledged v{version}",
                    meta.version
                );
            };
            assert!(
                n == &name && meta.version == version + 1 && got.expose() == v,
                "round {round}: {ROTATE_SCOPE}/{name} is at v{} with a value never written",
                meta.version
            );
            // The acknowledged version is still in the history.
            let old = store
                .get_secret_version(ROTATE_SCOPE, &name, version)
                .await
                .unwrap();
            assert_eq!(old.expose(), want);
            model
                .rotate
                .insert(name, (got.expose().to_owned(), meta.version));
            stats.landed_unacknowledged += 1;
        }
    }
    for (scope, present) in model.imports.clone() {
        let n = store.list_secrets(&scope).await.unwrap().len();
        assert_eq!(
            n,
            if present { IMPORT_ENTRIES } else { 0 },
            "round {round}: import {scope}"
        );
    }
    let creds = GitCredentialStore::new(store.clone());
    for (id, value) in &model.git {
        assert_eq!(
            creds.get_value(id).await.unwrap().expose(),
            value,
            "round {round}: git {id}"
        );
    }
    let listed = creds.list().await.unwrap().len();
    let known = model.git.len() + model.git_unacked;
    let pending_git = log.pending.as_ref().is_some_and(|p| p[0] == "TRYGIT");
    assert!(
        listed == known || (pending_git && listed == known + 1),
        "round {round}: {listed} Git credentials, {known} known"
    );
    if listed > known {
        stats.landed_unacknowledged += 1;
    }
    model.git_unacked = listed - model.git.len();
}

/// An import is complete (every entry with its value) or entirely absent.
async fn check_import(store: &PersistentSecretsStore, scope: &str, present: bool) {
    let names: Vec<String> = (0..IMPORT_ENTRIES).map(|k| format!("E{k:04}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    if present {
        let got = store.get_secrets(scope, &refs).await.unwrap();
        assert_eq!(got.len(), IMPORT_ENTRIES, "import {scope}");
        for (k, name) in names.iter().enumerate() {
            assert_eq!(
                got[name].expose(),
                import_value(scope_tail(scope), k),
                "{scope}/{name}"
            );
        }
    } else {
        assert!(
            store.list_secrets(scope).await.unwrap().is_empty(),
            "import {scope}"
        );
    }
}

/// The name the import values were made from: the environment for a CLI import (scope
/// `env:NAME`), else the scope itself.
fn scope_tail(scope: &str) -> &str {
    scope.strip_prefix("env:").unwrap_or(scope)
}

/// `zlayer-secret key rotate` (half of the rounds with `--reencrypt`) killed at random points,
/// against a store locked by its key file: afterwards the next command opens the store (with
/// the key file, or by finishing the interrupted rotation), every value reads back, SQLite
/// finds the file intact, and the files stay 0600.
#[test]
fn killed_key_rotations_never_lock_the_store_out() {
    use std::os::unix::fs::PermissionsExt as _;

    let rounds = count_from_env("ZLAYER_RELIABILITY_ROUNDS", 50) / 2;
    let seed = seed("key-rotate");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join(zlayer_secrets::sqlite::DB_FILE_NAME);
    let file = dir.path().join("values.env");
    let values: BTreeMap<String, String> = (0..200)
        .map(|k| {
            (
                format!("K{k:03}"),
                format!("key-rotate-value-{k}-{}", rng.hex()),
            )
        })
        .collect();
    let body: String = values.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(&file, body).unwrap();
    let mut import = cli(&data, &[]);
    import.arg("import").arg(&file);
    crate::run(import).ok();

    let (mut killed, mut finished, mut completed_by_next) = (0, 0, 0);
    for round in 0..rounds {
        let mut cmd = cli(&data, &[]);
        cmd.args(["key", "rotate"]);
        if round % 2 == 1 {
            cmd.arg("--reencrypt");
        }
        let child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let status = kill_after(child, Duration::from_millis(rng.below(150)));
        if status.code().is_none() {
            killed += 1;
        } else {
            assert!(
                status.success(),
                "round {round}: key rotate failed by itself"
            );
            finished += 1;
        }
        let export = || {
            let mut export = cli(&data, &[]);
            export.args(["export", "--format", "json"]);
            crate::run(export)
        };
        let mut r = export();
        if r.code == Some(1) && r.err().contains("unfinished key rotation") {
            // Killed after re-keying the store, before replacing the key file: other verbs
            // refuse the store, and `key rotate` finishes the rotation.
            assert!(
                r.out().is_empty(),
                "round {round}: a refused export printed"
            );
            let mut rotate = cli(&data, &[]);
            rotate.args(["key", "rotate"]);
            let finish = crate::run(rotate);
            finish.ok();
            assert!(
                finish
                    .err()
                    .contains("finished an interrupted key rotation"),
                "round {round}: {}",
                finish.err()
            );
            completed_by_next += 1;
            r = export();
        }
        r.ok();
        let got: BTreeMap<String, String> = serde_json::from_slice(&r.stdout).unwrap();
        assert!(
            got == values,
            "round {round}: the values changed after the kill"
        );
        assert_eq!(integrity_check(&db), "ok", "round {round}");
        for entry in std::fs::read_dir(&data).unwrap() {
            let entry = entry.unwrap();
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "round {round}: {:?}", entry.file_name());
        }
    }
    eprintln!(
        "key-rotate: {rounds} rounds, {killed} killed ({completed_by_next} rotations left half \
         done and finished by `key rotate`), {finished} finished before the kill"
    );
}
