//! `import` and `export`: formats, errors, atomicity and lossless round trips.

use std::collections::BTreeMap;

use crate::{Rng, Store};

fn write_temp(contents: &[u8]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), contents).unwrap();
    file
}

fn import(s: &Store, contents: &[u8], extra: &[&str]) -> crate::Run {
    let file = write_temp(contents);
    let mut args = vec!["import", file.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    s.run(&args)
}

#[test]
fn import_reports_created_updated_unchanged() {
    let s = Store::new();
    s.put("B", "old", &[]);
    s.put("C", "same", &[]);
    let text = b"# comment\nA=new\nB=\"changed\"\nexport C='same'\n";
    let dry = import(&s, text, &["--dry-run"]);
    assert_eq!(
        dry.ok().out(),
        "would import 3 into `default`: 1 created, 1 updated, 1 unchanged\n"
    );
    s.run(&["get", "A"]).code(1);
    assert_eq!(s.reveal("B", &[]), "old");

    let r = import(&s, text, &["--output", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&r.ok().stdout).unwrap();
    assert_eq!(
        (
            doc["created"].as_u64(),
            doc["updated"].as_u64(),
            doc["unchanged"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(s.reveal("A", &[]), "new");
    assert_eq!(s.reveal("B", &[]), "changed");
    // Unchanged values get no new version.
    let h = s.run(&["history", "C", "--output", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&h.stdout).unwrap();
    assert_eq!(doc["current"], 1);

    let again = import(&s, text, &[]);
    assert!(
        again
            .ok()
            .out()
            .contains("0 created, 0 updated, 3 unchanged")
    );
}

#[test]
fn import_is_all_or_nothing() {
    let s = Store::new();
    // The last entry has an invalid name: nothing of the file is stored.
    let r = import(&s, b"GOOD=1\nALSO_GOOD=2\n\"bad/name\"=3\n", &[]);
    r.code(1).err_contains("line 3");
    s.run(&["get", "GOOD"]).code(1);
    // A name given twice.
    let r = import(&s, b"A=1\nB=2\nA=3\n", &[]);
    r.code(1);
    assert!(
        r.err().contains("line 3") && r.err().contains("line 1"),
        "{}",
        r.err()
    );
    s.run(&["get", "A"]).code(1);
}

#[test]
fn invalid_dotenv_names_the_line_not_the_content() {
    let s = Store::new();
    let r = import(
        &s,
        b"OK=fine\n\nthis line has the-secret-word but no equals\n",
        &[],
    );
    r.code(1)
        .err_contains("line 3")
        .err_lacks("the-secret-word");
    let r = import(&s, b"A=\"unterminated the-secret-word\nB=2\n", &[]);
    r.code(1)
        .err_contains("line 1")
        .err_lacks("the-secret-word");
    let r = import(&s, b"A=\"ok\" the-secret-word\n", &[]);
    r.code(1).err_lacks("the-secret-word");
}

#[test]
fn json_must_be_a_flat_object_of_strings() {
    let s = Store::new();
    for (text, want) in [
        (&br#"["the-secret-word"]"#[..], "array"),
        (br#"{"A": 42}"#, "number"),
        (br#"{"A": {"nested": "the-secret-word"}}"#, "object"),
        (br#"{"A": "x", "A": "the-secret-word"}"#, "more than once"),
        (br#"{"A": "the-secret-word""#, "line 1"),
    ] {
        let r = import(&s, text, &["--format", "json"]);
        r.code(1).err_contains(want).err_lacks("the-secret-word");
    }
    // Detected without --format.
    import(&s, br#"{"FROM_JSON": "yes"}"#, &[]).ok();
    assert_eq!(s.reveal("FROM_JSON", &[]), "yes");
    // A JSON file read as dotenv is an error, not garbage.
    import(&s, br#"{"X": "y"}"#, &["--format", "env"]).code(1);
}

#[test]
fn import_errors_for_files() {
    let s = Store::new();
    let r = s.run(&["import", "/nonexistent/file.env"]);
    r.code(1);
    assert!(r.err().contains("/nonexistent/file.env"));
    let r = import(&s, &[0xff, 0xfe, b'=', b'x'], &[]);
    r.code(1).err_contains("not UTF-8");
    s.run(&["import", "x.env", "--format", "yaml"]).code(2);
}

#[test]
fn import_from_stdin() {
    let s = Store::new();
    s.run_with(&["import", "-", "--env", "ci"], Some(b"TOKEN=abc\n"), &[])
        .ok();
    assert_eq!(s.reveal("TOKEN", &["--env", "ci"]), "abc");
}

/// 200 generated values, each full of newlines, quotes, `$`, `#`, `=`, backslashes, spaces,
/// tabs and unicode, survive export and import into a fresh store byte for byte. As
/// dotenv, what no form carries for every dotenv reader (see `dotenv_interop.rs`) is
/// refused by name; everything else survives.
fn round_trip(format: &str, seed: u64) {
    let mut rng = Rng::new(seed);
    let mut values = BTreeMap::new();
    for i in 0..200 {
        let name = match (i % 4, format) {
            (0, _) | (2, "env") => format!("KEY_{i}"),
            (1, _) | (3, "env") => format!("db-password.{i}"),
            (2, _) => format!("with space {i}"),
            _ => format!("q\"=#'{i}"),
        };
        values.insert(name, rng.tricky_value());
    }
    // Load them with a JSON import (the JSON writer is independent of the dotenv one).
    let source = Store::new();
    let json = serde_json::to_vec(&values).unwrap();
    import(&source, &json, &[]).ok();

    let mut exported = source.run(&["export", "--format", format]);
    if format == "env" && exported.code == Some(1) {
        let refused: Vec<String> = exported
            .err()
            .lines()
            .filter_map(|l| l.strip_prefix("  default/"))
            .map(|l| l.split_once(": ").unwrap().0.to_owned())
            .collect();
        assert!(!refused.is_empty(), "{}", exported.err());
        let mut args = vec!["rm"];
        args.extend(refused.iter().map(String::as_str));
        source.run(&args).ok();
        for name in &refused {
            values.remove(name);
        }
        assert!(
            values.len() >= 40,
            "only {} of 200 are exportable",
            values.len()
        );
        exported = source.run(&["export", "--format", format]);
    }
    exported.ok();
    let fresh = Store::new();
    import(&fresh, &exported.stdout, &["--format", format]).ok();
    let back = fresh.run(&["export", "--format", "json"]);
    let back: BTreeMap<String, String> = serde_json::from_slice(&back.ok().stdout).unwrap();
    assert_eq!(back.len(), values.len());
    for (k, v) in &values {
        assert_eq!(back.get(k), Some(v), "{k:?}");
    }
}

#[test]
fn export_then_import_is_lossless_as_dotenv() {
    round_trip("env", 0x5eed_0001);
}

#[test]
fn export_then_import_is_lossless_as_json() {
    round_trip("json", 0x5eed_0002);
}

#[test]
fn export_to_a_new_private_file() {
    let s = Store::new();
    s.put("A", "1", &[]);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("backup.env");
    s.run(&["export", "--to", target.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "A='1'\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Never overwrites.
    s.run(&["export", "--to", target.to_str().unwrap()]).code(1);
}

#[test]
fn files_larger_than_16_mib_are_refused_clearly() {
    let s = Store::new();
    let file = tempfile::NamedTempFile::new().unwrap();
    // Sparse: its size is all that is looked at.
    file.as_file().set_len(16 * 1024 * 1024 + 1).unwrap();
    let shown = file.path().to_str().unwrap();
    for args in [
        vec!["import", shown],
        vec!["run", "--env-file", shown, "--", "true"],
    ] {
        let r = s.run(&args);
        r.code(1);
        assert!(
            r.err()
                .contains("is 16777217 bytes, more than the limit of 16777216 bytes (16 MiB)"),
            "{args:?}: {}",
            r.err()
        );
    }
    let r = s.run_with(
        &["import", "-"],
        Some(&vec![b'#'; 16 * 1024 * 1024 + 1]),
        &[],
    );
    r.code(1);
    assert!(
        r.err()
            .contains("standard input holds more than 16777216 bytes"),
        "{}",
        r.err()
    );
}

/// `export --format shell`: a POSIX shell that sources the output gets every value exactly,
/// whatever it holds (quotes, `$`, backslashes, newlines, unicode).
#[test]
fn shell_export_sources_to_the_identical_values() {
    let s = Store::new();
    let mut rng = crate::Rng::new(0x5eed_5e11);
    let values: Vec<(String, String)> = (0..40)
        .map(|i| {
            let mut value = rng.tricky_value();
            value.retain(|c| c != '\0');
            // `set --from-stdin` removes one trailing newline: keep the value as stored.
            if value.ends_with('\n') || value.ends_with('\r') {
                value.push('.');
            }
            (format!("V_{i:02}"), value)
        })
        .collect();
    for (name, value) in &values {
        s.put(name, value, &["--env", "sh"]);
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secrets.sh");
    s.run(&[
        "export",
        "--env",
        "sh",
        "--format",
        "shell",
        "--to",
        file.to_str().unwrap(),
    ])
    .ok();
    for (name, value) in &values {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!(". \"$1\"; printf '%s' \"${name}\""))
            .arg("sh")
            .arg(&file)
            .env_clear()
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), *value, "{name}");
    }
}

/// `export --format docker` writes `NAME=value` literally and refuses what docker's
/// env-file cannot hold, writing nothing.
#[test]
fn docker_export_is_literal_and_refuses_line_breaks() {
    let s = Store::new();
    s.put(
        "A",
        "value with spaces = and \"quotes\" # not a comment",
        &["--env", "d"],
    );
    s.put("db-password", "x", &["--env", "d"]);
    let r = s.run(&["export", "--env", "d", "--format", "docker"]);
    assert_eq!(
        r.ok().out(),
        "A=value with spaces = and \"quotes\" # not a comment\ndb-password=x\n"
    );
    s.put("MULTI", "one\ntwo", &["--env", "d"]);
    let r = s.run(&["export", "--env", "d", "--format", "docker"]);
    r.code(1)
        .err_contains("env:d/MULTI: the value holds a line break");
    assert_eq!(r.out(), "");
    assert!(!r.err().contains("one\ntwo"));
    // `--output` is `--format` under another name.
    let r = s.run(&["export", "--env", "d", "--output", "json"]);
    assert!(
        r.ok().out().contains("\"MULTI\": \"one\\ntwo\""),
        "{}",
        r.out()
    );
}
