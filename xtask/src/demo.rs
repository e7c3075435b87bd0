//! `cargo xtask demo`: the main job, end to end, on the embedded SQLite store.
//!
//! Builds `zlayer-secret`, then in a fresh temporary data directory: stores secrets (one of
//! them JSON), lists them, shows that the database file holds no value in clear, rotates one,
//! and starts a process whose environment carries references, which `run` resolves and injects
//! (and masks when the process prints them).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};

use crate::cmd::{cargo, root, run};

/// Values the demo stores; it checks that none of them is in the database files in clear.
const DB_PASSWORD: &str = "correct horse battery staple";
const API_JSON: &str = r#"{"key":"ak_live_51Hx","region":"eu-west-1"}"#;

pub(crate) fn run_demo(args: &[String]) -> Result<()> {
    if let Some(unknown) = args.first() {
        bail!("`cargo xtask demo` takes no options (got `{unknown}`)");
    }
    run(cargo().args([
        "build",
        "--locked",
        "-p",
        "zlayer-secrets-cli",
        "--bin",
        "zlayer-secret",
    ]))?;
    let bin = target_dir().join("debug/zlayer-secret");
    ensure!(bin.exists(), "the build did not produce {}", bin.display());

    let dir = std::env::temp_dir().join(format!("zlayer-secrets-demo-{}", std::process::id()));
    let _cleanup = RemoveOnDrop(dir.clone());
    let data_dir = dir.join("data");
    let cli = Cli { bin, data_dir };

    step("store two secrets (values come from stdin, never from the command line)");
    cli.with_stdin(&["set", "db-password", "--from-stdin"], DB_PASSWORD)?;
    cli.with_stdin(&["set", "api", "--from-stdin"], API_JSON)?;
    cli.with_stdin(
        &["set", "db-password", "--env", "prod", "--from-stdin"],
        "prod-only-password",
    )?;

    step("list them: names, versions and dates, never values");
    cli.run(&["ls"])?;
    cli.run(&["ls", "--env", "prod"])?;

    step("the database on disk holds ciphertext only");
    let mut checked = 0;
    for entry in std::fs::read_dir(&cli.data_dir).context("reading the data directory")? {
        let path = entry?.path();
        if path.is_file() {
            let bytes = std::fs::read(&path)?;
            for value in [DB_PASSWORD, API_JSON, "prod-only-password"] {
                ensure!(
                    !contains(&bytes, value.as_bytes()),
                    "a stored value is readable in clear in {}",
                    path.display()
                );
            }
            eprintln!(
                "  {}: {} bytes, no value in clear",
                path.display(),
                bytes.len()
            );
            checked += 1;
        }
    }
    ensure!(
        checked > 0,
        "no database file was written in {}",
        cli.data_dir.display()
    );

    step("rotate one and look at its history");
    cli.with_stdin(
        &["rotate", "db-password", "--from-stdin"],
        "a brand new password",
    )?;
    cli.run(&["history", "db-password"])?;

    step("start a process with references resolved and injected");
    let script = "echo \"DB_PASSWORD has ${#DB_PASSWORD} characters\"; \
                  echo \"API region: $API_REGION\"; \
                  echo \"PROD_DB: $PROD_DB\"; \
                  echo \"printing a secret by mistake: $DB_PASSWORD\"";
    let status = Command::new(&cli.bin)
        .args(["--data-dir"])
        .arg(&cli.data_dir)
        .args(["run", "--", "sh", "-c", script])
        .env("DB_PASSWORD", "$S:db-password")
        .env("API_REGION", "$S:api/region")
        .env("PROD_DB", "$secret://prod/db-password")
        .status()
        .context("starting zlayer-secret run")?;
    ensure!(status.success(), "`zlayer-secret run` failed with {status}");
    eprintln!("\ndemo finished: values were stored encrypted, resolved and injected.");
    Ok(())
}

struct Cli {
    bin: PathBuf,
    data_dir: PathBuf,
}

impl Cli {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--data-dir").arg(&self.data_dir).args(args);
        eprintln!("$ zlayer-secret {}", args.join(" "));
        c
    }

    fn run(&self, args: &[&str]) -> Result<()> {
        let status = self.command(args).status()?;
        ensure!(
            status.success(),
            "`zlayer-secret {}` failed with {status}",
            args.join(" ")
        );
        Ok(())
    }

    fn with_stdin(&self, args: &[&str], input: &str) -> Result<()> {
        let mut child = self.command(args).stdin(Stdio::piped()).spawn()?;
        child
            .stdin
            .take()
            .context("stdin of zlayer-secret")?
            .write_all(input.as_bytes())?;
        let status = child.wait()?;
        ensure!(
            status.success(),
            "`zlayer-secret {}` failed with {status}",
            args.join(" ")
        );
        Ok(())
    }
}

fn step(what: &str) {
    eprintln!("\n== {what}");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if Path::new(&self.0).exists() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
