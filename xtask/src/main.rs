//! Project automation for zlayer-secrets, run as `cargo xtask <task>`.
//!
//! - `demo`: the main job, end to end, on the embedded SQLite store.
//! - `ci`: the whole test suite, exactly what `.ci/run` and the README's test command run.
//! - `fuzz`: the cargo-fuzz targets under libFuzzer (nightly), with an executions report.
//! - `bench`: the criterion benchmarks, with their figures written to `docs/benchmarks.md`.
//! - `tidy`: repository hygiene no compiler checks (also a test of this crate, and CI's first step).
//! - `release`: release binaries, version agreement, a tarball and its `SHA256SUMS` in `dist/`.
//!
//! Each task lives in its own module; helpers shared between tasks live in `cmd`.

mod bench;
mod ci;
mod cmd;
mod demo;
mod fuzz;
mod release;
mod tidy;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  demo       the main job: store secrets encrypted in a fresh SQLite store, resolve references
             and inject them into a process
  ci         tidy, format check, clippy (-D warnings), no_std proof, docs, all tests including
             the OpenBao ones against a real server it starts, cargo-deny (licenses, bans,
             sources); installs cargo-deny and bao when the pinned versions are missing
  tidy       repository hygiene: every #[ignore] is an OpenBao test, no #[path] under fuzz/,
             dependencies point down the stack of docs/architecture.md, the documents exist
             and the code map names every crate
  fuzz       <target>|all|list [--seconds N] [--record]: cargo-fuzz on the nightly toolchain
             from the committed seed corpora, N seconds per target (default 60); prints the
             executions per target; --record writes them to docs/reliability.md
  bench      [--quick] [-p CRATE]...: the criterion benchmarks of every crate that has them,
             then their medians (with the machine and the command) in docs/benchmarks.md;
             --quick is a short smoke run
  release    release build of the CLI, version agreement across crates, then
             dist/zlayer-secrets-<version>-<target>.tar.gz and dist/SHA256SUMS
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("ci" | "test") => ci::run_ci(&rest),
        Some("demo") => demo::run_demo(&rest),
        Some("fuzz") => fuzz::run_fuzz(&rest),
        Some("bench") => bench::run_bench(&rest),
        Some("release") => release::run_release(&rest),
        Some("tidy") => tidy::run_tidy(&rest),
        Some("-h" | "--help" | "help") | None => {
            eprint!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}
