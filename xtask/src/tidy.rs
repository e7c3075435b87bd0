//! `cargo xtask tidy`: repository hygiene that no compiler checks.
//!
//! The checks run as the first step of `cargo xtask ci` and as an ordinary `#[test]` of this
//! crate, so a plain `cargo test --workspace` enforces them too.
//!
//! - **Ignored tests are OpenBao tests.** `cargo xtask ci` runs the `#[ignore]`d tests against
//!   a real OpenBao dev server and fails when none ran; that guard means something only if
//!   every ignored test is one that needs the server. Every `#[ignore]` in the tree must read
//!   exactly [`OPENBAO_IGNORE`]; any other ignore (a bare one, another reason, or one behind
//!   `cfg_attr`, except `cfg_attr(miri, ignore = "why")`, which CI never compiles) is refused
//!   with its file and line. Helpers that a test runs in a child
//!   process are ordinary tests that return at once unless their environment variable is set.
//! - **Fuzz targets use the crates, not their files.** No `#[path]` attribute anywhere under
//!   `fuzz/`: a target that compiles a source file of a crate into itself tests a copy built
//!   with other dependencies and features, and breaks silently when the file moves.
//! - **Dependencies point down the stack** of `docs/architecture.md`, light crates stay
//!   light, and `no_std` stays possible ([`deps`]: `cargo metadata` and `cargo tree`).
//! - **The documents exist and the code map is complete** ([`docs`]): the README and the
//!   documents it links, and a row in the code map of `docs/architecture.md` for every crate
//!   under `crates/` (and no row for a crate that is gone).

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cmd::root;

mod deps;
mod docs;

/// The one `#[ignore]` attribute the tree may hold: a test that needs an OpenBao server.
pub(crate) const OPENBAO_IGNORE: &str = r#"#[ignore = "needs OpenBao; run by cargo xtask ci"]"#;

/// Directories searched for Rust sources, relative to the repository root.
const SOURCE_DIRS: &[&str] = &["crates", "xtask", "fuzz", "checks"];

/// One rule broken at one place.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    /// The file, relative to the repository root.
    pub(crate) file: PathBuf,
    /// 1-based line number; 0 when the problem is the file as a whole.
    pub(crate) line: usize,
    /// What is wrong.
    pub(crate) what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.what)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.what)
        }
    }
}

/// `cargo xtask tidy`.
pub(crate) fn run_tidy(args: &[String]) -> Result<()> {
    if let Some(unknown) = args.first() {
        bail!("unknown option `{unknown}` for `cargo xtask tidy`");
    }
    let violations = check_tree(&root())?;
    if violations.is_empty() {
        eprintln!("tidy: ok");
        return Ok(());
    }
    let mut message = String::from("tidy found problems:\n");
    for v in &violations {
        let _ = writeln!(message, "  {v}");
    }
    bail!(message.trim_end().to_owned())
}

/// Every violation in the tree under `root`.
pub(crate) fn check_tree(root: &Path) -> Result<Vec<Violation>> {
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        collect_rust_files(&root.join(dir), &mut files)?;
    }
    files.sort();
    let mut violations = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        violations.extend(check_ignores(&relative, &text));
        if relative.starts_with("fuzz") {
            violations.extend(check_fuzz_paths(&relative, &text));
        }
    }
    violations.extend(docs::check_required(root));
    violations.extend(docs::check_code_map(root)?);
    violations.extend(deps::check(root)?);
    Ok(violations)
}

/// The `#[path]` attributes of a source file under `fuzz/`.
pub(crate) fn check_fuzz_paths(file: &Path, text: &str) -> Vec<Violation> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.trim_start();
            code.starts_with("#[path") || code.starts_with("#![path")
        })
        .map(|(index, line)| Violation {
            file: file.to_path_buf(),
            line: index + 1,
            what: format!(
                "`{}`: a fuzz target depends on the crate it fuzzes (a path dependency in \
                 fuzz/Cargo.toml), never on one of its source files",
                line.trim()
            ),
        })
        .collect()
}

/// The `#[ignore]` attributes of one source file that are not [`OPENBAO_IGNORE`].
pub(crate) fn check_ignores(file: &Path, text: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let code = line.trim_start();
        let what = if code.starts_with("#[ignore") {
            if code.trim_end() == OPENBAO_IGNORE {
                continue;
            }
            format!(
                "`{}`: the only ignored tests are OpenBao tests, marked `{OPENBAO_IGNORE}`; \
                 gate a helper on an environment variable instead",
                code.trim_end()
            )
        } else if code.starts_with("#[cfg_attr")
            && code.contains("ignore")
            && !code.starts_with("#[cfg_attr(miri, ignore = ")
        {
            format!(
                "`{}`: a conditional ignore other than Miri's can hide a test from both runs \
                 of `cargo xtask ci`",
                code.trim_end()
            )
        } else {
            continue;
        };
        out.push(Violation {
            file: file.to_path_buf(),
            line: index + 1,
            what,
        });
    }
    out
}

/// Adds the `.rs` files under `dir` to `out`, skipping build output (`target*`) and hidden
/// directories.
fn collect_rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name.starts_with('.') || name.starts_with("target") || name == "corpus" {
                continue;
            }
            collect_rust_files(&path, out)?;
        } else if kind.is_file() && name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{OPENBAO_IGNORE, Violation, check_fuzz_paths, check_ignores, check_tree};
    use crate::cmd::root;

    #[test]
    fn the_tree_is_tidy() {
        let violations = check_tree(&root()).unwrap();
        let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert!(listed.is_empty(), "{}", listed.join("\n"));
    }

    #[test]
    fn only_the_openbao_ignore_is_accepted() {
        let file = Path::new("a.rs");
        let ok = format!("#[test]\n    {OPENBAO_IGNORE}\nfn t() {{}}\n");
        assert!(check_ignores(file, &ok).is_empty());

        let bad = [
            "#[ignore]",
            "#[ignore = \"slow\"]",
            "  #[ignore = \"needs OpenBao\"]",
            "#[cfg_attr(miri, ignore)]",
            "#[cfg_attr(not(feature = \"vault\"), ignore)]",
        ];
        for attr in bad {
            let text = format!("//! docs\n#[test]\n{attr}\nfn t() {{}}\n");
            let found = check_ignores(file, &text);
            assert_eq!(found.len(), 1, "{attr}");
            assert_eq!(found[0].line, 3, "{attr}");
            assert!(
                found[0].to_string().starts_with("a.rs:3: `"),
                "{}",
                found[0]
            );
        }
    }

    #[test]
    fn a_miri_ignore_with_a_reason_is_accepted() {
        let text = "#[test]\n#[cfg_attr(miri, ignore = \"spawns processes\")]\nfn t() {}\n";
        assert!(check_ignores(Path::new("c.rs"), text).is_empty());
    }

    #[test]
    fn a_path_attribute_in_a_fuzz_target_is_refused() {
        let file = Path::new("fuzz/fuzz_targets/json_import.rs");
        let text = "#![no_main]\n\n#[allow(dead_code)]\n#[path = \"../../crates/x/src/json.rs\"]\nmod json;\n";
        let found = check_fuzz_paths(file, text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].line, 4);
        assert!(
            found[0]
                .to_string()
                .starts_with("fuzz/fuzz_targets/json_import.rs:4: `#[path = "),
            "{}",
            found[0]
        );
        let clean = "//! uses #[path] in prose only\nuse zlayer_secrets_formats::json;\n";
        assert!(check_fuzz_paths(file, clean).is_empty());
    }

    #[test]
    fn a_whole_file_violation_has_no_line() {
        let v = Violation {
            file: "docs/cli.md".into(),
            line: 0,
            what: "missing".into(),
        };
        assert_eq!(v.to_string(), "docs/cli.md: missing");
    }

    #[test]
    fn comments_and_strings_are_not_attributes() {
        let text = "//! #[ignore]\n/// #[ignore = \"x\"]\nlet s = \"#[ignore]\";\n";
        assert!(check_ignores(Path::new("b.rs"), text).is_empty());
    }
}
