//! `cargo xtask release`: the release archive of the command-line tool.
//!
//! Steps (each stops the run on failure):
//! 1. every workspace crate has the workspace version: inherited (`version.workspace = true`)
//!    or overridden with the same value, and the path dependencies between our crates ask
//!    for exactly that version;
//! 2. `cargo build --release --locked -p zlayer-secrets-cli`;
//! 3. `dist/zlayer-secrets-<version>-<target-triple>.tar.gz` holding the CLI's binaries
//!    (`zlayer-secret`, and `docker-credential-zlayer` when the crate has it), `README.md`,
//!    `LICENSE-MIT` and `LICENSE-APACHE`, in one top directory of the same name. The archive
//!    is reproducible: sorted entries, owner 0, file times from the last commit
//!    (`SOURCE_DATE_EPOCH` when set), gzip without a timestamp;
//! 4. `dist/SHA256SUMS` with the archive's SHA-256 in `sha256sum` format (lines for other
//!    archives still in `dist/` are kept);
//! 5. the archive is checked: its listing is exactly the expected files, `sha256sum -c`
//!    agrees (when the tool is present), and the packed `zlayer-secret --version` and
//!    `docker-credential-zlayer version` (a program of its own, which needs nothing beside
//!    it) run and name the version.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cmd::{cargo, root, run, stdout_of, target_dir, works};

/// The crate whose binaries are released.
const CLI_CRATE: &str = "zlayer-secrets-cli";
/// The binary every release must contain.
const MAIN_BINARY: &str = "zlayer-secret";
/// docker's credential helper, checked when the release contains it.
const DOCKER_HELPER: &str = "docker-credential-zlayer";
/// Files from the repository root packed beside the binaries.
const DOCS: [&str; 3] = ["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

pub(crate) fn run_release(args: &[String]) -> Result<()> {
    if let Some(arg) = args.first() {
        bail!("`cargo xtask release` takes no arguments (got `{arg}`)");
    }
    for doc in DOCS {
        if !root().join(doc).is_file() {
            bail!("{doc} is missing at the repository root; it goes into the release archive");
        }
    }

    let version = check_versions()?;
    eprintln!("release: every crate is at version {version}");
    let triple = host_triple()?;
    let binaries = build_binaries()?;

    let name = format!("zlayer-secrets-{version}-{triple}");
    let dist = root().join("dist");
    std::fs::create_dir_all(&dist).with_context(|| format!("creating {}", dist.display()))?;
    let staging_parent = target_dir().join("release-staging");
    let staging = staging_parent.join(&name);
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("clearing {}", staging.display()))?;
    }
    std::fs::create_dir_all(&staging)?;
    let mut expected = Vec::new();
    for bin in &binaries {
        let file = bin
            .file_name()
            .context("a binary path without a file name")?;
        copy_with_mode(bin, &staging.join(file), 0o755)?;
        expected.push(format!("{name}/{}", file.to_string_lossy()));
    }
    for doc in DOCS {
        copy_with_mode(&root().join(doc), &staging.join(doc), 0o644)?;
        expected.push(format!("{name}/{doc}"));
    }

    let archive_name = format!("{name}.tar.gz");
    let archive = dist.join(&archive_name);
    let epoch = source_date_epoch()?;
    run(Command::new("tar")
        .current_dir(&staging_parent)
        .args([
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--format=gnu",
            &format!("--mtime=@{epoch}"),
            "--use-compress-program=gzip -9n",
            "-cf",
        ])
        .arg(&archive)
        .arg(&name))?;
    std::fs::remove_dir_all(&staging).ok();

    let digest = sha256_hex(&archive)?;
    let sums_path = dist.join("SHA256SUMS");
    let existing = std::fs::read_to_string(&sums_path).unwrap_or_default();
    let sums = merge_sums(&existing, &archive_name, &digest, |other| {
        dist.join(other).is_file()
    });
    std::fs::write(&sums_path, sums).with_context(|| format!("writing {}", sums_path.display()))?;

    verify(&archive, &name, &expected, &version)?;
    eprintln!("release: {}", archive.display());
    eprintln!(
        "release: {digest}  {archive_name} (in {})",
        sums_path.display()
    );
    Ok(())
}

/// How a crate manifest's `[package]` section states its version.
#[derive(Debug, PartialEq, Eq)]
enum VersionDecl {
    Inherited,
    Explicit(String),
    Missing,
}

/// The `[section]` of a TOML manifest as its lines (comments and blank lines included).
fn section<'a>(manifest: &'a str, header: &str) -> impl Iterator<Item = &'a str> {
    manifest
        .lines()
        .skip_while(move |l| l.trim() != header)
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
}

/// The value of a `key = "value"` line, ignoring a trailing comment.
fn string_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line
        .trim()
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

/// `version` in the root manifest's `[workspace.package]`.
fn workspace_version(root_manifest: &str) -> Option<String> {
    section(root_manifest, "[workspace.package]")
        .find_map(|l| string_value(l, "version"))
        .map(str::to_owned)
}

fn package_version_decl(manifest: &str) -> VersionDecl {
    for line in section(manifest, "[package]") {
        let compact: String = line
            .split('#')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if compact == "version.workspace=true" || compact == "version={workspace=true}" {
            return VersionDecl::Inherited;
        }
        if let Some(v) = string_value(line, "version") {
            return VersionDecl::Explicit(v.to_owned());
        }
    }
    VersionDecl::Missing
}

/// A workspace crate as far as version agreement goes.
#[derive(Debug)]
struct Member {
    name: String,
    /// The version cargo resolved.
    version: String,
    decl: VersionDecl,
    /// Path dependencies on other crates of this repository: (name, requirement).
    path_deps: Vec<(String, String)>,
}

/// Everything that disagrees with `workspace`, one sentence each.
fn version_problems(workspace: &str, members: &[Member]) -> Vec<String> {
    let mut problems = Vec::new();
    for m in members {
        match &m.decl {
            VersionDecl::Inherited => {}
            VersionDecl::Explicit(v) if v == workspace => {}
            VersionDecl::Explicit(v) => problems.push(format!(
                "{} sets version {v}, the workspace is at {workspace}",
                m.name
            )),
            VersionDecl::Missing => problems.push(format!(
                "{} states no version (use `version.workspace = true`)",
                m.name
            )),
        }
        let declared_right = match &m.decl {
            VersionDecl::Inherited => true,
            VersionDecl::Explicit(v) => v == workspace,
            VersionDecl::Missing => false,
        };
        if declared_right && m.version != workspace {
            problems.push(format!(
                "cargo resolves {} to version {}, the workspace is at {workspace}",
                m.name, m.version
            ));
        }
        for (dep, req) in &m.path_deps {
            let bare = req.trim_start_matches(['^', '=', '~', ' ']);
            if bare != workspace {
                problems.push(format!(
                    "{} depends on {dep} `{req}`, which does not name version {workspace}",
                    m.name
                ));
            }
        }
    }
    problems
}

/// Members of the workspace from `cargo metadata --no-deps` plus their manifests' text.
fn members_from_metadata(
    metadata: &str,
    read_manifest: impl Fn(&str) -> Result<String>,
) -> Result<Vec<Member>> {
    let value: Value = serde_json::from_str(metadata).context("parsing `cargo metadata`")?;
    let packages = value["packages"]
        .as_array()
        .context("`cargo metadata` output has no `packages` list")?;
    let mut members = Vec::new();
    for p in packages {
        let name = p["name"].as_str().context("a package without a name")?;
        let manifest_path = p["manifest_path"]
            .as_str()
            .with_context(|| format!("{name} has no manifest path"))?;
        let path_deps = p["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["path"].is_string())
            .filter_map(|d| {
                Some((
                    d["name"].as_str()?.to_owned(),
                    d["req"].as_str()?.to_owned(),
                ))
            })
            .collect();
        members.push(Member {
            name: name.to_owned(),
            version: p["version"].as_str().unwrap_or_default().to_owned(),
            decl: package_version_decl(&read_manifest(manifest_path)?),
            path_deps,
        });
    }
    Ok(members)
}

/// Checks version agreement and returns the version.
fn check_versions() -> Result<String> {
    let root_manifest = std::fs::read_to_string(root().join("Cargo.toml"))
        .context("reading the root Cargo.toml")?;
    let workspace = workspace_version(&root_manifest)
        .context("the root Cargo.toml has no `version` in `[workspace.package]`")?;
    let metadata =
        stdout_of(cargo().args(["metadata", "--no-deps", "--locked", "--format-version", "1"]))?;
    let members = members_from_metadata(&metadata, |path| {
        std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
    })?;
    if !members.iter().any(|m| m.name == CLI_CRATE) {
        bail!("the workspace has no `{CLI_CRATE}` crate to release");
    }
    let problems = version_problems(&workspace, &members);
    if !problems.is_empty() {
        bail!("crate versions disagree:\n  {}", problems.join("\n  "));
    }
    Ok(workspace)
}

fn host_triple() -> Result<String> {
    let out = stdout_of(Command::new("rustc").arg("-vV"))?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|t| t.trim().to_owned())
        .context("`rustc -vV` did not say the host triple")
}

/// Builds the CLI in release mode and returns its binaries, as cargo reports them.
fn build_binaries() -> Result<Vec<PathBuf>> {
    eprintln!("$ cargo build --release --locked -p {CLI_CRATE}");
    let mut child = cargo()
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            CLI_CRATE,
            "--message-format=json-render-diagnostics",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start `cargo build`")?;
    let mut binaries = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            if let Some(bin) = binary_artifact(&line.context("reading cargo's messages")?) {
                binaries.push(bin);
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("`cargo build --release --locked -p {CLI_CRATE}` failed with {status}");
    }
    binaries.sort();
    binaries.dedup();
    if !binaries
        .iter()
        .any(|b| b.file_name().is_some_and(|n| n == MAIN_BINARY))
    {
        bail!("the release build produced no `{MAIN_BINARY}` binary");
    }
    Ok(binaries)
}

/// The executable of a `compiler-artifact` message for a `bin` target, if that is what
/// `line` is.
fn binary_artifact(line: &str) -> Option<PathBuf> {
    let v: Value = serde_json::from_str(line).ok()?;
    if v["reason"] != "compiler-artifact" {
        return None;
    }
    let is_bin = v["target"]["kind"]
        .as_array()
        .is_some_and(|k| k.iter().any(|k| k == "bin"));
    if !is_bin {
        return None;
    }
    v["executable"].as_str().map(PathBuf::from)
}

fn copy_with_mode(from: &Path, to: &Path, mode: u32) -> Result<()> {
    std::fs::copy(from, to)
        .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

/// File times inside the archive: `SOURCE_DATE_EPOCH`, else the last commit's time.
fn source_date_epoch() -> Result<u64> {
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        return v
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH is not a number of seconds: `{v}`"));
    }
    let out =
        stdout_of(
            Command::new("git")
                .current_dir(root())
                .args(["log", "-1", "--format=%ct"]),
        )
        .context("asking git for the last commit's time (or set SOURCE_DATE_EPOCH)")?;
    out.parse()
        .with_context(|| format!("`git log` gave a commit time that is not a number: `{out}`"))
}

fn sha256_hex(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {}", path.display()))?;
    Ok(hex_lower(&hasher.finalize()))
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// `SHA256SUMS` with `name`'s line replaced or added; lines of other files are kept when
/// `keep` says they still exist. Lines are sorted by file name.
fn merge_sums(existing: &str, name: &str, digest: &str, keep: impl Fn(&str) -> bool) -> String {
    let mut lines: Vec<(String, String)> = existing
        .lines()
        .filter_map(|l| {
            let (hash, file) = l.split_once("  ")?;
            Some((file.trim().to_owned(), hash.trim().to_owned()))
        })
        .filter(|(file, _)| file != name && keep(file))
        .collect();
    lines.push((name.to_owned(), digest.to_owned()));
    lines.sort();
    let mut out = String::new();
    for (file, hash) in lines {
        out.push_str(&hash);
        out.push_str("  ");
        out.push_str(&file);
        out.push('\n');
    }
    out
}

/// Lists the archive, checks its sum, unpacks it and runs the packed CLI.
fn verify(archive: &Path, name: &str, expected: &[String], version: &str) -> Result<()> {
    let listing = stdout_of(Command::new("tar").arg("-tzf").arg(archive))?;
    let mut files: Vec<&str> = listing.lines().filter(|l| !l.ends_with('/')).collect();
    files.sort_unstable();
    let mut want: Vec<&str> = expected.iter().map(String::as_str).collect();
    want.sort_unstable();
    if files != want {
        bail!("the archive holds {files:?}, expected {want:?}");
    }
    let dist = archive.parent().context("the archive is in dist/")?;
    if works("sha256sum", &["--version"]) {
        run(Command::new("sha256sum").current_dir(dist).args([
            "--check",
            "--ignore-missing",
            "SHA256SUMS",
        ]))?;
    }
    let unpack = target_dir().join("release-verify");
    if unpack.exists() {
        std::fs::remove_dir_all(&unpack)?;
    }
    std::fs::create_dir_all(&unpack)?;
    run(Command::new("tar")
        .arg("-xzf")
        .arg(archive)
        .arg("-C")
        .arg(&unpack))?;
    let mut checks = vec![(MAIN_BINARY, "--version")];
    if expected
        .iter()
        .any(|f| f.ends_with(&format!("/{DOCKER_HELPER}")))
    {
        checks.push((DOCKER_HELPER, "version"));
    }
    for (binary, arg) in checks {
        let said = stdout_of(Command::new(unpack.join(name).join(binary)).arg(arg));
        let said = match said {
            Ok(said) => said,
            Err(e) => {
                std::fs::remove_dir_all(&unpack).ok();
                return Err(e);
            }
        };
        if !said
            .split_whitespace()
            .any(|w| w.trim_start_matches('v') == version)
        {
            std::fs::remove_dir_all(&unpack).ok();
            bail!("the packed `{binary} {arg}` says `{said}`, not version {version}");
        }
        eprintln!("release: the packed `{binary} {arg}` says `{said}`");
    }
    std::fs::remove_dir_all(&unpack).ok();
    Ok(())
}

#[cfg(test)]
mod tests;
