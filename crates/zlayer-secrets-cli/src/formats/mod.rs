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

/// Reads a file's text in `format`; errors say where, never what.
pub(crate) fn parse(text: &str, format: Format) -> Result<Vec<Pair>, String> {
    match format {
        Format::Env => dotenv::parse(text, MAX_ENTRIES)
            .map(|entries| {
                entries
                    .into_iter()
                    .map(|e| Pair {
                        place: format!("line {}", e.line),
                        key: e.key,
                        value: e.value,
                    })
                    .collect()
            })
            .map_err(|e| e.to_string()),
        Format::Json => json::parse(text, MAX_ENTRIES).map(|entries| {
            entries
                .into_iter()
                .map(|(key, value)| Pair {
                    place: format!("key \"{}\"", key.escape_debug()),
                    key,
                    value,
                })
                .collect()
        }),
    }
}
