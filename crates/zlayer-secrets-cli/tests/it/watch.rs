//! `run --watch`: a program restarted when a secret it was given changes, once per burst,
//! with SIGTERM first; a program that ends by itself ends `run`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use zlayer_secrets_testsupport::server::wait_until;

use crate::{Store, kill};

/// The program under watch: appends `PID VALUE` when it starts and `PID term` when it gets
/// SIGTERM, to the file `$LOG`.
const PROGRAM: &str = r#"echo "$$ $SECRET" >> "$LOG"; trap 'echo "$$ term" >> "$LOG"; exit 0' TERM; while :; do sleep 0.05; done"#;

/// Starts `cmd` with `SECRET=secret` (unless `None`) and `LOG=log`, no input, stdout
/// discarded and stderr piped for [`finish`].
fn start(mut cmd: Command, secret: Option<&str>, log: &Path) -> Child {
    if let Some(secret) = secret {
        cmd.env("SECRET", secret);
    }
    cmd.env("LOG", log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Waits for `child` to end: its exit code and what it wrote to stderr.
fn finish(child: &mut Child) -> (Option<i32>, String) {
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.code(), stderr)
}

fn lines(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Starts `run --watch` through `command` (which adds the backend and scope flags) with
/// `SECRET='$S:NAME'`, then has `rotate` write new values from another process: two
/// quick rotations must cause exactly one restart, with the last value, after SIGTERM to
/// the first program.
pub(crate) fn rotations_restart_the_program_once(
    command: impl Fn(&[&str]) -> Command,
    rotate: impl Fn(&str),
    name: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let reference = format!("$S:{name}");
    let cmd = command(&[
        "run",
        "--watch",
        "--interval",
        "1s",
        "--grace",
        "5s",
        "--",
        "sh",
        "-c",
        PROGRAM,
    ]);
    let mut child = start(cmd, Some(&reference), &log);
    let started = |n: usize| wait_until(Duration::from_secs(20), || lines(&log).len() >= n);
    assert!(started(1), "the program never started: {:?}", lines(&log));
    let first = lines(&log);
    let (pid1, value1) = first[0].split_once(' ').unwrap();
    assert_eq!(value1, "first-value");

    rotate("second-value");
    rotate("third-value");
    assert!(started(3), "no restart: {:?}", lines(&log));
    let seen = lines(&log);
    assert_eq!(seen[1], format!("{pid1} term"), "{seen:?}");
    let (pid2, value2) = seen[2].split_once(' ').unwrap();
    assert_ne!(pid2, pid1, "{seen:?}");
    assert_eq!(value2, "third-value", "{seen:?}");
    // No second restart for the second rotation.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(lines(&log).len(), 3, "{:?}", lines(&log));

    // SIGTERM to `run` reaches the program, whose exit code `run` exits with.
    assert!(kill("-TERM", child.id()));
    let (code, stderr) = finish(&mut child);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(lines(&log)[3], format!("{pid2} term"));
    assert!(stderr.contains("changed: restarting sh"), "{stderr}");
    for value in ["first-value", "second-value", "third-value"] {
        assert!(!stderr.contains(value), "{stderr}");
    }
}

#[test]
fn a_rotation_restarts_the_program_once_with_the_new_value() {
    let s = Store::new();
    s.put("watched", "first-value", &[]);
    rotations_restart_the_program_once(
        |args| s.command(args),
        |value| s.put("watched", value, &[]),
        "watched",
    );
}

#[test]
fn a_program_that_ends_by_itself_ends_run_with_its_code() {
    let s = Store::new();
    s.put("watched", "first-value", &[]);
    let r = s.run_with(
        &[
            "run",
            "--watch",
            "--interval",
            "1s",
            "--",
            "sh",
            "-c",
            "exit 7",
        ],
        None,
        &[("SECRET", "$S:watched")],
    );
    r.code(7);
}

#[test]
fn a_deleted_secret_stops_the_program_and_run_fails() {
    let s = Store::new();
    s.put("watched", "first-value", &[]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let cmd = s.command(&[
        "run",
        "--watch",
        "--interval",
        "1s",
        "--",
        "sh",
        "-c",
        PROGRAM,
    ]);
    let mut child = start(cmd, Some("$S:watched"), &log);
    assert!(wait_until(Duration::from_secs(20), || lines(&log).len() == 1));
    s.run(&["rm", "watched"]).ok();
    let (code, stderr) = finish(&mut child);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("can no longer be resolved"), "{stderr}");
    assert!(lines(&log)[1].ends_with(" term"), "{:?}", lines(&log));
}

#[test]
fn a_program_that_ignores_sigterm_is_killed_after_the_grace_period() {
    let s = Store::new();
    s.put("watched", "first-value", &[]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let stubborn = r#"echo "$$ $SECRET" >> "$LOG"; trap '' TERM; while :; do sleep 0.05; done"#;
    let cmd = s.command(&[
        "run",
        "--watch",
        "--interval",
        "1s",
        "--grace",
        "1s",
        "--",
        "sh",
        "-c",
        stubborn,
    ]);
    let mut child = start(cmd, Some("$S:watched"), &log);
    assert!(wait_until(Duration::from_secs(20), || lines(&log).len() == 1));
    s.put("watched", "second-value", &[]);
    assert!(
        wait_until(Duration::from_secs(20), || lines(&log).len() == 2),
        "{:?}",
        lines(&log)
    );
    let second = lines(&log)[1].clone();
    let (pid2, value2) = second.split_once(' ').unwrap();
    assert_eq!(value2, "second-value");
    // The second program ignores SIGTERM too: it is ended here, and `run` with it.
    assert!(kill("-KILL", pid2.parse().unwrap()));
    let (code, stderr) = finish(&mut child);
    assert_eq!(code, Some(137), "{stderr}");
    assert!(
        stderr.contains("did not end within 1s of SIGTERM: killing it"),
        "{stderr}"
    );
}

#[test]
fn run_all_watches_the_whole_scope() {
    let s = Store::new();
    s.put("A", "first-a", &["--env", "prod"]);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let program =
        r#"echo "$$ ${A-} ${B-unset}" >> "$LOG"; trap 'exit 0' TERM; while :; do sleep 0.05; done"#;
    let cmd = s.command(&[
        "run",
        "--all",
        "--env",
        "prod",
        "--watch",
        "--interval",
        "1s",
        "--",
        "sh",
        "-c",
        program,
    ]);
    let mut child = start(cmd, None, &log);
    assert!(wait_until(Duration::from_secs(20), || lines(&log).len() == 1));
    assert!(lines(&log)[0].ends_with(" first-a unset"));
    s.put("B", "added-b", &["--env", "prod"]);
    assert!(
        wait_until(Duration::from_secs(20), || lines(&log).len() == 2),
        "{:?}",
        lines(&log)
    );
    assert!(
        lines(&log)[1].ends_with(" first-a added-b"),
        "{:?}",
        lines(&log)
    );
    assert!(kill("-TERM", child.id()));
    let (code, stderr) = finish(&mut child);
    assert_eq!(code, Some(0), "{stderr}");
    s.run(&["run", "--watch", "--mount-dir", "x", "--", "true"])
        .code(2);
    s.run(&["run", "--interval", "1s", "--", "true"]).code(2);
}
