//! Small process helpers: run a command, echo it first, fail with its status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail};

/// The repository root (the parent of `xtask/`).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives inside the repository")
        .to_path_buf()
}

/// The cargo that runs us, so toolchain overrides carry through.
pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` with inherited output; an error if it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = describe(cmd);
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed with {status}");
    }
    Ok(())
}

/// Runs `cmd`, echoing its stdout and stderr as they come would lose ordering; instead it
/// captures both, prints them, and returns them for inspection.
pub(crate) fn run_captured(cmd: &mut Command) -> Result<Output> {
    let shown = describe(cmd);
    eprintln!("$ {shown}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    print_stdout(&out.stdout);
    if !out.status.success() {
        bail!("`{shown}` failed with {}", out.status);
    }
    Ok(out)
}

#[allow(clippy::print_stdout)] // relaying a child's stdout is the point
fn print_stdout(bytes: &[u8]) {
    print!("{}", String::from_utf8_lossy(bytes));
}

/// Whether `program --version`-like probing succeeds.
pub(crate) fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
