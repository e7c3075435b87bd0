//! Project automation for zlayer-secrets, run as `cargo xtask <task>`.
//!
//! - `ci`: the whole test suite, exactly what `.ci/run` and the README's test command run.
//!
//! Each task lives in its own module; helpers shared between tasks live in `cmd`.

mod ci;
mod cmd;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  ci         format check, clippy (-D warnings), no_std proof, docs, all tests including the
             OpenBao ones against a real server it starts, cargo-deny (licenses, bans, sources)
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("ci" | "test") => ci::run_ci(&rest),
        Some("-h" | "--help" | "help") | None => {
            eprint!("{USAGE}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}
