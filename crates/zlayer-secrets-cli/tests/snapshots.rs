//! The snapshot cases of `tests/cmd/`: each `.md` file is a sequence of `zlayer-secret`
//! command lines with the output (stdout and stderr, in the order written) and exit status
//! they must give, run one after the other in a fresh sandbox directory (a copy of the
//! file's `.in/` directory; the files of its `.out/` directory must be there afterwards).
//!
//! Every case finds its store in `store/` inside its sandbox (`ZLAYER_SECRETS_DIR`); the key
//! is a key file created there on the first write unless a command line sets
//! `ZLAYER_SECRETS_KEY`. `sh` is available to give a command its standard input
//! (`sh -c "printf ... | zlayer-secret ..."`) and as the program that `run` starts, and
//! `ls` to show a file's mode. (trycmd skips, as "ignored", a command line whose program is
//! not registered here; [`cli_cases`] fails if any is.)
//!
//! `TRYCMD=overwrite cargo test -p zlayer-secrets-cli --test snapshots` rewrites the expected
//! output of the cases that differ (check the diff: elisions such as `[..]` are kept only
//! where they still match).

#![cfg(unix)]

use std::path::{Path, PathBuf};

/// Variables of the caller's environment that would change what the cases print: the
/// cases refuse to run under them rather than pass or fail by accident.
const AMBIENT: &[&str] = &[
    "ZLAYER_SECRETS_KEY",
    "ZLAYER_SECRETS_PASSWORD",
    "ZLAYER_SECRETS_API_KEY",
    "ZLAYER_SECRETS_API_SECRET",
    "ZLAYER_SECRETS_SERVER",
    "ZLAYER_SECRETS_SERVER_CA",
    "ZLAYER_SECRETS_NO_AUDIT",
    "VAULT_TOKEN",
];

/// The programs a case line may start.
const PROGRAMS: [&str; 3] = ["zlayer-secret", "sh", "ls"];

/// The `$ ` lines of the cases under `dir` whose program (the first word that is not a
/// `NAME=value` assignment) is not one of [`PROGRAMS`].
fn unregistered_programs(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("tests/cmd is readable") {
        let path = entry.expect("tests/cmd is readable").path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("a case file is text");
        for line in text.lines().filter_map(|l| l.strip_prefix("$ ")) {
            let program = line.split_whitespace().find(|word| !word.contains('='));
            if !program.is_some_and(|p| PROGRAMS.contains(&p)) {
                out.push(format!("{}: {line}", path.display()));
            }
        }
    }
    out
}

#[test]
fn cli_cases() {
    let set: Vec<&str> = AMBIENT
        .iter()
        .copied()
        .filter(|name| std::env::var_os(name).is_some())
        .collect();
    assert!(
        set.is_empty(),
        "unset {} to run the snapshot cases: the commands they run inherit the environment",
        set.join(", ")
    );

    let unknown = unregistered_programs(Path::new("tests/cmd"));
    assert!(
        unknown.is_empty(),
        "these case lines start a program the runner does not register, so trycmd would \
         skip them: {unknown:?}"
    );

    let bin = Path::new(env!("CARGO_BIN_EXE_zlayer-secret"));
    let bin_dir = bin.parent().expect("the binary is in a directory");
    let mut path = vec![bin_dir.to_path_buf()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(path).expect("PATH entries hold no separator");

    trycmd::TestCases::new()
        .register_bin(PROGRAMS[0], bin)
        .register_bin(PROGRAMS[1], PathBuf::from("/bin/sh"))
        .register_bin(PROGRAMS[2], PathBuf::from("/bin/ls"))
        .env("PATH", path.to_string_lossy())
        .env("ZLAYER_SECRETS_DIR", "store")
        .env("ZLAYER_SECRETS_BACKEND", "local")
        .env("RUST_LOG", "warn")
        .env("COLUMNS", "100")
        .case("tests/cmd/*.md");
}
