//! Reading a file in either format into one shape.

use std::fmt;

use zlayer_secrets_core::Secret;

use crate::{FormatError, Warning, dotenv, json};

/// A file format for secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `NAME="value"` lines (the dialect of [`dotenv`]).
    Env,
    /// One JSON object of name/string pairs ([`json`]).
    Json,
}

impl Format {
    /// Guesses the format of a text: JSON if it starts with `{` (after blanks and a
    /// byte-order mark), else dotenv.
    #[must_use]
    pub fn detect(text: &str) -> Self {
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

/// Where an entry was found, for messages about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The line a dotenv entry starts on, from 1: shown as `line 4`.
    Line(usize),
    /// The key of a JSON entry: shown as `key "X"`, escaped.
    Key(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(line) => write!(f, "line {line}"),
            Self::Key(key) => write!(f, "key \"{}\"", key.escape_debug()),
        }
    }
}

/// One entry read from a file.
#[derive(Debug)]
pub struct Pair {
    /// The key, unvalidated: callers apply their own rules (secret name, variable name).
    pub key: String,
    /// The value.
    pub value: Secret,
    /// Where it was found.
    pub place: Place,
}

/// What was read from a file.
#[derive(Debug, Default)]
pub struct Contents {
    /// The entries, in the order of the file.
    pub pairs: Vec<Pair>,
    /// What the file holds that a reader may not expect (dotenv only), in file order.
    pub warnings: Vec<Warning>,
}

/// Reads a text in `format`, with at most `max_entries` entries. Errors say where, never
/// what: every bad line of a dotenv file, or the first problem of a JSON document.
pub fn read(text: &str, format: Format, max_entries: usize) -> Result<Contents, Vec<FormatError>> {
    match format {
        Format::Env => {
            let parsed = dotenv::parse(text, max_entries)?;
            Ok(Contents {
                pairs: parsed
                    .entries
                    .into_iter()
                    .map(|e| Pair {
                        key: e.key,
                        value: e.value,
                        place: Place::Line(e.line),
                    })
                    .collect(),
                warnings: parsed.warnings,
            })
        }
        Format::Json => {
            let entries = json::parse(text, max_entries).map_err(|e| vec![e])?;
            Ok(Contents {
                pairs: entries
                    .into_iter()
                    .map(|(key, value)| Pair {
                        place: Place::Key(key.clone()),
                        key,
                        value,
                    })
                    .collect(),
                warnings: Vec::new(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_read_into_pairs_with_their_places() {
        assert_eq!(Format::detect("\u{feff} \n{\"A\": \"1\"}"), Format::Json);
        assert_eq!(Format::detect("A={x}"), Format::Env);
        let env = read("# c\nA=1\nB\n", Format::Env, 9).unwrap();
        assert_eq!(env.pairs.len(), 1);
        assert_eq!(env.pairs[0].place.to_string(), "line 2");
        assert_eq!(env.warnings.len(), 1);
        let json = read("{\"a\\nb\": \"1\"}", Format::Json, 9).unwrap();
        assert_eq!(json.pairs[0].key, "a\nb");
        assert_eq!(json.pairs[0].place.to_string(), "key \"a\\nb\"");
        let errors = read("{\"A\": 1}", Format::Json, 9).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line(), None);
    }
}
