//! A whole command-line session with `RUST_LOG=trace`: no stored value appears in clear in
//! anything it prints or writes (the SQLite database, WAL and shared-memory files included,
//! as raw bytes), except the output of `get --reveal` and `export`, which print values on
//! purpose and are left out. After every verb the data directory is 0700 and every file in
//! it 0600.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use crate::{Rng, Run, cli, run_with_stdin, seed};

/// Everything the session printed and wrote, for the scan.
#[derive(Default)]
struct Capture {
    /// `(what, bytes)`: outputs of the verbs and file snapshots.
    chunks: Vec<(String, Vec<u8>)>,
    /// Every key the key file held (must never be printed).
    keys: Vec<String>,
    verbs: usize,
    /// The process that keeps the WAL from being folded away, and its pipes.
    holder: Option<Holder>,
}

/// A child process holding a read transaction on the database (see `child::hold_wal`).
struct Holder {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

/// Starts (`true`) or ends the read transaction that keeps the WAL in place.
fn hold_wal(capture: &mut Capture, hold: bool) {
    use std::io::{BufRead as _, Write as _};
    let Some(h) = &mut capture.holder else {
        return;
    };
    writeln!(h.stdin, "{}", if hold { "hold" } else { "release" }).unwrap();
    h.stdin.flush().unwrap();
    let mut line = String::new();
    h.stdout.read_line(&mut line).unwrap();
    while !line.starts_with("OK") {
        line.clear();
        assert!(
            h.stdout.read_line(&mut line).unwrap() > 0,
            "the holder died"
        );
    }
}

fn start_holder(db: &Path) -> Holder {
    let mut child = crate::child::command("hold-wal", db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    Holder {
        stdin: child.stdin.take().unwrap(),
        stdout: std::io::BufReader::new(child.stdout.take().unwrap()),
        child,
    }
}

/// The data directory is 0700 and each file in it 0600.
fn check_permissions(data: &Path, after: &str) {
    let mode = std::fs::metadata(data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "after `{after}`: data directory mode {mode:o}");
    for entry in std::fs::read_dir(data).unwrap() {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode,
            0o600,
            "after `{after}`: {} has mode {mode:o}",
            entry.file_name().to_string_lossy()
        );
    }
}

fn snapshot(data: &Path, after: &str, capture: &mut Capture) {
    for entry in std::fs::read_dir(data).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let bytes = std::fs::read(entry.path()).unwrap();
        if name == "secrets_default.key" || name.ends_with(".key.pending") {
            let text = String::from_utf8_lossy(&bytes).trim().to_owned();
            if !capture.keys.contains(&text) {
                capture.keys.push(text);
            }
            continue;
        }
        capture
            .chunks
            .push((format!("{name} after `{after}`"), bytes));
    }
}

/// Runs one verb of the session; its output is scanned unless `reveals` (it prints values on
/// purpose). Permissions are checked and the files snapshotted afterwards.
fn verb(data: &Path, capture: &mut Capture, args: &[&str], stdin: &[u8], reveals: bool) -> Run {
    // `DB` is a reference for `run`; the other verbs ignore it.
    let mut cmd = cli(data, &[("RUST_LOG", "trace"), ("DB", "$S:db-password")]);
    cmd.args(args);
    // Re-keying ends with a checkpoint that would wait for the held transaction: let it run.
    let rekeys = args.starts_with(&["key", "rotate"]);
    if rekeys {
        hold_wal(capture, false);
    }
    let r = run_with_stdin(cmd, stdin);
    if rekeys {
        hold_wal(capture, true);
    }
    r.ok();
    let what = args.join(" ");
    if !reveals {
        capture
            .chunks
            .push((format!("stdout of `{what}`"), r.stdout.clone()));
    }
    // Messages never carry values, not even for the revealing verbs.
    capture
        .chunks
        .push((format!("stderr of `{what}`"), r.stderr.clone()));
    check_permissions(data, &what);
    snapshot(data, &what, capture);
    capture.verbs += 1;
    r
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_traced_session_leaks_no_value_and_keeps_files_private() {
    let mut rng = Rng::new(seed("session"));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let canary = |rng: &mut Rng, what: &str| format!("canary-{what}-{}{}", rng.hex(), rng.hex());
    let v_set = canary(&mut rng, "set");
    let v_create = canary(&mut rng, "create");
    let v_rotate = canary(&mut rng, "rotate");
    let v_dotenv = canary(&mut rng, "dotenv");
    let v_json = canary(&mut rng, "json");
    let v_removed = canary(&mut rng, "removed");
    let values = [&v_set, &v_create, &v_rotate, &v_dotenv, &v_json, &v_removed];
    std::fs::write(work.join("token"), format!("{v_create}\n")).unwrap();
    std::fs::write(
        work.join("prod.env"),
        format!("DB_URL={v_dotenv}\nPLAIN=1\n"),
    )
    .unwrap();
    std::fs::write(
        work.join("prod.json"),
        format!("{{\"JSON_KEY\": \"{v_json}\"}}"),
    )
    .unwrap();
    let w = |f: &str| work.join(f).to_str().unwrap().to_owned();

    let mut c = Capture::default();
    let d = &data;
    verb(
        d,
        &mut c,
        &["set", "db-password", "--from-stdin"],
        v_set.as_bytes(),
        false,
    );
    // A read transaction held open beside the session: the WAL then outlives each command
    // (the last connection to close would fold it into the database and delete it), so the
    // snapshots hold every frame the commands wrote.
    c.holder = Some(start_holder(&data.join("secrets.sqlite")));
    hold_wal(&mut c, true);
    verb(
        d,
        &mut c,
        &["create", "api-token", "--from-file", &w("token")],
        b"",
        false,
    );
    verb(d, &mut c, &["get", "db-password"], b"", false);
    verb(
        d,
        &mut c,
        &["get", "db-password", "--output", "json"],
        b"",
        false,
    );
    verb(d, &mut c, &["ls"], b"", false);
    verb(d, &mut c, &["ls", "--output", "json"], b"", false);
    verb(
        d,
        &mut c,
        &["rotate", "db-password", "--from-stdin"],
        v_rotate.as_bytes(),
        false,
    );
    verb(d, &mut c, &["history", "db-password"], b"", false);
    verb(
        d,
        &mut c,
        &["rollback", "db-password", "--to", "1"],
        b"",
        false,
    );
    verb(
        d,
        &mut c,
        &["import", &w("prod.env"), "--env", "prod", "--dry-run"],
        b"",
        false,
    );
    verb(
        d,
        &mut c,
        &["import", &w("prod.env"), "--env", "prod"],
        b"",
        false,
    );
    verb(
        d,
        &mut c,
        &[
            "import",
            &w("prod.json"),
            "--env",
            "prod",
            "--output",
            "json",
        ],
        b"",
        false,
    );
    verb(
        d,
        &mut c,
        &["set", "temporary", "--from-stdin"],
        v_removed.as_bytes(),
        false,
    );
    let revealed = verb(d, &mut c, &["get", "db-password", "--reveal"], b"", true);
    assert_eq!(
        revealed.out(),
        v_set,
        "rollback to v1 restored the first value"
    );
    let exported = verb(
        d,
        &mut c,
        &["export", "--format", "json", "--env", "prod"],
        b"",
        true,
    );
    assert!(exported.out().contains(&v_json));
    verb(
        d,
        &mut c,
        &[
            "export",
            "--format",
            "env",
            "--env",
            "prod",
            "--to",
            &w("backup.env"),
        ],
        b"",
        false,
    );
    let backup_mode = std::fs::metadata(work.join("backup.env"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(backup_mode, 0o600, "export --to creates its file 0600");
    let run = verb(
        d,
        &mut c,
        &["run", "--", "sh", "-c", "printf 'db=%s\\n' \"$DB\""],
        b"",
        false,
    );
    assert!(run.out().contains("db="), "{}", run.out());
    verb(d, &mut c, &["key", "status"], b"", false);
    verb(d, &mut c, &["key", "rotate"], b"", false);
    verb(d, &mut c, &["key", "rotate", "--reencrypt"], b"", false);
    verb(
        d,
        &mut c,
        &["key", "status", "--output", "json"],
        b"",
        false,
    );
    verb(
        d,
        &mut c,
        &["grant", "alice", "--env", "prod", "--level", "read"],
        b"",
        false,
    );
    verb(d, &mut c, &["permissions", "--env", "prod"], b"", false);
    verb(d, &mut c, &["revoke", "alice", "--env", "prod"], b"", false);
    verb(d, &mut c, &["rm", "temporary"], b"", false);
    verb(
        d,
        &mut c,
        &["unset", "api-token", "never-existed"],
        b"",
        false,
    );
    verb(
        d,
        &mut c,
        &["set", "generated", "--random", "--length", "40"],
        b"",
        false,
    );
    verb(d, &mut c, &["ls", "--env", "prod"], b"", false);
    assert!(
        c.keys.len() >= 3,
        "the key file changed with each rotation: {}",
        c.keys.len()
    );

    // The logs were on below the default (warnings): the scan covers the debug lines too.
    assert!(
        c.chunks
            .iter()
            .any(|(what, b)| what.starts_with("stderr") && find(b, b"DEBUG")),
        "RUST_LOG=trace produced no debug lines"
    );
    hold_wal(&mut c, false);
    let mut holder = c.holder.take().unwrap();
    drop(holder.stdin);
    assert!(holder.child.wait().unwrap().success());
    let wal_bytes: usize = c
        .chunks
        .iter()
        .filter(|(what, _)| what.starts_with("secrets.sqlite-wal"))
        .map(|(_, b)| b.len())
        .sum();
    assert!(wal_bytes > 0, "no WAL content was captured");
    let mut leaks = Vec::new();
    let mut scanned = 0usize;
    for (what, bytes) in &c.chunks {
        scanned += bytes.len();
        for v in values {
            if find(bytes, v.as_bytes()) || find(bytes, hex(v).as_bytes()) {
                leaks.push(format!("{v} in {what}"));
            }
        }
        if !what.starts_with("secrets.sqlite") {
            for k in &c.keys {
                if find(bytes, k.as_bytes()) {
                    leaks.push(format!("a key in {what}"));
                }
            }
        }
    }
    eprintln!(
        "session: {} verbs, {} chunks ({scanned} bytes, {wal_bytes} of WAL) scanned for {} values and {} keys: {} leaks",
        c.verbs,
        c.chunks.len(),
        values.len(),
        c.keys.len(),
        leaks.len()
    );
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
}
