//! Several processes writing, reading, listing and deleting the same names at once: no error
//! but the documented `NotFound`, no lost or duplicated version, and a final state that some
//! serial order of the acknowledged operations explains.
//!
//! Each process logs every operation with the wall-clock interval it ran in. Two operations
//! whose intervals do not overlap happened in that order (all processes share the clock), so
//! the checks below only rely on orders the intervals prove.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use zlayer_secrets::sqlite::StoreOptions;
use zlayer_secrets::{
    EncryptionKey, PersistentSecretsStore, SecretsError, SecretsProvider, VersionedSecretsStore,
};

use crate::child::{self, MIX_NAMES, MIX_RETENTION, MIX_SCOPE};
use crate::{Rng, count_from_env, integrity_check, runtime, seed};

/// One logged operation.
#[derive(Debug, Clone)]
struct Op {
    proc_id: u64,
    seq: u64,
    kind: String,
    name: String,
    value: String,
    /// `None` for `NotFound`, else what the operation returned.
    result: Option<String>,
    t0: u64,
    t1: u64,
}

impl Op {
    fn is_write(&self) -> bool {
        matches!(self.kind.as_str(), "set" | "rotate") && self.result.is_some()
    }

    fn is_delete(&self) -> bool {
        self.kind == "delete" && self.result.is_some()
    }

    /// The version a rotation produced.
    fn rotated_to(&self) -> Option<u32> {
        let r = self.result.as_deref()?;
        (self.kind == "rotate").then(|| r.split('/').nth(1).unwrap().parse().unwrap())
    }

    /// `self` certainly happened before `other`.
    fn before(&self, other: &Op) -> bool {
        self.t1 < other.t0
    }
}

fn parse(line: &str) -> Op {
    let f: Vec<&str> = line.split('\t').collect();
    assert_eq!(f[0], "OP", "{line}");
    Op {
        proc_id: f[1].parse().unwrap(),
        seq: f[2].parse().unwrap(),
        kind: f[3].to_owned(),
        name: f[4].to_owned(),
        value: f[5].to_owned(),
        result: (f[6] != "notfound").then(|| f[6].strip_prefix("ok:").unwrap().to_owned()),
        t0: f[7].parse().unwrap(),
        t1: f[8].parse().unwrap(),
    }
}

/// Where the processes of one run work: a temporary directory and the store's path in it
/// (`data/` does not exist yet).
fn store_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir
        .path()
        .join("data")
        .join(zlayer_secrets::sqlite::DB_FILE_NAME);
    (dir, db)
}

/// Runs `procs` processes of `ops` random operations each (`child` mode `mix`) on the store
/// at `db` at once, and returns the operations each logged, after checking that each
/// succeeded.
fn run_mix(
    dir: &Path,
    db: &Path,
    key: &EncryptionKey,
    rng: &mut Rng,
    procs: usize,
    ops: usize,
) -> Vec<Vec<Op>> {
    let children: Vec<_> = (0..procs)
        .map(|p| {
            let out = dir.join(format!("out-{p}"));
            let err = dir.join(format!("err-{p}"));
            let tag = u64::try_from(p).unwrap();
            let child = child::spawn("mix", db, key, rng.next_u64(), tag, ops, &out, &err);
            (child, out, err)
        })
        .collect();
    children
        .into_iter()
        .map(|(mut child, out, err)| {
            let status = child.wait().unwrap();
            let out = std::fs::read_to_string(&out).unwrap();
            assert!(
                status.success(),
                "a process failed ({status}); its last lines:\n{}\n{}",
                out.lines().rev().take(3).collect::<Vec<_>>().join("\n"),
                std::fs::read_to_string(&err).unwrap()
            );
            out.lines()
                .filter(|l| l.starts_with("OP\t"))
                .map(parse)
                .collect()
        })
        .collect()
}

#[test]
fn concurrent_processes_agree_with_a_serial_order() {
    let procs = count_from_env("ZLAYER_RELIABILITY_PROCS", 8);
    let ops = count_from_env("ZLAYER_RELIABILITY_OPS", 200);
    let seed = seed("concurrency");
    let mut rng = Rng::new(seed);
    let (dir, db) = store_dir();
    let key = EncryptionKey::generate();
    let rt = runtime();
    rt.block_on(async {
        PersistentSecretsStore::open(&db, key.clone())
            .await
            .unwrap();
    });

    let mut all = Vec::new();
    for mine in run_mix(dir.path(), &db, &key, &mut rng, procs, ops) {
        assert_eq!(mine.len(), ops, "every operation was logged");
        all.extend(mine);
    }
    assert_eq!(integrity_check(&db), "ok");

    let mut by_name: BTreeMap<String, Vec<Op>> = BTreeMap::new();
    for op in &all {
        by_name.entry(op.name.clone()).or_default().push(op.clone());
    }
    let writes: HashMap<&str, &Op> = all
        .iter()
        .filter(|o| o.is_write())
        .map(|o| (o.value.as_str(), o))
        .collect();

    for (name, ops) in &by_name {
        check_rotations(name, ops);
        check_reads(name, ops, &writes);
    }

    let options = StoreOptions {
        retention: MIX_RETENTION,
        ..StoreOptions::default()
    };
    let finals = rt.block_on(async {
        let store = PersistentSecretsStore::open_with_options(&db, key.clone(), options)
            .await
            .unwrap();
        let mut finals = BTreeMap::new();
        for n in 0..MIX_NAMES {
            let name = format!("n{n}");
            let history = match store.list_versions(MIX_SCOPE, &name).await {
                Ok(versions) => {
                    let mut h = Vec::new();
                    for v in versions {
                        let value = store
                            .get_secret_version(MIX_SCOPE, &name, v.version)
                            .await
                            .unwrap();
                        h.push((v.version, value.expose().to_owned()));
                    }
                    h.sort();
                    Some(h)
                }
                Err(SecretsError::NotFound { .. }) => None,
                Err(e) => panic!("{e}"),
            };
            finals.insert(name, history);
        }
        finals
    });
    for (name, history) in &finals {
        let ops = by_name.get(name).cloned().unwrap_or_default();
        check_final(name, &ops, history.as_deref(), &writes);
    }
    let count = |k: &str| all.iter().filter(|o| o.kind == k).count();
    eprintln!(
        "concurrency: {procs} processes x {ops} operations = {} (set {}, rotate {}, get {}, list {}, delete {}; NotFound {})",
        all.len(),
        count("set"),
        count("rotate"),
        count("get"),
        count("list"),
        count("delete"),
        all.iter().filter(|o| o.result.is_none()).count()
    );
}

/// A delete of `name` may lie between `a` and `b`.
fn delete_possible_between(ops: &[Op], a: &Op, b: &Op) -> bool {
    ops.iter()
        .any(|d| d.is_delete() && !d.before(a) && !b.before(d))
}

/// Each rotation goes from `v` to `v + 1`; two rotations that are certainly ordered, with no
/// delete possibly between them, produce increasing versions (never the same one twice).
fn check_rotations(name: &str, ops: &[Op]) {
    let rotations: Vec<&Op> = ops.iter().filter(|o| o.rotated_to().is_some()).collect();
    for r in &rotations {
        let (prev, new) = r.result.as_deref().unwrap().split_once('/').unwrap();
        let (prev, new): (u32, u32) = (prev.parse().unwrap(), new.parse().unwrap());
        assert_eq!(prev + 1, new, "{name}: rotation {r:?}");
    }
    for a in &rotations {
        for b in &rotations {
            if a.before(b) && !delete_possible_between(ops, a, b) {
                assert!(
                    b.rotated_to() > a.rotated_to(),
                    "{name}: {a:?} then {b:?}: versions do not increase"
                );
            }
        }
    }
}

/// A read returns the value of a write that started before the read ended and that no other
/// write or delete certainly replaced before the read began; `NotFound` only when no write
/// certainly precedes the read without a possible delete in between.
fn check_reads(name: &str, ops: &[Op], writes: &HashMap<&str, &Op>) {
    let changes: Vec<&Op> = ops
        .iter()
        .filter(|o| o.is_write() || o.is_delete())
        .collect();
    for g in ops.iter().filter(|o| o.kind == "get") {
        match &g.result {
            Some(value) => {
                let w = writes
                    .get(value.as_str())
                    .unwrap_or_else(|| panic!("{name}: {g:?} read a value never written"));
                assert_eq!(w.name, *name, "{g:?} read another secret's value");
                assert!(!g.before(w), "{name}: {g:?} read the future write {w:?}");
                for c in &changes {
                    assert!(
                        !(w.before(c) && c.before(g)),
                        "{name}: {g:?} read {w:?}, which {c:?} had replaced (stale read)"
                    );
                }
            }
            None => check_absent(name, g, ops),
        }
    }
    for r in ops
        .iter()
        .filter(|o| matches!(o.kind.as_str(), "rotate" | "delete") && o.result.is_none())
    {
        check_absent(name, r, ops);
    }
}

/// `op` saw the name absent: some delete may have come after every write certainly before it.
fn check_absent(name: &str, op: &Op, ops: &[Op]) {
    for w in ops.iter().filter(|w| w.is_write() && w.before(op)) {
        assert!(
            delete_possible_between(ops, w, op),
            "{name}: {op:?} found nothing, but {w:?} wrote it before with no delete since"
        );
    }
}

/// The final history (all versions are kept) is explained by the acknowledged writes.
fn check_final(
    name: &str,
    ops: &[Op],
    history: Option<&[(u32, String)]>,
    writes: &HashMap<&str, &Op>,
) {
    let last_delete_end = ops.iter().filter(|o| o.is_delete()).map(|o| o.t1).max();
    let certainly_after_deletes: Vec<&Op> = ops
        .iter()
        .filter(|o| o.is_write() && last_delete_end.is_none_or(|t| o.t0 > t))
        .collect();
    let Some(history) = history else {
        assert!(
            certainly_after_deletes.is_empty(),
            "{name} is gone, but {:?} wrote it after every delete",
            certainly_after_deletes[0]
        );
        assert!(
            ops.iter().any(Op::is_delete) || !ops.iter().any(Op::is_write),
            "{name} is gone without a delete"
        );
        return;
    };
    // Versions 1..=N, each the value of one acknowledged write of this name, none twice.
    let mut seen = std::collections::HashSet::new();
    let mut last_seq_of_proc: HashMap<u64, (u64, u32)> = HashMap::new();
    for (i, (version, value)) in history.iter().enumerate() {
        assert_eq!(
            *version,
            u32::try_from(i + 1).unwrap(),
            "{name}: versions have a gap"
        );
        let w = writes
            .get(value.as_str())
            .unwrap_or_else(|| panic!("{name} v{version} holds a value never acknowledged"));
        assert_eq!(w.name, *name);
        assert!(seen.insert(value.clone()), "{name}: {value} stored twice");
        if let Some(v) = w.rotated_to() {
            assert_eq!(v, *version, "{name}: {w:?} reported another version");
        }
        // One process's writes appear in its program order.
        if let Some((seq, v)) = last_seq_of_proc.get(&w.proc_id) {
            assert!(
                w.seq > *seq,
                "{name}: v{version} ({w:?}) is out of order with v{v}"
            );
        }
        last_seq_of_proc.insert(w.proc_id, (w.seq, *version));
    }
    // No acknowledged write certainly after the last delete is lost.
    for w in certainly_after_deletes {
        assert!(seen.contains(&w.value), "{name}: lost write {w:?}");
    }
    // The final value is a write that nothing certainly followed.
    let (_, last) = history.last().unwrap();
    let w = writes[last.as_str()];
    for o in ops.iter().filter(|o| o.is_write() || o.is_delete()) {
        assert!(
            !w.before(o),
            "{name}: final value from {w:?}, but {o:?} came certainly after it"
        );
    }
}

/// Eight processes opening a store that does not exist yet, at the same moment: one creates
/// it, the others open what it created (no second data key, no error), and every write of
/// every process reads back.
#[test]
fn concurrent_first_opens_create_one_store() {
    let procs = count_from_env("ZLAYER_RELIABILITY_PROCS", 8);
    let seed = seed("first-open");
    let mut rng = Rng::new(seed);
    let (dir, db) = store_dir();
    let key = EncryptionKey::generate();
    let ops = 20;
    let all: Vec<Op> = run_mix(dir.path(), &db, &key, &mut rng, procs, ops)
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(all.len(), procs * ops);
    assert_eq!(integrity_check(&db), "ok");
    let writes: HashMap<&str, &Op> = all
        .iter()
        .filter(|o| o.is_write())
        .map(|o| (o.value.as_str(), o))
        .collect();
    for n in 0..MIX_NAMES {
        let name = format!("n{n}");
        let ops: Vec<Op> = all.iter().filter(|o| o.name == name).cloned().collect();
        check_rotations(&name, &ops);
        check_reads(&name, &ops, &writes);
    }
    let rt = runtime();
    rt.block_on(async {
        let store = PersistentSecretsStore::open(&db, key.clone())
            .await
            .unwrap();
        // A process that had made a data key of its own would have written values the
        // others cannot decrypt (their reads would have failed above): each reads back.
        for n in 0..MIX_NAMES {
            match store.get_secret(MIX_SCOPE, &format!("n{n}")).await {
                Ok(_) | Err(SecretsError::NotFound { .. }) => {}
                Err(e) => panic!("n{n}: {e}"),
            }
        }
    });
}

/// Eight processes running `zlayer-secret create same-name --value x` at once on one data
/// directory: exactly one exits 0 and reports version 1, the seven others exit 1 with
/// "already exists", and the secret holds one version.
#[test]
fn concurrent_creates_of_one_name_have_one_winner() {
    let procs = count_from_env("ZLAYER_RELIABILITY_PROCS", 8);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let mut cmd = crate::cli(&data, &[]);
        cmd.args(args);
        crate::run(cmd)
    };
    // The store and its key exist already, so the processes race on the create alone.
    run(&["set", "other", "--value", "y"]).ok();

    let children: Vec<_> = (0..procs)
        .map(|p| {
            let value = format!("value of process {p}");
            let mut cmd = crate::cli(&data, &[]);
            cmd.args(["create", "same-name", "--value", &value])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            (value, cmd.spawn().unwrap())
        })
        .collect();
    let mut winners = Vec::new();
    for (value, child) in children {
        let run: crate::Run = child.wait_with_output().unwrap().into();
        match run.code {
            Some(0) => {
                run.err_contains("created default/same-name (v1)");
                winners.push(value);
            }
            Some(1) => assert!(
                run.err()
                    .contains("secret already exists: default/same-name"),
                "a losing create must say so: {}",
                run.err()
            ),
            other => panic!("exit {other:?}: {}", run.err()),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one create succeeds: {winners:?}");

    assert_eq!(
        run(&["get", "same-name", "--reveal"]).ok().out(),
        winners[0]
    );
    let history = run(&["history", "same-name", "--output", "json"]);
    let history: serde_json::Value = serde_json::from_str(&history.ok().out()).unwrap();
    assert_eq!(history["current"], 1, "{history}");
    assert_eq!(
        history["versions"].as_array().unwrap().len(),
        1,
        "{history}"
    );
}
