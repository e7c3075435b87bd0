//! python-dotenv, the most common dotenv reader, as the tests run it.
//!
//! The Python is `ZLAYER_TEST_PYTHON` (which `cargo xtask ci` sets to the one it installed
//! python-dotenv for), else `python3`, else `python`. A test that needs python-dotenv fails
//! without it, saying how to install it: it is never skipped.

use std::path::Path;
use std::process::{Command, Stdio};

/// The python-dotenv release `cargo xtask ci` installs.
const PYTHON_DOTENV_VERSION: &str = "1.2.2";

/// The Python interpreter to run python-dotenv with.
fn python() -> String {
    if let Some(python) = std::env::var_os("ZLAYER_TEST_PYTHON").filter(|p| !p.is_empty()) {
        return python.to_string_lossy().into_owned();
    }
    let runs = |p: &str| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if runs("python3") { "python3" } else { "python" }.to_owned()
}

/// Runs `cmd` (a command of the [`python`] interpreter) to its end with no input; panics
/// saying how to get python-dotenv when the interpreter cannot be started.
fn python_output(python: &str, cmd: &mut Command) -> std::process::Output {
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| {
        panic!(
            "cannot run {python} ({e}): the dotenv tests need Python with python-dotenv \
             {PYTHON_DOTENV_VERSION}; install it with `python3 -m pip install \
             python-dotenv=={PYTHON_DOTENV_VERSION}` (cargo xtask ci does), or name the \
             interpreter in ZLAYER_TEST_PYTHON"
        )
    })
}

/// What python-dotenv's `dotenv_values(path, interpolate=...)` returns: every key in the
/// order of the file, `None` for a key without `=`; and what it wrote on stderr (its
/// warnings about lines it could not parse).
pub(crate) fn dotenv_values(
    path: &Path,
    interpolate: bool,
) -> (Vec<(String, Option<String>)>, String) {
    const SCRIPT: &str = "\
import json, sys
try:
    from dotenv import dotenv_values
except ImportError:
    sys.exit(86)
values = dotenv_values(sys.argv[1], interpolate=sys.argv[2] == '1')
sys.stdout.write(json.dumps(list(values.items())))
";
    let python = python();
    let out = python_output(
        &python,
        Command::new(&python)
            .args(["-c", SCRIPT])
            .arg(path)
            .arg(if interpolate { "1" } else { "0" })
            // A variable the files name, so that an expansion shows.
            .env("ZLAYER_TEST_MARKER", "EXPANDED"),
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.code() != Some(86),
        "{python} has no python-dotenv: install it with `{python} -m pip install \
         python-dotenv=={PYTHON_DOTENV_VERSION}` (cargo xtask ci does), or name another \
         interpreter in ZLAYER_TEST_PYTHON"
    );
    assert!(
        out.status.success(),
        "{python} failed reading {}: {stderr}",
        path.display()
    );
    let values = serde_json::from_slice(&out.stdout).expect("python wrote a JSON list of pairs");
    (values, stderr)
}

/// The python-dotenv version the Python has (checked once by the tests that use it, so a
/// different release shows in the failure).
pub(crate) fn dotenv_version() -> String {
    let python = python();
    let out = python_output(
        &python,
        Command::new(&python).args([
            "-c",
            "import importlib.metadata as m; print(m.version('python-dotenv'))",
        ]),
    );
    assert!(
        out.status.success(),
        "{python} has no python-dotenv: install it with `{python} -m pip install \
         python-dotenv=={PYTHON_DOTENV_VERSION}` (cargo xtask ci does)"
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
