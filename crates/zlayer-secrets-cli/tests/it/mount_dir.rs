//! `run --mount-dir`: secrets as files, their modes, the `*_FILE` variables, and clean-up
//! after every way the program can end.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Stdio;

use crate::Store;

fn setup() -> Store {
    let s = Store::new();
    s.put("db-password", "hunter2\nsecond line", &[]);
    s.put("api-key", "sk-live-123", &[]);
    s
}

/// A report of what the program sees: both variables, the file's and the directory's
/// modes, and the file's content.
const REPORT: &str = r#"printf '%s|%s|%s|' "${DB-unset}" "${DB_FILE-unset}" "${API_FILE-unset}"; stat -c '%a' "$DB_FILE" "$(dirname "$DB_FILE")" | tr '\n' '|'; cat "$DB_FILE""#;

#[test]
fn secrets_become_private_files_named_by_file_variables() {
    let s = setup();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("secrets");
    let shown = dir.to_str().unwrap();
    let env = [
        ("DB", "$S:db-password"),
        ("API", "$S:api-key"),
        ("PLAIN", "p"),
    ];

    let r = s.run_with(
        &[
            "run",
            "--no-masking",
            "--mount-dir",
            shown,
            "--",
            "sh",
            "-c",
            REPORT,
        ],
        None,
        &env,
    );
    assert_eq!(
        r.ok().out(),
        format!("unset|{shown}/DB|{shown}/API|400|700|hunter2\nsecond line")
    );
    assert!(
        !dir.exists(),
        "the directory is removed after the program ends"
    );

    // Masked by default: the program may print the file, the output never shows it.
    let r = s.run_with(
        &[
            "run",
            "--mount-dir",
            shown,
            "--",
            "sh",
            "-c",
            "cat \"$API_FILE\"; echo; echo \"$PLAIN\"",
        ],
        None,
        &env,
    );
    assert_eq!(r.ok().out(), "<concealed>\np\n");
    assert!(!dir.exists());
}

#[test]
fn a_failing_program_still_leaves_nothing() {
    let s = setup();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("secrets");
    let r = s.run_with(
        &[
            "run",
            "--mount-dir",
            dir.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "test -r \"$DB_FILE\" && exit 7",
        ],
        None,
        &[("DB", "$S:db-password")],
    );
    r.code(7);
    assert!(!dir.exists());
    // A program that cannot start: an error, and nothing left either.
    let r = s.run_with(
        &[
            "run",
            "--mount-dir",
            dir.to_str().unwrap(),
            "--",
            "/nonexistent/program",
        ],
        None,
        &[("DB", "$S:db-password")],
    );
    r.code(1);
    assert!(!dir.exists());
}

#[test]
fn sigterm_to_zlayer_secret_reaches_the_program_and_removes_the_files() {
    signal_removes_the_files("TERM", 143);
}

#[test]
fn sigint_to_zlayer_secret_reaches_the_program_and_removes_the_files() {
    signal_removes_the_files("INT", 130);
}

/// Every catchable signal whose default action ends a process: each is forwarded, and the
/// files are removed once the program has died of it.
#[test]
fn every_fatal_catchable_signal_reaches_the_program_and_removes_the_files() {
    let mut signals = vec![
        ("HUP", 1),
        ("QUIT", 3),
        ("USR1", 10),
        ("USR2", 12),
        ("ALRM", 14),
        ("VTALRM", 26),
        ("PROF", 27),
        ("XCPU", 24),
        ("XFSZ", 25),
    ];
    if cfg!(target_os = "linux") {
        signals.extend([("STKFLT", 16), ("IO", 29), ("PWR", 30)]);
    }
    for (signal, number) in signals {
        signal_removes_the_files(signal, 128 + number);
    }
}

/// Sends `signal` to `zlayer-secret run --mount-dir` while its program runs; the program
/// dies of it (exit code `code` = 128 + signal) and the files are gone.
fn signal_removes_the_files(signal: &str, code: i32) {
    let s = setup();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("secrets");
    let mut child = s
        .command(&[
            "run",
            "--mount-dir",
            dir.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            // No core files from the signals whose default action dumps core.
            "ulimit -c 0; echo \"$DB_FILE\"; exec sleep 600",
        ])
        .env("DB", "$S:db-password")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let file = lines.next().unwrap().unwrap();
    assert_eq!(Path::new(&file), dir.join("DB"));
    assert!(
        Path::new(&file).is_file(),
        "the file exists while the program runs"
    );
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // The program died of the forwarded signal.
    assert_eq!(child.wait().unwrap().code(), Some(code), "SIG{signal}");
    assert!(!Path::new(&file).exists());
    assert!(!dir.exists());
}

#[test]
fn an_existing_directory_must_be_empty() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep"), "mine").unwrap();
    let r = s.run_with(
        &[
            "run",
            "--mount-dir",
            dir.path().to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "echo started",
        ],
        None,
        &[("DB", "$S:db-password")],
    );
    r.code(1);
    assert!(r.err().contains("is not empty"), "{}", r.err());
    assert_eq!(r.out(), "", "the program was not started");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep")).unwrap(),
        "mine"
    );

    // An empty directory is used, made private, and kept (it was not ours to remove).
    let empty = tempfile::tempdir().unwrap();
    std::fs::set_permissions(empty.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = s.run_with(
        &[
            "run",
            "--mount-dir",
            empty.path().to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "stat -c %a \"$(dirname \"$DB_FILE\")\"",
        ],
        None,
        &[("DB", "$S:db-password")],
    );
    assert_eq!(r.ok().out(), "700\n");
    assert!(empty.path().is_dir());
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);

    // A path that is a file is refused.
    let r = s.run_with(
        &[
            "run",
            "--mount-dir",
            dir.path().join("keep").to_str().unwrap(),
            "--",
            "true",
        ],
        None,
        &[("DB", "$S:db-password")],
    );
    r.code(1);
    assert!(r.err().contains("not a directory"), "{}", r.err());
}

/// The program has ended but a process it left behind keeps the output pipes open: a
/// signal ends the wait, and the files are removed.
#[test]
fn a_signal_ends_the_wait_for_output_held_by_a_left_behind_process() {
    let s = setup();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("secrets");
    let mut child = s
        .command(&[
            "run",
            "--mount-dir",
            dir.to_str().unwrap(),
            "--",
            "sh",
            "-c",
            "sleep 600 & echo $!; exit 5",
        ])
        .env("DB", "$S:db-password")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let left_behind: u32 = lines.next().unwrap().unwrap().parse().unwrap();
    let kill = |signal: &str, pid: u32| {
        std::process::Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .unwrap()
    };
    // The program has exited; zlayer-secret still waits for the pipe `sleep` holds.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none());
    assert!(kill("-TERM", child.id()).success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::time::Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    kill("-KILL", left_behind);
    let Some(status) = status else {
        child.kill().unwrap();
        child.wait().unwrap();
        panic!("zlayer-secret kept waiting after SIGTERM");
    };
    assert_eq!(status.code(), Some(5));
    assert!(!dir.exists());
}
