//! Malformed input to the command line, one table row each: every row gets a clear error
//! (a meaningful fragment of the message is checked), exit code 1 or 2, no panic, no stored
//! value on the output, and the store holds exactly what it held before, byte for byte.
//!
//! As root, permission bits do not stop writes, so an unwritable data directory is simulated
//! by a data directory that is a regular file, or lies under one. A full disk is simulated by
//! a file-size limit (`ulimit -f`) with SIGXFSZ ignored, so a write past it fails with EFBIG.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use zlayer_secrets::{EncryptionKey, PersistentSecretsStore, Secret, SecretsStore};

use crate::{Run, bin, cli, raw_dump, run_with_stdin, runtime};

/// Values stored before each row; none may appear on the output of a failing command.
const STORED: [(&str, &str, &str); 4] = [
    ("default", "alpha", "alpha-value-7f3a91"),
    ("default", "beta", "beta-value-1-c4d2"),
    ("default", "beta", "beta-value-2-e8b0"),
    ("env:prod", "API_KEY", "prod-api-key-55aa17"),
];

/// Where the row's key comes from.
#[derive(Clone, Copy)]
enum KeySource {
    /// `ZLAYER_SECRETS_KEY` with the store's key.
    Env,
    /// `ZLAYER_SECRETS_KEY` set to this text.
    EnvText(&'static str),
    /// No variable; the key file holds these bytes with this mode.
    File(&'static [u8], u32),
    /// No variable and no key file.
    Nothing,
}

/// One malformed input.
struct Case {
    what: &'static str,
    /// Arguments; `$W` is replaced by the row's work directory, `$D` by its data directory.
    args: Vec<String>,
    /// Files written to the work directory first.
    files: Vec<(&'static str, Vec<u8>)>,
    stdin: Vec<u8>,
    key: KeySource,
    /// Run under `ulimit -f` with this many blocks, SIGXFSZ ignored.
    ulimit_blocks: Option<u32>,
    code: i32,
    message: &'static str,
    /// A path (with `$W`) that must not exist afterwards.
    absent: Option<&'static str>,
}

fn case(what: &'static str, args: &[&str], code: i32, message: &'static str) -> Case {
    Case {
        what,
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        files: Vec::new(),
        stdin: Vec::new(),
        key: KeySource::Env,
        ulimit_blocks: None,
        code,
        message,
        absent: None,
    }
}

impl Case {
    fn arg_owned(mut self, arg: String) -> Self {
        self.args.push(arg);
        self
    }
    fn file(mut self, name: &'static str, body: impl Into<Vec<u8>>) -> Self {
        self.files.push((name, body.into()));
        self
    }
    fn stdin(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.stdin = body.into();
        self
    }
    fn key(mut self, key: KeySource) -> Self {
        self.key = key;
        self
    }
    fn ulimit(mut self, blocks: u32) -> Self {
        self.ulimit_blocks = Some(blocks);
        self
    }
    fn absent(mut self, path: &'static str) -> Self {
        self.absent = Some(path);
        self
    }
}

fn dotenv_entries(n: usize, value_len: usize) -> Vec<u8> {
    (0..n)
        .map(|k| format!("E{k:04}={}\n", "v".repeat(value_len)))
        .collect::<String>()
        .into_bytes()
}

#[allow(clippy::too_many_lines)] // the table itself
fn cases() -> Vec<Case> {
    let long_name = "n".repeat(10 * 1024);
    let big_value = vec![b'a'; zlayer_secrets::sqlite::MAX_VALUE_LEN + 1];
    let huge_stdin = vec![b'a'; 4 * 1024 * 1024 + 1];
    vec![
        // Names on the command line.
        case(
            "name with /",
            &["set", "a/b", "--value", "x"],
            2,
            "`/` is not allowed in a name",
        ),
        case(
            "name ../x",
            &["set", "../x", "--value", "x"],
            2,
            "`/` is not allowed in a name",
        ),
        case(
            "name ..",
            &["set", "..", "--value", "x"],
            2,
            "`.` and `..` are not allowed",
        ),
        case(
            "name .",
            &["set", ".", "--value", "x"],
            2,
            "`.` and `..` are not allowed",
        ),
        case(
            "empty name",
            &["set", "", "--value", "x"],
            2,
            "must not be empty",
        ),
        case(
            "name with SOH",
            &["set", "a\u{1}b", "--value", "x"],
            2,
            "control characters",
        ),
        case(
            "name with newline",
            &["set", "a\nb", "--value", "x"],
            2,
            "control characters",
        ),
        case(
            "name with tab",
            &["set", "a\tb", "--value", "x"],
            2,
            "control characters",
        ),
        case(
            "name with DEL",
            &["set", "a\u{7f}b", "--value", "x"],
            2,
            "control characters",
        ),
        case(
            "name with ESC",
            &["rotate", "alpha\u{1b}[2J", "--value", "x"],
            2,
            "control characters",
        ),
        case(
            "leading space",
            &["set", " alpha", "--value", "x"],
            2,
            "leading or trailing whitespace",
        ),
        case(
            "10 KB name",
            &["set"],
            2,
            "10240 bytes is longer than the limit of 256",
        )
        .arg_owned(long_name.clone())
        .arg_owned("--value=x".to_owned()),
        case(
            "get a/b",
            &["get", "a/b"],
            2,
            "`/` is not allowed in a name",
        ),
        case(
            "rm ../etc",
            &["rm", "../etc"],
            2,
            "`/` is not allowed in a name",
        ),
        case(
            "rm of a missing name",
            &["rm", "alpha", "nope"],
            1,
            "not found: default/nope",
        ),
        case(
            "rotate of a missing name",
            &["rotate", "missing", "--value", "y"],
            1,
            "secret not found: default/missing",
        ),
        case(
            "create of an existing name",
            &["create", "alpha", "--value", "y"],
            1,
            "already exists: default/alpha",
        ),
        case(
            "environment with :",
            &["set", "x", "--env", "a:b", "--value", "1"],
            1,
            "invalid environment name `a:b`",
        ),
        case(
            "deployment with /",
            &["set", "x", "--deployment", "a/b", "--value", "1"],
            1,
            "invalid deployment name",
        ),
        // Values.
        case(
            "value over 1 MiB from a file",
            &["set", "alpha", "--from-file", "$W/big"],
            1,
            "more than the limit of 1048576 bytes",
        )
        .file("big", big_value.clone()),
        case(
            "value far over 1 MiB on stdin",
            &["set", "alpha", "--from-stdin"],
            1,
            "standard input holds more than a secret value may (1048576 bytes",
        )
        .stdin(huge_stdin),
        case(
            "invalid UTF-8 value file",
            &["set", "alpha", "--from-file", "$W/v"],
            1,
            "is not UTF-8 text",
        )
        .file("v", b"ok\xff\xfe".to_vec()),
        case(
            "invalid UTF-8 on stdin",
            &["rotate", "alpha", "--from-stdin"],
            1,
            "the value in standard input is not UTF-8 text",
        )
        .stdin(b"\xc3\x28".to_vec()),
        case(
            "missing value file",
            &["set", "alpha", "--from-file", "$W/nothing"],
            1,
            "cannot open the value file",
        ),
        // Import files.
        case(
            "dotenv: NUL in a name (file)",
            &["import", "$W/f.env"],
            1,
            "control characters",
        )
        .file("f.env", b"OK=1\nA\0B=1\n".to_vec()),
        case(
            "dotenv: NUL in a name (stdin)",
            &["import", "-", "--format", "env"],
            1,
            "control characters",
        )
        .stdin(b"A\0B=1\n".to_vec()),
        case(
            "JSON: NUL in a key",
            &["import", "$W/f.json"],
            1,
            "control characters",
        )
        .file("f.json", r#"{"a\u0000b": "x"}"#),
        case(
            "dotenv: line without =",
            &["import", "$W/f.env"],
            1,
            "line 2: `NO`: expected `=` after the key",
        )
        .file("f.env", "GOOD=1\nNO EQUALS\n"),
        case(
            "dotenv: unclosed quote",
            &["import", "$W/f.env"],
            1,
            "a double-quoted string is never closed",
        )
        .file("f.env", "A=\"unterminated\n"),
        case(
            "dotenv: empty key",
            &["import", "$W/f.env"],
            1,
            "line 1: expected `KEY=VALUE`, found no key before `=`",
        )
        .file("f.env", "=value\n"),
        case(
            "dotenv: key twice",
            &["import", "$W/f.env"],
            1,
            "\"A\" is defined again",
        )
        .file("f.env", "A=1\nA=2\n"),
        case(
            "dotenv: name with /",
            &["import", "$W/f.env"],
            1,
            "line 2: invalid secret name",
        )
        .file("f.env", "GOOD=1\nBAD/NAME=2\n"),
        case(
            "dotenv: invalid UTF-8",
            &["import", "$W/f.env"],
            1,
            "is not UTF-8 text",
        )
        .file("f.env", b"A=\xff\xfe\n".to_vec()),
        case(
            "dotenv: 10 KB name",
            &["import", "$W/f.env"],
            1,
            "longer than the limit of 256",
        )
        .file("f.env", format!("{long_name}=1\n")),
        case(
            "dotenv: value over 1 MiB",
            &["import", "$W/f.env"],
            1,
            "more than the limit of 1048576 bytes",
        )
        .file(
            "f.env",
            [b"OK=1\nBIG=".as_slice(), &big_value, b"\n"].concat(),
        ),
        case(
            "JSON: cut short",
            &["import", "$W/f.json"],
            1,
            "not valid JSON",
        )
        .file("f.json", r#"{"a":"#),
        case(
            "JSON: number value",
            &["import", "$W/f.json"],
            1,
            "the value of \"a\" is a number, expected a string",
        )
        .file("f.json", r#"{"ok": "1", "a": 1}"#),
        case(
            "JSON: object value",
            &["import", "$W/f.json"],
            1,
            "is an object, expected a string",
        )
        .file("f.json", r#"{"a": {"b": 1}}"#),
        case(
            "JSON: key with /",
            &["import", "$W/f.json"],
            1,
            "`/` is not allowed in a name",
        )
        .file("f.json", r#"{"ok": "1", "a/b": "x"}"#),
        case(
            "JSON: key twice",
            &["import", "$W/f.json"],
            1,
            "the key \"a\" appears more than once",
        )
        .file("f.json", r#"{"a": "x", "a": "y"}"#),
        case(
            "JSON given as dotenv",
            &["import", "$W/f", "--format", "json"],
            1,
            "not valid JSON",
        )
        .file("f", "X=1\n"),
        case(
            "missing import file",
            &["import", "$W/nothing.env"],
            1,
            "cannot open",
        ),
        // Keys.
        case(
            "key: not hex",
            &["get", "alpha"],
            1,
            "ZLAYER_SECRETS_KEY is not a key: expected 64 hex characters",
        )
        .key(KeySource::EnvText("zz")),
        case(
            "key: 62 hex digits",
            &["get", "alpha"],
            1,
            "got 62 characters",
        )
        .key(KeySource::EnvText(
            "ababababababababababababababababababababababababababababababab",
        )),
        case(
            "key: empty",
            &["get", "alpha"],
            1,
            "invalid ZLAYER_SECRETS_KEY: it is set but empty",
        )
        .key(KeySource::EnvText("")),
        case(
            "key: another key",
            &["set", "alpha", "--value", "x"],
            1,
            "does not open the store",
        )
        .key(KeySource::EnvText(
            "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
        )),
        case(
            "key file: 10 bytes",
            &["set", "alpha", "--value", "x"],
            1,
            "is 10 bytes long",
        )
        .key(KeySource::File(b"0123456789", 0o600)),
        case(
            "key file: not hex",
            &["get", "alpha"],
            1,
            "characters that are not hex",
        )
        .key(KeySource::File(
            b"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\n",
            0o600,
        )),
        case(
            "key file: writable by others",
            &["set", "alpha", "--value", "x"],
            1,
            "writable by group or others",
        )
        .key(KeySource::File(
            b"abababababababababababababababababababababababababababababababab\n",
            0o666,
        )),
        case(
            "key file: missing for an existing store",
            &["set", "alpha", "--value", "x"],
            1,
            "or set ZLAYER_SECRETS_KEY (a new key would not open the store)",
        )
        .key(KeySource::Nothing),
        // Data directories.
        case(
            "data dir is a regular file",
            &["--data-dir", "$W/plain", "set", "x", "--value", "1"],
            1,
            "is not a directory (check --data-dir or ZLAYER_SECRETS_DIR)",
        )
        .file("plain", "not a directory"),
        case(
            "data dir under a regular file",
            &["--data-dir", "$W/plain/sub", "set", "x", "--value", "1"],
            1,
            "Not a directory",
        )
        .file("plain", "not a directory"),
        case(
            "data dir missing, read",
            &["--data-dir", "$W/missing", "get", "alpha"],
            1,
            "secret not found",
        )
        .absent("$W/missing"),
        case(
            "data dir empty",
            &["--data-dir", "", "ls"],
            2,
            "a value is required for '--data-dir",
        ),
        // A full disk.
        case(
            "file-size limit: large value",
            &["set", "alpha", "--from-file", "$W/v"],
            1,
            "disk I/O error",
        )
        .file("v", vec![b'b'; 900_000])
        .ulimit(64),
        case(
            "file-size limit: import",
            &["import", "$W/f.env"],
            1,
            "disk I/O error",
        )
        .file("f.env", dotenv_entries(1000, 200))
        .ulimit(64),
        case(
            "file-size limit: re-encryption",
            &["key", "rotate", "--reencrypt"],
            1,
            "disk I/O error",
        )
        .key(KeySource::File(
            b"abababababababababababababababababababababababababababababababab\n",
            0o600,
        ))
        .ulimit(1),
        // Usage errors.
        case(
            "version 0",
            &["get", "alpha", "--version", "0"],
            2,
            "invalid value '0' for '--version <N>'",
        ),
        case(
            "no value source",
            &["set", "alpha"],
            2,
            "the value is missing: give one of --from-stdin",
        ),
        case(
            "--length without --random",
            &["set", "alpha", "--length", "5", "--value", "x"],
            2,
            "--length only applies to --random",
        ),
        case(
            "two value sources",
            &["set", "alpha", "--value", "x", "--random"],
            2,
            "cannot be used with",
        ),
        case(
            "unknown verb",
            &["frobnicate"],
            2,
            "unrecognized subcommand 'frobnicate'",
        ),
        case(
            "missing version",
            &["get", "beta", "--version", "99"],
            1,
            "version 99",
        ),
        case(
            "rollback to a missing version",
            &["rollback", "beta", "--to", "99"],
            1,
            "version 99 of default/beta",
        ),
        case(
            "export over an existing file",
            &["export", "--to", "$W/exists"],
            1,
            "must not exist yet",
        )
        .file("exists", "keep me"),
    ]
}

/// The store every row starts from, and its key.
fn baseline(dir: &Path) -> EncryptionKey {
    let key = EncryptionKey::from_bytes(&[0xab; 32]).unwrap();
    runtime().block_on(async {
        let store = PersistentSecretsStore::open(dir.join("secrets.sqlite"), key.clone())
            .await
            .unwrap();
        for (scope, name, value) in STORED {
            store
                .set_secret(scope, name, &Secret::new(value))
                .await
                .unwrap();
        }
    });
    let conn = rusqlite::Connection::open(dir.join("secrets.sqlite")).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    key
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

fn run_case(c: &Case, base: &Path, before: &BTreeMap<String, Vec<u8>>, key_hex: &str) -> Run {
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("data");
    copy_dir(base, &data);
    for (name, body) in &c.files {
        std::fs::write(work.path().join(name), body).unwrap();
    }
    let subst = |s: &str| {
        s.replace("$W", work.path().to_str().unwrap())
            .replace("$D", data.to_str().unwrap())
    };
    let mut envs: Vec<(&str, String)> = Vec::new();
    match c.key {
        KeySource::Env => envs.push(("ZLAYER_SECRETS_KEY", key_hex.to_owned())),
        KeySource::EnvText(t) => envs.push(("ZLAYER_SECRETS_KEY", t.to_owned())),
        KeySource::File(bytes, mode) => {
            let path = data.join("secrets_default.key");
            std::fs::write(&path, bytes).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        KeySource::Nothing => {}
    }
    let env_refs: Vec<(&str, &str)> = envs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut cmd = cli(&data, &env_refs);
    let args: Vec<String> = c.args.iter().map(|a| subst(a)).collect();
    if let Some(blocks) = c.ulimit_blocks {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(format!(
                "trap '' XFSZ; ulimit -f {blocks}; exec \"$0\" \"$@\""
            ))
            .arg(bin())
            .args(&args);
        // Same clean environment as `cli`.
        let template = cmd;
        sh.env_clear();
        for (k, v) in template.get_envs() {
            if let Some(v) = v {
                sh.env(k, v);
            }
        }
        cmd = sh;
    } else {
        cmd.args(&args);
    }
    let r = run_with_stdin(cmd, &c.stdin);
    let after = raw_dump(&data.join("secrets.sqlite"));
    assert!(
        before == &after,
        "{}: the store changed (stderr: {})",
        c.what,
        r.err()
    );
    if let KeySource::File(bytes, _) = c.key {
        let now = std::fs::read(data.join("secrets_default.key")).unwrap();
        assert_eq!(now, bytes, "{}: the key file changed", c.what);
    }
    if let Some(p) = c.absent {
        assert!(
            !Path::new(&subst(p)).exists(),
            "{}: {p} was created",
            c.what
        );
    }
    r
}

#[test]
fn malformed_input_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir(&base).unwrap();
    let key = baseline(&base);
    let key_hex = key.to_hex();
    let before = raw_dump(&base.join("secrets.sqlite"));
    assert_eq!(before.len(), 1 + STORED.len());
    let cases = cases();
    let mut failures = Vec::new();
    for c in &cases {
        let r = run_case(c, &base, &before, &key_hex);
        let err = r.err();
        let mut problems = Vec::new();
        if r.code != Some(c.code) {
            problems.push(format!("exit code {:?}, expected {}", r.code, c.code));
        }
        if !err.contains(c.message) {
            problems.push(format!("no {:?} in the message", c.message));
        }
        if !err.lines().any(|l| l.starts_with("error:")) {
            problems.push("no `error:` line".to_owned());
        }
        if err.contains("panicked") {
            problems.push("panicked".to_owned());
        }
        for (_, _, value) in STORED {
            if r.out().contains(value) || err.contains(value) {
                problems.push(format!("printed the stored value {value}"));
            }
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}: {}\n  stderr: {}",
                c.what,
                problems.join("; "),
                err.trim()
            ));
        }
    }
    eprintln!("bad input: {} malformed inputs tried", cases.len());
    assert!(cases.len() >= 40);
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A key file readable by others is used, with a warning (only one writable by others is
/// refused: see the table).
#[test]
fn a_key_file_readable_by_others_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir(&base).unwrap();
    let key = baseline(&base);
    let key_file = base.join("secrets_default.key");
    std::fs::write(&key_file, format!("{}\n", key.to_hex().as_str())).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut c = cli(&base, &[]);
    c.args(["get", "alpha", "--reveal"]);
    let r = crate::run(c);
    r.ok();
    assert_eq!(r.out(), "alpha-value-7f3a91");
    assert!(
        r.err()
            .contains("readable by group or others (expected 0600)"),
        "{}",
        r.err()
    );
}

/// A closed standard error (a pager or `head` that quit) is no reason to panic: the write is
/// done, and the command does not end with exit code 101.
#[test]
fn a_closed_stderr_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let key = "ab".repeat(32);
    let mut cmd = cli(&data, &[("ZLAYER_SECRETS_KEY", key.as_str())]);
    cmd.args(["set", "alpha", "--value", "x"]).stderr(writer);
    let status = cmd.status().unwrap();
    assert_ne!(status.code(), Some(101), "the command panicked");
}
