//! `zlayer-secret run -- true` against a bare `true`, from fresh processes: what `run`
//! adds to a program's start with 40 references in its environment, and with `--all` over
//! a scope of 200 secrets (the floor, a bare `true`, is measured in the same run), with
//! and without the audit log.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use criterion::{Criterion, criterion_main};

const REFERENCES: usize = 40;
const SECRETS: usize = 200;

fn import(bin: &str, data: &Path, file: &Path, scope: &[&str]) {
    let status = Command::new(bin)
        .arg("import")
        .arg(file)
        .args(scope)
        .env("ZLAYER_SECRETS_DIR", data)
        .env_remove("ZLAYER_SECRETS_KEY")
        .env_remove("ZLAYER_SECRETS_PASSWORD")
        .status()
        .expect("zlayer-secret runs");
    assert!(status.success(), "the store is seeded");
}

fn seed(dir: &Path, name: &str, count: usize) -> std::path::PathBuf {
    let mut text = String::new();
    for i in 0..count {
        let _ = writeln!(text, "SECRET_{i:04}=value-{i:04}-0123456789abcdef");
    }
    let file = dir.join(name);
    std::fs::write(&file, text).expect("the seed file is written");
    file
}

fn run_overhead(c: &mut Criterion) {
    let bin = env!("CARGO_BIN_EXE_zlayer-secret");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    import(bin, &data, &seed(dir.path(), "refs.env", REFERENCES), &[]);
    import(
        bin,
        &data,
        &seed(dir.path(), "all.env", SECRETS),
        &["--env", "bench"],
    );
    let references: Vec<(String, String)> = (0..REFERENCES)
        .map(|i| (format!("VAR_{i:04}"), format!("$S:SECRET_{i:04}")))
        .collect();

    let mut group = c.benchmark_group("run");
    group.sample_size(50);
    group.bench_function("bare true (floor)", |b| {
        b.iter(|| {
            let status = Command::new("true").status().expect("true runs");
            assert!(status.success());
        });
    });
    let cases: [(&str, &[&str], bool); 5] = [
        ("run -- true (no reference)", &["run", "--", "true"], false),
        ("run -- true (40 references)", &["run", "--", "true"], true),
        (
            "run --all -- true (200 secrets)",
            &["run", "--all", "--env", "bench", "--", "true"],
            false,
        ),
        // The same without the audit log's records (one durable write per command).
        (
            "--no-audit run -- true (40 references)",
            &["--no-audit", "run", "--", "true"],
            true,
        ),
        (
            "--no-audit run --all -- true (200 secrets)",
            &["--no-audit", "run", "--all", "--env", "bench", "--", "true"],
            false,
        ),
    ];
    for (label, args, with_references) in cases {
        group.bench_function(label, |b| {
            b.iter(|| {
                let mut cmd = Command::new(bin);
                cmd.args(args)
                    .env("ZLAYER_SECRETS_DIR", &data)
                    .env_remove("ZLAYER_SECRETS_KEY")
                    .env_remove("ZLAYER_SECRETS_PASSWORD");
                if with_references {
                    cmd.envs(references.iter().map(|(k, v)| (k, v)));
                }
                let out = cmd.output().expect("zlayer-secret runs");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out
            });
        });
    }
    group.finish();
}

// `criterion_group!` generates a public function that cannot carry a doc comment.
#[allow(missing_docs)]
mod groups {
    criterion::criterion_group!(benches, super::run_overhead);
}
criterion_main!(groups::benches);
