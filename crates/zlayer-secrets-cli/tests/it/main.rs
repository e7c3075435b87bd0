//! End-to-end tests of the `zlayer-secret` binary against temporary data directories.
#![allow(clippy::unwrap_used)] // tests report failure by panicking, also in helpers

mod audit;
mod docker_credential;
mod dotenv_interop;
mod git_credential;
mod git_interop;
mod grants;
mod inject;
mod keys;
mod leak;
mod memory;
mod mount_dir;
mod pty;
mod python;
mod remote;
mod remote_tls;
mod run;
mod secrets;
mod transfer;
mod vault;
mod watch;

use std::cell::RefCell;
use std::io::{BufRead as _, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use tempfile::TempDir;
pub(crate) use zlayer_secrets_testsupport::contains;
pub(crate) use zlayer_secrets_testsupport::process::Run;
use zlayer_secrets_testsupport::process::run_command;

/// The binary under test.
pub(crate) fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_zlayer-secret")
}

/// A temporary data directory and every output of the commands run against it.
pub(crate) struct Store {
    dir: TempDir,
    pub(crate) log: RefCell<Vec<(Vec<String>, Run)>>,
}

impl Store {
    pub(crate) fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            log: RefCell::new(Vec::new()),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command with a clean environment for the key and data directory.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env("ZLAYER_SECRETS_DIR", self.path())
            .env_remove("ZLAYER_SECRETS_KEY")
            .env_remove("ZLAYER_SECRETS_PASSWORD")
            .env_remove("RUST_LOG")
            // Local unless a test says otherwise (tests/it/remote.rs).
            .env_remove("ZLAYER_SECRETS_SERVER")
            .env_remove("ZLAYER_SECRETS_SERVER_CA")
            .env_remove("ZLAYER_SECRETS_API_KEY")
            .env_remove("ZLAYER_SECRETS_API_SECRET");
        cmd
    }

    /// Runs with no stdin.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    /// Runs with `stdin` and extra variables.
    pub(crate) fn run_with(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
    ) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let run = run_command(cmd, stdin);
        self.log
            .borrow_mut()
            .push((args.iter().map(|s| (*s).to_owned()).collect(), run.clone()));
        run
    }

    /// `run FLAGS... -- sh -c SCRIPT` with the extra variables `env`.
    pub(crate) fn run_script(&self, flags: &[&str], script: &str, env: &[(&str, &str)]) -> Run {
        self.run_with(&script_args(flags, script), None, env)
    }

    /// Stores `value` as `name` (in the default scope unless `scope` args are given).
    pub(crate) fn put(&self, name: &str, value: &str, scope: &[&str]) {
        let mut args = vec!["set", name, "--from-stdin"];
        args.extend_from_slice(scope);
        self.run_with(&args, Some(value.as_bytes()), &[]).ok();
    }

    /// The value of `name`, via `get --reveal`.
    pub(crate) fn reveal(&self, name: &str, scope: &[&str]) -> String {
        let mut args = vec!["get", name, "--reveal"];
        args.extend_from_slice(scope);
        self.run(&args).ok().out()
    }

    /// Every file of the data directory.
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }
}

/// The names `ls --output json` printed (`run` is its run), in its order.
pub(crate) fn listed_names(run: &Run) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_slice(&run.ok().stdout).unwrap();
    doc["secrets"]
        .as_array()
        .unwrap_or_else(|| panic!("no list of secrets in {doc}"))
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The arguments `run FLAGS... -- sh -c SCRIPT`.
pub(crate) fn script_args<'a>(flags: &[&'a str], script: &'a str) -> Vec<&'a str> {
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "sh", "-c", script]);
    args
}

/// Starts `cmd` with no input and its standard output piped (standard error as `stderr`
/// says); the child and the lines it prints.
pub(crate) fn spawn_lines(
    mut cmd: Command,
    stderr: Stdio,
) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// Sends `signal` (`-TERM`, ...) to process `pid` with `kill`; whether `kill` succeeded.
pub(crate) fn kill(signal: &str, pid: u32) -> bool {
    Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap()
        .success()
}

/// A deterministic generator (xorshift64*), so failures reproduce.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    /// A value mixing the characters that break naive dotenv and JSON writers.
    pub(crate) fn tricky_value(&mut self) -> String {
        const PIECES: &[&str] = &[
            "\n",
            "\r\n",
            "\r",
            "\"",
            "'",
            "\\",
            "$",
            "$HOME",
            "${X}",
            "#",
            " # ",
            "=",
            " ",
            "  ",
            "\t",
            "é",
            "€",
            "🦀",
            "中文",
            "\u{7f}",
            "\u{1}",
            "\\n",
            "export ",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
            "abc",
            "XYZ",
            "0123",
            "`",
            "{}",
            "[]",
            ",",
            ":",
        ];
        let len = self.below(12);
        let mut s = String::new();
        for _ in 0..len {
            s.push_str(PIECES[self.below(PIECES.len())]);
        }
        s
    }
}
