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
            "echo \"$DB_FILE\"; exec sleep 600",
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
    assert_eq!(child.wait().unwrap().code(), Some(code));
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
