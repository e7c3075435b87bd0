//! `zlayer-secret`, the command-line tool of zlayer-secrets: manage the secrets of a local
//! encrypted store and start programs with their secret references resolved.
//!
//! See `docs/cli.md` for every verb. Exit codes: 0 success, 1 failure, 2 usage error; `run`
//! exits with its program's code.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // Help and version exit 0, usage errors 2.
    let cli = zlayer_secrets_cli::Cli::parse();
    zlayer_secrets_cli::run(cli)
}
