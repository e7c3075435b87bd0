//! `run --mount-dir`: secrets as files, their modes, the `*_FILE` variables, and clean-up
//! after every way the program can end.

use std::io::{BufReader, Lines};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, ChildStdout, Stdio};

use crate::{Run, Store, kill, spawn_lines};

fn setup() -> Store {
    let s = Store::new();
    s.put("db-password", "hunter2\nsecond line", &[]);
    s.put("api-key", "sk-live-123", &[]);
    s
}

/// The variable the runs below give the program: `DB` refers to `db-password`.
const DB_REF: (&str, &str) = ("DB", "$S:db-password");

/// `run --mount-dir DIR -- PROGRAM...` with [`DB_REF`], to its end.
fn run_mounted(s: &Store, dir: &Path, program: &[&str]) -> Run {
    let mut args = vec!["run", "--mount-dir", dir.to_str().unwrap(), "--"];
    args.extend_from_slice(program);
    s.run_with(&args, None, &[DB_REF])
}

/// Starts `run --mount-dir DIR -- sh -c SCRIPT` with [`DB_REF`]; see [`spawn_lines`].
fn spawn_mounted(
    s: &Store,
    dir: &Path,
    script: &str,
    stderr: Stdio,
) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut cmd = s.command(&["run", "--mount-dir", dir.to_str().unwrap(), "--"]);
    cmd.args(["sh", "-c", script]).env(DB_REF.0, DB_REF.1);
    spawn_lines(cmd, stderr)
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

    let r = s.run_script(&["--no-masking", "--mount-dir", shown], REPORT, &env);
    assert_eq!(
        r.ok().out(),
        format!("unset|{shown}/DB|{shown}/API|400|700|hunter2\nsecond line")
    );
    assert!(
        !dir.exists(),
        "the directory is removed after the program ends"
    );

    // Masked by default: the program may print the file, the output never shows it.
    let r = s.run_script(
        &["--mount-dir", shown],
        "cat \"$API_FILE\"; echo; echo \"$PLAIN\"",
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
    let r = run_mounted(&s, &dir, &["sh", "-c", "test -r \"$DB_FILE\" && exit 7"]);
    r.code(7);
    assert!(!dir.exists());
    // A program that cannot start: 127 as in a shell, and nothing left either.
    let r = run_mounted(&s, &dir, &["/nonexistent/program"]);
    r.code(127).err_contains("command not found");
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
    // No core files from the signals whose default action dumps core.
    let script = "ulimit -c 0; echo \"$DB_FILE\"; exec sleep 600";
    let (mut child, mut lines) = spawn_mounted(&s, &dir, script, Stdio::piped());
    let file = lines.next().unwrap().unwrap();
    assert_eq!(Path::new(&file), dir.join("DB"));
    assert!(
        Path::new(&file).is_file(),
        "the file exists while the program runs"
    );
    assert!(kill(&format!("-{signal}"), child.id()));
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
    let r = run_mounted(&s, dir.path(), &["sh", "-c", "echo started"]);
    r.code(1).err_contains("is not empty");
    assert_eq!(r.out(), "", "the program was not started");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep")).unwrap(),
        "mine"
    );

    // An empty directory is used, made private, and kept (it was not ours to remove).
    let empty = tempfile::tempdir().unwrap();
    std::fs::set_permissions(empty.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let r = run_mounted(
        &s,
        empty.path(),
        &["sh", "-c", "stat -c %a \"$(dirname \"$DB_FILE\")\""],
    );
    assert_eq!(r.ok().out(), "700\n");
    assert!(empty.path().is_dir());
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);

    // A path that is a file is refused.
    let r = run_mounted(&s, &dir.path().join("keep"), &["true"]);
    r.code(1).err_contains("not a directory");
}

/// The program has ended but a process it left behind keeps the output pipes open: a
/// signal ends the wait, and the files are removed.
#[test]
fn a_signal_ends_the_wait_for_output_held_by_a_left_behind_process() {
    let s = setup();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("secrets");
    let script = "sleep 600 & echo $!; exit 5";
    let (mut child, mut lines) = spawn_mounted(&s, &dir, script, Stdio::null());
    let left_behind: u32 = lines.next().unwrap().unwrap().parse().unwrap();
    // The program has exited; zlayer-secret still waits for the pipe `sleep` holds.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none());
    assert!(kill("-TERM", child.id()));
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
