//! The documents the repository promises, and the code map that names every crate.

use std::path::Path;

use anyhow::{Context, Result};

use super::Violation;

/// Documents that must exist, relative to the repository root (the README links them all).
pub(crate) const REQUIRED_DOCS: &[&str] = &[
    "README.md",
    "docs/architecture.md",
    "docs/cli.md",
    "docs/server.md",
    "docs/format.md",
    "docs/security.md",
    "docs/benchmarks.md",
    "docs/reliability.md",
];

/// The document with the code map, and the heading of its section.
const ARCHITECTURE: &str = "docs/architecture.md";
const CODE_MAP: &str = "## Code map";

/// Every document of [`REQUIRED_DOCS`] missing under `root`.
pub(crate) fn check_required(root: &Path) -> Vec<Violation> {
    REQUIRED_DOCS
        .iter()
        .filter(|doc| !root.join(doc).is_file())
        .map(|doc| Violation {
            file: (*doc).into(),
            line: 0,
            what: "missing: the README and docs/architecture.md promise this document".into(),
        })
        .collect()
}

/// Every crate under `root/crates/` (a directory with a `Cargo.toml`) that the code-map
/// table of `docs/architecture.md` does not list, and every row of that table that names no
/// such crate.
pub(crate) fn check_code_map(root: &Path) -> Result<Vec<Violation>> {
    let doc = root.join(ARCHITECTURE);
    let Ok(text) = std::fs::read_to_string(&doc) else {
        // Reported by `check_required`.
        return Ok(Vec::new());
    };
    let rows = code_map_rows(&text);
    let mut out = Vec::new();
    if rows.is_empty() {
        out.push(Violation {
            file: ARCHITECTURE.into(),
            line: 0,
            what: format!(
                "no code-map table found: a `{CODE_MAP}` section with a table whose first \
                 column names each crate as `crate-name`"
            ),
        });
        return Ok(out);
    }
    let crates_dir = root.join("crates");
    let mut crates = Vec::new();
    if crates_dir.is_dir() {
        for entry in std::fs::read_dir(&crates_dir)
            .with_context(|| format!("listing {}", crates_dir.display()))?
        {
            let entry = entry?;
            if entry.path().join("Cargo.toml").is_file() {
                crates.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    crates.sort();
    for krate in &crates {
        if !rows.iter().any(|(name, _)| name == krate) {
            out.push(Violation {
                file: Path::new("crates").join(krate),
                line: 0,
                what: format!(
                    "`{krate}` has no row in the code-map table of {ARCHITECTURE}: add one \
                     (crate, purpose, depends on) and a paragraph on the crate"
                ),
            });
        }
    }
    for (name, line) in &rows {
        if !crates.contains(name) {
            out.push(Violation {
                file: ARCHITECTURE.into(),
                line: *line,
                what: format!("the code map lists `{name}`, which is not a crate under crates/"),
            });
        }
    }
    Ok(out)
}

/// The crate names of the code-map table, with their 1-based lines: the first cell of each
/// row of the first table in the `## Code map` section, when it is a name in backticks.
fn code_map_rows(text: &str) -> Vec<(String, usize)> {
    let mut rows = Vec::new();
    let mut in_section = false;
    let mut in_table = false;
    for (index, line) in text.lines().enumerate() {
        if line.starts_with("## ") {
            if in_section {
                break;
            }
            in_section = line.trim_end() == CODE_MAP;
            continue;
        }
        if !in_section {
            continue;
        }
        let Some(cells) = line.trim().strip_prefix('|') else {
            if in_table {
                break;
            }
            continue;
        };
        in_table = true;
        let first = cells.split('|').next().unwrap_or_default().trim();
        if let Some(name) = first
            .strip_prefix('`')
            .and_then(|rest| rest.strip_suffix('`'))
        {
            rows.push((name.to_owned(), index + 1));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::{REQUIRED_DOCS, check_code_map, check_required, code_map_rows};

    const MAP: &str = "# Architecture\n\n## Code map\n\nThe stack.\n\n\
        | crate | purpose | depends on |\n|---|---|---|\n\
        | `zlayer-secrets-ref` | grammar | nom |\n| `zlayer-secrets-core` | traits | ref |\n\
        \nMore prose with | a pipe.\n\n| `not-a-row` | x |\n\n## Data flow\n| `nor-this` |\n";

    #[test]
    fn the_code_map_rows_are_the_first_table_of_the_section() {
        assert_eq!(
            code_map_rows(MAP),
            [
                ("zlayer-secrets-ref".to_owned(), 9),
                ("zlayer-secrets-core".to_owned(), 10)
            ]
        );
        assert!(code_map_rows("# A\n| `x` |\n").is_empty());
    }

    #[test]
    fn a_missing_document_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let all = check_required(dir.path());
        assert_eq!(all.len(), REQUIRED_DOCS.len());
        for doc in REQUIRED_DOCS {
            let path = dir.path().join(doc);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        std::fs::remove_file(dir.path().join("docs/security.md")).unwrap();
        let found = check_required(dir.path());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].to_string(),
            "docs/security.md: missing: the README and docs/architecture.md promise this \
             document"
        );
    }

    #[test]
    fn every_crate_is_in_the_code_map_and_every_row_is_a_crate() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/architecture.md"), MAP).unwrap();
        for krate in ["zlayer-secrets-core", "zlayer-secrets-new"] {
            let path = dir.path().join("crates").join(krate);
            std::fs::create_dir_all(&path).unwrap();
            std::fs::write(path.join("Cargo.toml"), "[package]\n").unwrap();
        }
        // A directory without a manifest is not a crate.
        std::fs::create_dir_all(dir.path().join("crates/notes")).unwrap();

        let found: Vec<String> = check_code_map(dir.path())
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].starts_with("crates/zlayer-secrets-new: `zlayer-secrets-new` has no row"),
            "{found:?}"
        );
        assert_eq!(
            found[1],
            "docs/architecture.md:9: the code map lists `zlayer-secrets-ref`, which is not a \
             crate under crates/"
        );
    }

    #[test]
    fn a_document_without_a_code_map_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/architecture.md"), "# Architecture\n").unwrap();
        let found = check_code_map(dir.path()).unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].what.starts_with("no code-map table found"));
    }
}
