//! The audit log under attack and under crashes: entries edited, removed, swapped and cut off
//! with SQLite directly (its append-only triggers dropped first) make `audit verify` fail and
//! name the first bad entry; writers killed with SIGKILL leave exactly one entry per version
//! they wrote.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use rusqlite::Connection;
use serde_json::Value;

use crate::{Rng, bin, cli, count_from_env, run, run_with_stdin, seed};

/// The user the commands run as.
const USER: &str = "audit-tester";

/// Runs `args` against `data_dir` as [`USER`], with the key `key`.
fn zs(data_dir: &Path, key: &str, args: &[&str]) -> Command {
    let mut cmd = cli(data_dir, &[("USER", USER), ("ZLAYER_SECRETS_KEY", key)]);
    cmd.args(args);
    cmd
}

/// A store whose log holds six entries: set, set, reveal, rotate, set, reveal.
fn six_entries(data_dir: &Path, key: &str) {
    for (args, stdin) in [
        (&["set", "a", "--from-stdin"][..], Some("1")),
        (&["set", "b", "--from-stdin"], Some("2")),
        (&["get", "a", "--reveal"], None),
        (&["rotate", "a", "--from-stdin"], Some("3")),
        (&["set", "c", "--from-stdin"], Some("4")),
        (&["get", "c", "--reveal"], None),
    ] {
        let cmd = zs(data_dir, key, args);
        match stdin {
            Some(input) => run_with_stdin(cmd, input.as_bytes()),
            None => run(cmd),
        }
        .ok();
    }
}

/// Opens the database with SQLite and drops the triggers that keep the log append-only.
fn without_triggers(data_dir: &Path) -> Connection {
    let conn = Connection::open(data_dir.join(zlayer_secrets::sqlite::DB_FILE_NAME)).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         DROP TRIGGER audit_log_no_delete;",
    )
    .unwrap();
    conn
}

#[test]
fn tampered_logs_fail_verification_at_the_first_bad_entry() {
    let key = "42".repeat(32);
    let cases: [(&str, &str, &str); 5] = [
        ("untouched", "", ""),
        (
            "a changed field",
            "UPDATE audit_log SET name = 'z' WHERE seq = 3;",
            "entry 3 was altered or moved",
        ),
        (
            "a deleted row",
            "DELETE FROM audit_log WHERE seq = 4;",
            "entry 4 was removed",
        ),
        (
            "two rows swapped",
            "UPDATE audit_log SET seq = 1000 WHERE seq = 2;
             UPDATE audit_log SET seq = 2 WHERE seq = 5;
             UPDATE audit_log SET seq = 5 WHERE seq = 1000;",
            "entry 2 was altered or moved",
        ),
        (
            "the tail cut off",
            "DELETE FROM audit_log WHERE seq >= 5;",
            "entry 5 and every entry after it were removed (the log was truncated)",
        ),
    ];
    for (what, sql, problem) in cases {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        six_entries(&data_dir, &key);
        let conn = without_triggers(&data_dir);
        conn.execute_batch(sql).unwrap();
        drop(conn);

        let verify = run(zs(&data_dir, &key, &["audit", "verify"]));
        if problem.is_empty() {
            let out = verify.ok().out();
            assert!(
                out.starts_with("audit log intact: entries 1..6 (6 entries), head "),
                "{what}: {out}"
            );
            continue;
        }
        verify.code(1);
        assert_eq!(verify.out(), "", "{what}");
        assert_eq!(
            verify.err(),
            format!("audit log damaged: {problem}\n"),
            "{what}"
        );
        let json = run(zs(
            &data_dir,
            &key,
            &["audit", "verify", "--output", "json"],
        ));
        json.code(1);
        let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
        let seq: u64 = problem.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(doc["problem"]["seq"], seq, "{what}: {doc}");
        // The listing still shows what is there: the log is evidence, not hidden.
        run(zs(&data_dir, &key, &["audit"])).ok();
    }
}

#[test]
fn killed_writers_leave_one_entry_per_version_written() {
    let rounds = count_from_env("ZLAYER_AUDIT_KILL_ROUNDS", 6);
    let mut rng = Rng::new(seed("audit kill"));
    let key = "17".repeat(32);
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    // The store exists before the first writer starts.
    run_with_stdin(zs(&data_dir, &key, &["set", "ready", "--from-stdin"]), b"x").ok();

    for round in 0..rounds {
        let name = format!("s{round}");
        let script = "i=1; while [ \"$i\" -le 500 ]; do printf 'v%s' \"$i\" | \"$BIN\" set \
                      \"$NAME\" --from-stdin 2>/dev/null || exit 1; i=$((i + 1)); done";
        let mut child = Command::new("sh")
            .args(["-c", script])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("ZLAYER_SECRETS_DIR", &data_dir)
            .env("ZLAYER_SECRETS_KEY", &key)
            .env("USER", USER)
            .env("BIN", bin())
            .env("NAME", &name)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that one signal reaches the `set` it runs too.
            .process_group(0)
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + rng.below(400)));
        let group = Pid::from_raw(i32::try_from(child.id()).unwrap());
        // The shell and the `set` it is running die together.
        killpg(group, Signal::SIGKILL).unwrap();
        let status = child.wait().unwrap();
        assert!(
            status.code().is_none(),
            "round {round}: the loop ended by itself"
        );

        let history = run(zs(&data_dir, &key, &["history", &name, "--output", "json"]));
        let kept: Vec<u64> = if history.code == Some(0) {
            let doc: Value = serde_json::from_slice(&history.stdout).unwrap();
            doc["versions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["version"].as_u64().unwrap())
                .collect()
        } else {
            // Killed before the first write committed.
            history.code(1).err_contains("not found");
            Vec::new()
        };
        let listed = run(zs(
            &data_dir,
            &key,
            &["audit", "--name", &name, "--output", "json"],
        ));
        let doc: Value = serde_json::from_slice(&listed.ok().stdout).unwrap();
        let mut written: Vec<u64> = Vec::new();
        for entry in doc.as_array().unwrap() {
            assert_eq!(entry["action"], "set", "round {round}: {entry}");
            assert_eq!(entry["outcome"], "ok", "round {round}: {entry}");
            assert_eq!(entry["actor"]["via"], "set", "round {round}: {entry}");
            written.push(entry["version"].as_u64().unwrap());
        }
        // One entry for each version ever written, 1, 2, ... up to the current one, of
        // which the store keeps the newest (its retention).
        let current = kept.iter().copied().max().unwrap_or(0);
        let expected: Vec<u64> = (1..=current).collect();
        assert_eq!(written, expected, "round {round}: history {kept:?}");
        for version in &kept {
            assert_eq!(
                written.iter().filter(|v| *v == version).count(),
                1,
                "round {round}: version {version}"
            );
        }
        eprintln!("audit kill round {round}: {current} versions written");
    }
    run(zs(&data_dir, &key, &["audit", "verify"])).ok();
}
