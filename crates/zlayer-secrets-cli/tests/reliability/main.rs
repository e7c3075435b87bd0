//! Reliability and security suite of zlayer-secrets, run as real processes: writers killed at
//! random points, concurrent writer processes, tampered databases, malformed input to the
//! `zlayer-secret` binary, a leak scan of everything a session prints and writes, file
//! permissions after every verb, and an audit log tampered with or cut short by a kill.
//! `docs/reliability.md` states the figures and how to vary them.
#![allow(clippy::unwrap_used)]
// tests report failure by panicking, also in helpers
// Each scenario reads best as one function, and test data is built once, not in a hot loop.
#![allow(
    clippy::too_many_lines,
    clippy::format_collect,
    clippy::too_many_arguments
)]

mod audit;
mod bad_input;
mod child;
mod concurrency;
mod crash;
mod session;
mod tamper;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use zlayer_secrets::EncryptionKey;
pub(crate) use zlayer_secrets_testsupport::process::Run;
use zlayer_secrets_testsupport::process::run_command;

/// The binary under test.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_zlayer-secret")
}

/// A count from the environment variable `var`, else `default`.
pub(crate) fn count_from_env(var: &str, default: usize) -> usize {
    match std::env::var(var) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{var}={v:?} is not a count")),
        Err(_) => default,
    }
}

/// The seed of a randomised test: `ZLAYER_RELIABILITY_SEED`, else drawn from the clock.
/// Printed so that a failing run can be repeated.
pub(crate) fn seed(test: &str) -> u64 {
    let seed = match std::env::var("ZLAYER_RELIABILITY_SEED") {
        Ok(v) => v.trim().parse().expect("ZLAYER_RELIABILITY_SEED is a u64"),
        Err(_) => now_ns(),
    };
    eprintln!("{test}: seed {seed} (repeat with ZLAYER_RELIABILITY_SEED={seed})");
    seed
}

/// Nanoseconds since the Unix epoch (the same clock in every process of this machine).
pub(crate) fn now_ns() -> u64 {
    u64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
}

/// A small seeded generator (SplitMix64): enough for choosing operations and kill points.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Sixteen random hex digits.
    pub(crate) fn hex(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }
}

/// Decodes 64 hex digits into a key.
pub(crate) fn key_from_hex(hex: &str) -> EncryptionKey {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    EncryptionKey::from_bytes(&bytes).unwrap()
}

/// A current-thread runtime for driving the async store from a test.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A command for the binary with a clean environment: only `PATH`, `HOME` and the given
/// variables, so the caller's `ZLAYER_*` variables cannot leak in.
pub(crate) fn cli(data_dir: &Path, envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", data_dir.parent().unwrap_or(data_dir))
        .env("ZLAYER_SECRETS_DIR", data_dir)
        .stdin(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `cmd` with `stdin` as its standard input.
pub(crate) fn run_with_stdin(cmd: Command, stdin: &[u8]) -> Run {
    run_command(cmd, Some(stdin))
}

/// Runs `cmd` with no standard input.
pub(crate) fn run(cmd: Command) -> Run {
    run_command(cmd, None)
}

/// Everything a database holds, read with SQLite directly: the key record and every stored
/// version (scope, name, version, ciphertext). Two equal dumps mean nothing was written.
pub(crate) fn raw_dump(db: &Path) -> BTreeMap<String, Vec<u8>> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut out = BTreeMap::new();
    let mut meta = conn
        .prepare("SELECT store_id, dek_generation, wrapped_dek, kek_fingerprint FROM store_meta")
        .unwrap();
    let mut rows = meta.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        let id: Vec<u8> = row.get(0).unwrap();
        let generation: i64 = row.get(1).unwrap();
        let wrapped: Vec<u8> = row.get(2).unwrap();
        let fingerprint: String = row.get(3).unwrap();
        out.insert(
            format!("meta/{generation}/{fingerprint}"),
            [id, wrapped].concat(),
        );
    }
    let mut versions = conn
        .prepare(
            "SELECT s.scope, s.name, s.version, v.version, v.ciphertext \
             FROM secrets s JOIN secret_versions v ON v.secret_id = s.id",
        )
        .unwrap();
    let mut rows = versions.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        let scope: String = row.get(0).unwrap();
        let name: String = row.get(1).unwrap();
        let current: i64 = row.get(2).unwrap();
        let version: i64 = row.get(3).unwrap();
        let ciphertext: Vec<u8> = row.get(4).unwrap();
        out.insert(format!("{scope}\t{name}\t{current}\t{version}"), ciphertext);
    }
    out
}

/// `PRAGMA integrity_check` of a database file, opened with SQLite directly.
pub(crate) fn integrity_check(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    let rows: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows.join("\n")
}

/// The entry point of the writer processes the crash and concurrency tests start: the test
/// binary runs itself with `ZLAYER_RELIABILITY_CHILD` set and only this test selected. In an
/// ordinary test run the variable is unset and it returns at once.
#[test]
fn child_process() {
    if let Ok(mode) = std::env::var(child::MODE_VAR) {
        child::main(&mode);
    }
}
