//! `docker-credential-zlayer`: docker's credential-helper protocol over the registry
//! credentials of a zlayer-secrets store (see `docs/cli.md`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    zlayer_secrets_cli::docker_credential_helper(&args)
}
