//! Peak memory of `import` and `run --env-file` against the size of their input.
//!
//! Measured as the peak resident set size of the `zlayer-secret` process, taken by a
//! helper process (this test binary, started again in [`peak_rss_child`]'s mode) from
//! `getrusage(RUSAGE_CHILDREN)` once its only child has exited: no timing, no sampling, and
//! no other test's processes in the figure. Compared with the peak of the same command on a
//! tiny input, with a generous margin.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::Store;

/// Selects the helper mode: the program and arguments to measure, separated by `\x1f`.
const CHILD_VAR: &str = "ZLAYER_TEST_PEAK_RSS_OF";
/// Where the helper writes the child's exit code and peak RSS in KiB.
const OUT_VAR: &str = "ZLAYER_TEST_PEAK_RSS_OUT";

/// The helper: runs the command of [`CHILD_VAR`] and reports its peak RSS. Without the
/// variable (a normal test run) there is nothing to do.
#[test]
fn peak_rss_child() {
    let Ok(spec) = std::env::var(CHILD_VAR) else {
        return;
    };
    let mut parts = spec.split('\u{1f}');
    let program = parts.next().unwrap();
    let status = Command::new(program)
        .args(parts)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    let usage =
        nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).unwrap();
    // Linux reports KiB, macOS bytes.
    let kib = if cfg!(target_os = "macos") {
        usage.max_rss() / 1024
    } else {
        usage.max_rss()
    };
    std::fs::write(
        std::env::var(OUT_VAR).unwrap(),
        format!("{}\n{kib}\n", status.code().unwrap_or(-1)),
    )
    .unwrap();
}

/// What one measured command did.
struct Measured {
    code: i32,
    peak_kib: i64,
    stderr: String,
}

/// Runs `zlayer-secret ARGS` against `store` and measures its peak RSS.
fn measure(store: &Store, args: &[&str]) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut spec = vec![crate::bin()];
    spec.extend_from_slice(args);
    let helper = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "memory::peak_rss_child",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env(CHILD_VAR, spec.join("\u{1f}"))
        .env(OUT_VAR, &out)
        .env("ZLAYER_SECRETS_DIR", store.path())
        .env_remove("ZLAYER_SECRETS_KEY")
        .env_remove("ZLAYER_SECRETS_PASSWORD")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let report = std::fs::read_to_string(&out).unwrap_or_else(|_| {
        panic!(
            "the helper wrote no report: {}",
            String::from_utf8_lossy(&helper.stderr)
        )
    });
    let mut lines = report.lines();
    Measured {
        code: lines.next().unwrap().parse().unwrap(),
        peak_kib: lines.next().unwrap().parse().unwrap(),
        stderr: String::from_utf8_lossy(&helper.stderr).into_owned(),
    }
}

/// The peak RSS of `args` above that of `baseline_args`, in bytes.
fn growth(store: &Store, baseline_args: &[&str], args: &[&str]) -> (Measured, u64) {
    let base = measure(store, baseline_args);
    assert_eq!(base.code, 0, "baseline: {}", base.stderr);
    let m = measure(store, args);
    let grown = u64::try_from((m.peak_kib - base.peak_kib).max(0)).unwrap() * 1024;
    (m, grown)
}

/// `count` pieces written by `piece` for 0, 1, ...
fn numbered(count: u64, piece: impl Fn(&mut String, u64) -> std::fmt::Result) -> String {
    let mut out = String::new();
    for i in 0..count {
        piece(&mut out, i).unwrap();
    }
    out
}

fn write(path: &Path, text: &str) -> u64 {
    std::fs::write(path, text).unwrap();
    text.len() as u64
}

/// Values of almost the store's largest size: the memory taken is a few times the file's
/// size, not tens.
#[test]
fn import_of_large_values_takes_a_small_multiple_of_the_file() {
    let s = Store::new();
    let dir = tempfile::tempdir().unwrap();
    let tiny = dir.path().join("tiny.env");
    write(&tiny, "ONE=1\n");
    for (format, name) in [("env", "big.env"), ("json", "big.json")] {
        let file = dir.path().join(name);
        let value = "v".repeat(1_000_000);
        let size = if format == "env" {
            let text = numbered(8, |out, i| writeln!(out, "BIG_{i}=\"{value}\""));
            write(&file, &text)
        } else {
            let text = serde_json::Value::Object(
                (0..8)
                    .map(|i| (format!("BIG_{i}"), serde_json::Value::String(value.clone())))
                    .collect(),
            )
            .to_string();
            write(&file, &text)
        };
        let (m, grown) = growth(
            &s,
            &["import", tiny.to_str().unwrap(), "--deployment", format],
            &["import", file.to_str().unwrap(), "--deployment", format],
        );
        assert_eq!(m.code, 0, "{}", m.stderr);
        assert!(
            grown <= 5 * size,
            "{format}: import of {size} bytes grew the peak RSS by {grown} bytes"
        );
    }
}

/// As many entries as a file may hold, each tiny: beyond a few times the file's size, each
/// entry costs a small fixed amount.
#[test]
fn import_at_the_entry_limit_costs_little_per_entry() {
    let s = Store::new();
    let dir = tempfile::tempdir().unwrap();
    let tiny = dir.path().join("tiny.env");
    write(&tiny, "ONE=1\n");
    let file = dir.path().join("k.env");
    let entries: u64 = 10_000;
    let text = numbered(entries, |out, i| writeln!(out, "K{i}=v"));
    let size = write(&file, &text);
    let (m, grown) = growth(
        &s,
        &["import", tiny.to_str().unwrap()],
        &["import", file.to_str().unwrap()],
    );
    assert_eq!(m.code, 0, "{}", m.stderr);
    assert!(
        grown <= 5 * size + 1024 * entries,
        "import of {entries} entries in {size} bytes grew the peak RSS by {grown} bytes"
    );
    // One more is refused.
    std::fs::write(&file, format!("{text}ONE_MORE=x\n")).unwrap();
    let r = s.run(&["import", file.to_str().unwrap()]);
    r.code(1)
        .err_contains("line 10001: more than 10000 entries");
}

/// A file of a million tiny entries is refused (the entry limit) without first taking
/// tens of times its size; `run --env-file` likewise.
#[test]
fn a_file_of_countless_tiny_entries_is_refused_without_taking_its_size_many_times() {
    let s = Store::new();
    let dir = tempfile::tempdir().unwrap();
    let tiny = dir.path().join("tiny.env");
    write(&tiny, "ONE=1\n");
    let many = dir.path().join("many.env");
    let text = numbered(1_000_000, |out, i| writeln!(out, "K{i}=v"));
    let size = write(&many, &text);
    let json = dir.path().join("many.json");
    let json_text = format!(
        "{{{}}}",
        (0..800_000)
            .map(|i| format!("\"K{i}\":\"v\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let json_size = write(&json, &json_text);
    for (what, baseline, args, size) in [
        (
            "import",
            vec!["import", tiny.to_str().unwrap(), "--dry-run"],
            vec!["import", many.to_str().unwrap(), "--dry-run"],
            size,
        ),
        (
            "import json",
            vec!["import", tiny.to_str().unwrap(), "--dry-run"],
            vec!["import", json.to_str().unwrap(), "--dry-run"],
            json_size,
        ),
        (
            "run --env-file",
            vec!["run", "--env-file", tiny.to_str().unwrap(), "--", "true"],
            vec!["run", "--env-file", many.to_str().unwrap(), "--", "true"],
            size,
        ),
    ] {
        let (m, grown) = growth(&s, &baseline, &args);
        assert!(
            grown <= 3 * size,
            "{what}: a file of {size} bytes grew the peak RSS by {grown} bytes"
        );
        assert_eq!(m.code, 1, "{what}: {}", m.stderr);
        assert!(
            m.stderr.contains("more than 10000 entries"),
            "{what}: {}",
            m.stderr
        );
    }
}
