//! How the command line names the file formats of `import`, `export` and `run --env-file`
//! (read and written by `zlayer-secrets-formats`), and how it reports a file's problems.

use zlayer_secrets_formats::Format;

/// The most entries one file (`import`, `run --env-file`) may hold. With the limit on its
/// size ([`crate::commands::transfer::MAX_FILE_BYTES`]) it bounds what reading a file can
/// cost: every entry takes some memory of its own, however short it is.
pub(crate) const MAX_ENTRIES: usize = 10_000;

/// A file format for secrets, as `--format` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// `NAME="value"` lines (the dotenv dialect in docs/cli.md).
    Env,
    /// One JSON object of name/string pairs.
    Json,
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Self {
        match arg {
            FormatArg::Env => Self::Env,
            FormatArg::Json => Self::Json,
        }
    }
}

/// The formats `export` writes: those `import` reads, and two it only writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    /// `NAME="value"` lines (the dotenv dialect in docs/cli.md).
    Env,
    /// One JSON object of name/string pairs.
    Json,
    /// `export NAME='value'` lines, which a POSIX shell sources to the identical values.
    Shell,
    /// `NAME=value` lines, docker's `--env-file` (taken literally: no line breaks).
    Docker,
}

/// The error for the problems of the file `shown`: `FILE: line 3: ...` for one, else a
/// count and one problem a line.
pub(crate) fn problems<P: ToString>(shown: &str, problems: &[P]) -> anyhow::Error {
    match problems {
        [one] => anyhow::anyhow!("{shown}: {}", one.to_string()),
        many => {
            let mut text = format!("{shown}: {} problems:", many.len());
            for p in many {
                text.push_str("\n  ");
                text.push_str(&p.to_string());
            }
            anyhow::anyhow!(text)
        }
    }
}
