//! Which crates each crate may depend on.
//!
//! Three rules, each from `docs/architecture.md`:
//!
//! - **The stack.** Our crates depend only *down* the stack of the code map: [`STACK`] lists,
//!   for every workspace member, the workspace crates it may have as normal or build
//!   dependencies. Dev-dependencies may be any workspace crate (tests run against siblings),
//!   and the crates of [`DEV_ONLY`] may be nothing else. A member without a row, or a row
//!   without a member, is refused too, so that a new crate is placed in the stack on purpose.
//! - **Light crates stay light.** [`KEPT_OUT`] names crates whose normal dependency tree,
//!   with their default features and with all of them, must hold none of some groups of
//!   crates (core: no SQLite, AEAD, key-derivation or HTTP crates), read from `cargo tree`.
//! - **`no_std` stays possible.** In the normal tree of each crate of [`NO_STD`] (with its
//!   default features and with each feature set the `checks/` proof builds), no crate has
//!   its `std` feature on. Procedural macros run on the build machine and do not count.
//!   `checks/no-std-ref` is the proof that links; this is the quick reading of the tree.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

use super::Violation;
use crate::cmd::{cargo, stdout_of};

const REF: &str = "zlayer-secrets-ref";
const CORE: &str = "zlayer-secrets-core";
const CRYPTO: &str = "zlayer-secrets-crypto";
const SQLITE: &str = "zlayer-secrets-sqlite";
const CREDENTIALS: &str = "zlayer-secrets-credentials";
const FORMATS: &str = "zlayer-secrets-formats";
const INJECT: &str = "zlayer-secrets-inject";
const HELPERS: &str = "zlayer-secrets-helpers";
const VAULT: &str = "zlayer-secrets-vault";
const FACADE: &str = "zlayer-secrets";
const API: &str = "zlayer-secrets-api";
const SERVER: &str = "zlayer-secrets-server";
const CLIENT: &str = "zlayer-secrets-client";
const CLI: &str = "zlayer-secrets-cli";
const TESTSUPPORT: &str = "zlayer-secrets-testsupport";

/// Every workspace member and the workspace crates it may use as a normal or build
/// dependency: `ref ← core ← {crypto, sqlite, credentials, vault} ← facade ← cli`, as the
/// code map of `docs/architecture.md` draws it. A new crate gets a row here and one there.
pub(crate) const STACK: &[(&str, &[&str])] = &[
    (REF, &[]),
    (CORE, &[REF]),
    (CRYPTO, &[CORE]),
    (SQLITE, &[CORE, CRYPTO]),
    (CREDENTIALS, &[CORE, CRYPTO]),
    (VAULT, &[CORE]),
    (FACADE, &[REF, CORE, CRYPTO, SQLITE, CREDENTIALS, VAULT]),
    (FORMATS, &[CORE]),
    (INJECT, &[CORE, CRYPTO]),
    (HELPERS, &[CORE, CREDENTIALS]),
    (API, &[CORE]),
    (SERVER, &[CORE, CRYPTO, CREDENTIALS, FORMATS, API]),
    (CLIENT, &[CORE, API]),
    (CLI, &[FACADE, FORMATS, INJECT, HELPERS, SERVER, CLIENT]),
    (TESTSUPPORT, &[CORE]),
    ("xtask", &[]),
];

/// Workspace crates that may only ever be dev-dependencies.
pub(crate) const DEV_ONLY: &[&str] = &[TESTSUPPORT];

/// A kind of crate that a light crate must not pull in, and the crates of that kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    /// What the crates are, for messages.
    pub(crate) what: &'static str,
    /// Their package names.
    pub(crate) crates: &'static [&'static str],
}

/// Crates that hold SQLite.
const SQLITE_CRATES: Group = Group {
    what: "SQLite",
    crates: &["rusqlite", "libsqlite3-sys"],
};
/// Authenticated encryption.
const AEAD_CRATES: Group = Group {
    what: "authenticated encryption",
    crates: &["chacha20poly1305", "chacha20", "aead", "aes-gcm", "ring"],
};
/// Password hashing and key derivation.
const KDF_CRATES: Group = Group {
    what: "key derivation",
    crates: &["argon2", "pbkdf2", "scrypt", "hkdf", "bcrypt"],
};
/// HTTP clients and TLS.
const HTTP_CRATES: Group = Group {
    what: "HTTP or TLS",
    crates: &[
        "reqwest",
        "hyper",
        "h2",
        "ureq",
        "rustls",
        "openssl",
        "openssl-sys",
        "native-tls",
    ],
};

/// Crates whose normal dependency tree must hold none of the named groups.
pub(crate) const KEPT_OUT: &[(&str, &[Group])] = &[
    (CORE, &[SQLITE_CRATES, AEAD_CRATES, KDF_CRATES, HTTP_CRATES]),
    (API, &[SQLITE_CRATES, AEAD_CRATES, KDF_CRATES, HTTP_CRATES]),
    // The client of the server holds no store and no key: HTTP only.
    (CLIENT, &[SQLITE_CRATES, KDF_CRATES, OUR_CRYPTO]),
];

/// The workspace crates that hold keys or a database.
const OUR_CRYPTO: Group = Group {
    what: "zlayer-secrets' key and database crates",
    crates: &[CRYPTO, SQLITE, CREDENTIALS],
};

/// Crates that build without std, and the feature sets to read their tree with (besides
/// the default features): those of the `checks/` crate that proves it.
pub(crate) const NO_STD: &[(&str, &[&str])] = &[(REF, &["serde"])];

/// Every dependency rule, checked against the workspace under `root` (runs `cargo metadata`
/// and `cargo tree`).
pub(crate) fn check(root: &Path) -> Result<Vec<Violation>> {
    let manifest = root.join("Cargo.toml");
    let metadata = stdout_of(
        cargo()
            .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
            .arg("--manifest-path")
            .arg(&manifest),
    )?;
    let metadata: Value =
        serde_json::from_str(&metadata).context("reading the output of `cargo metadata`")?;
    let mut out = check_stack(&metadata, root, STACK, DEV_ONLY);

    for (krate, groups) in KEPT_OUT {
        for (label, features) in [
            ("default features", &[][..]),
            ("all features", &["--all-features"][..]),
        ] {
            let tree = normal_tree(&manifest, krate, "{p}", features)?;
            out.extend(check_kept_out(krate, label, &tree, groups));
        }
    }
    for (krate, feature_sets) in NO_STD {
        let mut runs = vec![(String::from("default features"), Vec::new())];
        for features in *feature_sets {
            runs.push((
                format!("features {features}"),
                vec!["--features", *features],
            ));
        }
        for (label, features) in runs {
            let mut args = features;
            args.extend(["-e", "no-proc-macro"]);
            let tree = normal_tree(&manifest, krate, "{p}|{f}", &args)?;
            out.extend(check_no_std(krate, &label, &tree));
        }
    }
    Ok(out)
}

/// `cargo tree` of the normal dependencies of `krate` for every target, one package a line
/// printed as `format`, with `extra` arguments (features, more edge kinds).
fn normal_tree(manifest: &Path, krate: &str, format: &str, extra: &[&str]) -> Result<String> {
    stdout_of(
        cargo()
            .args(["tree", "--locked", "--manifest-path"])
            .arg(manifest)
            .args([
                "-p", krate, "-e", "normal", "--target", "all", "--prefix", "none",
            ])
            .args(["--format", format])
            .args(extra),
    )
}

/// The package names of a `cargo tree --prefix none` listing (the first word of a line).
fn tree_packages(tree: &str) -> impl Iterator<Item = &str> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
}

/// The stack rule over `cargo metadata --no-deps` output: `stack` names what each member
/// may depend on, `dev_only` the crates that may only be dev-dependencies.
pub(crate) fn check_stack(
    metadata: &Value,
    root: &Path,
    stack: &[(&str, &[&str])],
    dev_only: &[&str],
) -> Vec<Violation> {
    let mut out = Vec::new();
    let packages = metadata["packages"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    let members: Vec<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    for package in packages {
        let Some(name) = package["name"].as_str() else {
            continue;
        };
        let manifest_path = Path::new(package["manifest_path"].as_str().unwrap_or_default());
        let manifest = manifest_path
            .strip_prefix(root)
            .unwrap_or(manifest_path)
            .to_path_buf();
        let manifest_text = std::fs::read_to_string(manifest_path).unwrap_or_default();
        let Some((_, allowed)) = stack.iter().find(|(krate, _)| *krate == name) else {
            out.push(Violation {
                file: manifest,
                line: 0,
                what: format!(
                    "`{name}` has no row in the dependency stack of xtask/src/tidy/deps.rs \
                     (`STACK`): give it the crates it may depend on, as in the code map of \
                     docs/architecture.md"
                ),
            });
            continue;
        };
        for dep in package["dependencies"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
        {
            let Some(dep_name) = dep["name"].as_str() else {
                continue;
            };
            if !members.contains(&dep_name) {
                continue;
            }
            let kind = dep["kind"].as_str().unwrap_or("normal");
            if kind == "dev" {
                continue;
            }
            let what = if dev_only.contains(&dep_name) {
                format!(
                    "`{name}` has `{dep_name}` as a {kind} dependency; it may only be a \
                     dev-dependency"
                )
            } else if !allowed.contains(&dep_name) {
                format!(
                    "`{name}` depends on `{dep_name}` ({kind}), which the stack does not \
                     allow: it may use {} (docs/architecture.md, code map)",
                    listed(allowed)
                )
            } else {
                continue;
            };
            out.push(Violation {
                line: line_of_dependency(&manifest_text, dep_name),
                file: manifest.clone(),
                what,
            });
        }
    }
    for (krate, _) in stack {
        if !members.contains(krate) {
            out.push(Violation {
                file: "xtask/src/tidy/deps.rs".into(),
                line: 0,
                what: format!(
                    "`STACK` has a row for `{krate}`, which is not a crate of the workspace"
                ),
            });
        }
    }
    out
}

/// `a, b and c`, or `none of our crates`.
fn listed(crates: &[&str]) -> String {
    match crates {
        [] => "none of our crates".to_owned(),
        [one] => format!("`{one}`"),
        [rest @ .., last] => {
            let rest: Vec<String> = rest.iter().map(|c| format!("`{c}`")).collect();
            format!("{} and `{last}`", rest.join(", "))
        }
    }
}

/// The 1-based line of a manifest that declares `dependency` (`name = ...` or
/// `name.workspace = true`), 0 when none does.
fn line_of_dependency(manifest: &str, dependency: &str) -> usize {
    manifest
        .lines()
        .position(|line| {
            line.trim_start()
                .strip_prefix(dependency)
                .is_some_and(|rest| {
                    let rest = rest.trim_start();
                    rest.starts_with('=') || rest.starts_with('.')
                })
        })
        .map_or(0, |i| i + 1)
}

/// The groups of `groups` found in the tree of `krate` (`cargo tree --prefix none`);
/// `label` says which features the tree was read with.
pub(crate) fn check_kept_out(
    krate: &str,
    label: &str,
    tree: &str,
    groups: &[Group],
) -> Vec<Violation> {
    let mut out = Vec::new();
    if !tree_packages(tree).any(|p| p == krate) {
        out.push(Violation {
            file: manifest_of(krate),
            line: 0,
            what: format!("`cargo tree -p {krate}` ({label}) does not list the crate itself"),
        });
        return out;
    }
    let mut seen = Vec::new();
    for package in tree_packages(tree) {
        for group in groups {
            if group.crates.contains(&package) && !seen.contains(&package) {
                seen.push(package);
                out.push(Violation {
                    file: manifest_of(krate),
                    line: 0,
                    what: format!(
                        "`{krate}` ({label}) has `{package}` ({}) among its normal \
                         dependencies; docs/architecture.md keeps it out",
                        group.what
                    ),
                });
            }
        }
    }
    out
}

/// The crates with their `std` feature on in the tree of `krate`, read as
/// `cargo tree --format {p}|{f}`; `label` says which features the tree was read with.
pub(crate) fn check_no_std(krate: &str, label: &str, tree: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut listed_itself = false;
    for line in tree.lines() {
        let Some((package, features)) = line.rsplit_once('|') else {
            continue;
        };
        let Some(name) = package.split_whitespace().next() else {
            continue;
        };
        listed_itself |= name == krate;
        if features.split(',').any(|f| f.trim() == "std") {
            out.push(Violation {
                file: manifest_of(krate),
                line: 0,
                what: format!(
                    "`{krate}` ({label}) must build without std, but `{name}` has its `std` \
                     feature on"
                ),
            });
        }
    }
    if !listed_itself {
        out.push(Violation {
            file: manifest_of(krate),
            line: 0,
            what: format!("`cargo tree -p {krate}` ({label}) does not list the crate itself"),
        });
    }
    out
}

/// `crates/NAME/Cargo.toml`.
fn manifest_of(krate: &str) -> std::path::PathBuf {
    Path::new("crates").join(krate).join("Cargo.toml")
}

#[cfg(test)]
mod tests;
