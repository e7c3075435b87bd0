//! `docker-credential-zlayer`: docker's credential-helper protocol over the registry
//! credentials of a zlayer-secrets store (see `docs/cli.md`).
//!
//! The protocol is implemented by `zlayer-secret`, which speaks it when started under this
//! name. This program starts the `zlayer-secret` installed beside it (never another one
//! from `PATH`, which could be of another version) under this name, with the same
//! arguments, standard streams and environment; on Unix it replaces itself with it.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The program implementing the protocol, expected in the same directory.
const MAIN_PROGRAM: &str = "zlayer-secret";

fn main() -> ExitCode {
    match launch() {
        Ok(code) => code,
        Err(message) => {
            // docker reads a helper's errors from stdout.
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{message}");
            let _ = out.flush();
            ExitCode::FAILURE
        }
    }
}

/// `zlayer-secret` beside this program.
fn main_program() -> Result<PathBuf, String> {
    let me = std::env::current_exe()
        .map_err(|e| format!("cannot find the path of this program: {e}"))?;
    let name = format!("{MAIN_PROGRAM}{}", std::env::consts::EXE_SUFFIX);
    let path = me.with_file_name(name);
    if !path.is_file() {
        return Err(format!(
            "{} is missing: docker-credential-zlayer needs zlayer-secret installed beside it",
            path.display()
        ));
    }
    Ok(path)
}

#[cfg(unix)]
fn launch() -> Result<ExitCode, String> {
    use std::os::unix::process::CommandExt as _;
    let path = main_program()?;
    let err = Command::new(&path)
        .arg0("docker-credential-zlayer")
        .args(std::env::args_os().skip(1))
        .exec();
    Err(format!("cannot start {}: {err}", path.display()))
}

#[cfg(not(unix))]
fn launch() -> Result<ExitCode, String> {
    let path = main_program()?;
    // Without `exec`, the helper name travels in an environment variable.
    let status = Command::new(&path)
        .args(std::env::args_os().skip(1))
        .env("ZLAYER_SECRETS_AS", "docker-credential-zlayer")
        .status()
        .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(1) & 0xff).unwrap_or(1),
    ))
}
