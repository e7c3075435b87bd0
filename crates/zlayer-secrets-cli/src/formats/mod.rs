//! File formats for `import`, `export` and `run --env-file`: dotenv and flat JSON.

pub(crate) mod dotenv;
pub(crate) mod json;

use zlayer_secrets::Secret;

/// The most entries one file (`import`, `run --env-file`) may hold. With the limit on its
/// size ([`crate::commands::transfer::MAX_FILE_BYTES`]) it bounds what reading a file can
/// cost: every entry takes some memory of its own, however short it is.
pub(crate) const MAX_ENTRIES: usize = 10_000;

/// A file format for secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// `NAME="value"` lines (the dotenv dialect in docs/cli.md).
    Env,
    /// One JSON object of name/string pairs.
    Json,
}

impl Format {
    /// Guesses the format of a text: JSON if it starts with `{`, else dotenv.
    pub(crate) fn detect(text: &str) -> Self {
        if text
            .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
            .starts_with('{')
        {
            Self::Json
        } else {
            Self::Env
        }
    }
}

/// One entry read from a file: key, value and (for dotenv) the line it started on.
pub(crate) struct Pair {
    /// The key.
    pub(crate) key: String,
    /// The value.
    pub(crate) value: Secret,
    /// Where it was found, for error messages: `line 4`, or `key "X"` for JSON.
    pub(crate) place: String,
}

/// What was read from a file: its entries and warnings about it (`line 3: ...`).
pub(crate) struct Read {
    /// The entries, in the order of the file.
    pub(crate) pairs: Vec<Pair>,
    /// Things worth knowing that are not errors, each saying where.
    pub(crate) warnings: Vec<String>,
}

/// Reads a file's text in `format`. Errors say where, never what: every bad line of a
/// dotenv file, or the first problem of a JSON file.
pub(crate) fn parse(text: &str, format: Format) -> Result<Read, Vec<String>> {
    match format {
        Format::Env => match dotenv::parse(text, MAX_ENTRIES) {
            Ok(parsed) => Ok(Read {
                pairs: parsed
                    .entries
                    .into_iter()
                    .map(|e| Pair {
                        place: format!("line {}", e.line),
                        key: e.key,
                        value: e.value,
                    })
                    .collect(),
                warnings: parsed.warnings.iter().map(ToString::to_string).collect(),
            }),
            Err(errors) => Err(errors.iter().map(ToString::to_string).collect()),
        },
        Format::Json => match json::parse(text, MAX_ENTRIES) {
            Ok(entries) => Ok(Read {
                pairs: entries
                    .into_iter()
                    .map(|(key, value)| Pair {
                        place: format!("key \"{}\"", key.escape_debug()),
                        key,
                        value,
                    })
                    .collect(),
                warnings: Vec::new(),
            }),
            Err(e) => Err(vec![e]),
        },
    }
}

/// The error for the problems of the file `shown`: `FILE: line 3: ...` for one, else a
/// count and one problem a line.
pub(crate) fn problems(shown: &str, problems: &[String]) -> anyhow::Error {
    match problems {
        [one] => anyhow::anyhow!("{shown}: {one}"),
        many => {
            let mut text = format!("{shown}: {} problems:", many.len());
            for p in many {
                text.push_str("\n  ");
                text.push_str(p);
            }
            anyhow::anyhow!(text)
        }
    }
}
