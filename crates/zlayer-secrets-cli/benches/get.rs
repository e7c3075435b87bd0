//! `zlayer-secret get` from a fresh process on a store of 2,000 secrets: the whole cost of
//! a command (process start, key file, opening SQLite, one read), as a user sees it.

use std::fmt::Write as _;
use std::process::Command;

use criterion::{Criterion, criterion_main};

const SECRETS: usize = 2_000;

fn get_from_a_fresh_process(c: &mut Criterion) {
    let bin = env!("CARGO_BIN_EXE_zlayer-secret");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut json = String::from("{");
    for i in 0..SECRETS {
        if i > 0 {
            json.push(',');
        }
        let _ = write!(json, "\"SECRET_{i:04}\": \"value-{i:04}-0123456789abcdef\"");
    }
    json.push('}');
    let file = dir.path().join("seed.json");
    std::fs::write(&file, json).expect("the seed file is written");
    let data = dir.path().join("data");
    let status = Command::new(bin)
        .args(["import", file.to_str().expect("a UTF-8 path")])
        .env("ZLAYER_SECRETS_DIR", &data)
        .env_remove("ZLAYER_SECRETS_KEY")
        .env_remove("ZLAYER_SECRETS_PASSWORD")
        .status()
        .expect("zlayer-secret runs");
    assert!(status.success(), "the store is seeded");

    let mut group = c.benchmark_group("cli");
    group.sample_size(50);
    for (label, args) in [
        (
            "get --reveal (2000 secrets)",
            &["get", "SECRET_1234", "--reveal"][..],
        ),
        ("get metadata (2000 secrets)", &["get", "SECRET_1234"][..]),
    ] {
        group.bench_function(label, |b| {
            b.iter(|| {
                let out = Command::new(bin)
                    .args(args)
                    .env("ZLAYER_SECRETS_DIR", &data)
                    .env_remove("ZLAYER_SECRETS_KEY")
                    .env_remove("ZLAYER_SECRETS_PASSWORD")
                    .output()
                    .expect("zlayer-secret runs");
                assert!(out.status.success());
                out
            });
        });
    }
    group.finish();
}

// `criterion_group!` generates a public function that cannot carry a doc comment.
#[allow(missing_docs)]
mod groups {
    criterion::criterion_group!(benches, super::get_from_a_fresh_process);
}
criterion_main!(groups::benches);
