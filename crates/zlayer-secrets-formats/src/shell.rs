//! Writers for two formats that are only written: `export K='v'` lines a POSIX shell
//! sources ([`write_shell_entry`]), and docker's `--env-file` ([`write_docker_entry`]).

use std::fmt;

use zeroize::Zeroizing;

/// Why an entry cannot be written in a format (never repeats the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotWritable {
    /// The name is not a shell variable name (a letter or `_`, then letters, digits, `_`).
    ShellName,
    /// The name cannot be a docker env-file key (empty, or holding `=`, whitespace or a
    /// leading `#`).
    DockerName,
    /// The value holds a NUL byte, which neither format can carry.
    Nul,
    /// The value holds a line break, which docker's env-file cannot carry (it has no
    /// quoting: every line is one entry, taken literally).
    LineBreak,
}

impl fmt::Display for NotWritable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ShellName => "the name is not a shell variable name",
            Self::DockerName => {
                "the name cannot be a docker env-file key (empty, `=`, whitespace or a leading `#`)"
            }
            Self::Nul => "the value holds a NUL byte",
            Self::LineBreak => "the value holds a line break, which docker's env-file cannot hold",
        })
    }
}

impl std::error::Error for NotWritable {}

/// Appends `export KEY='value'` and a newline: a POSIX shell that sources it sets `KEY` to
/// exactly `value` (inside single quotes nothing is special; a `'` is written `'\''`).
pub fn write_shell_entry(
    out: &mut Zeroizing<String>,
    key: &str,
    value: &str,
) -> Result<(), NotWritable> {
    let mut chars = key.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(NotWritable::ShellName);
    }
    if value.contains('\0') {
        return Err(NotWritable::Nul);
    }
    out.reserve(key.len() + value.len() + 12);
    out.push_str("export ");
    out.push_str(key);
    out.push_str("='");
    for piece in value.split_inclusive('\'') {
        match piece.strip_suffix('\'') {
            Some(before) => {
                out.push_str(before);
                out.push_str("'\\''");
            }
            None => out.push_str(piece),
        }
    }
    out.push_str("'\n");
    Ok(())
}

/// Appends `KEY=value` and a newline, docker's `--env-file` format: the value is taken
/// literally to the end of the line, so one with a line break (or a NUL) is refused.
pub fn write_docker_entry(
    out: &mut Zeroizing<String>,
    key: &str,
    value: &str,
) -> Result<(), NotWritable> {
    if key.is_empty()
        || key.starts_with('#')
        || key.contains(['=', '\0'])
        || key.chars().any(char::is_whitespace)
    {
        return Err(NotWritable::DockerName);
    }
    if value.contains('\0') {
        return Err(NotWritable::Nul);
    }
    if value.contains(['\n', '\r']) {
        return Err(NotWritable::LineBreak);
    }
    out.reserve(key.len() + value.len() + 2);
    out.push_str(key);
    out.push('=');
    out.push_str(value);
    out.push('\n');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(key: &str, value: &str) -> Result<String, NotWritable> {
        let mut out = Zeroizing::new(String::new());
        write_shell_entry(&mut out, key, value).map(|()| out.to_string())
    }

    fn docker(key: &str, value: &str) -> Result<String, NotWritable> {
        let mut out = Zeroizing::new(String::new());
        write_docker_entry(&mut out, key, value).map(|()| out.to_string())
    }

    #[test]
    fn shell_quotes_everything_and_escapes_single_quotes() {
        assert_eq!(shell("K", "v").unwrap(), "export K='v'\n");
        assert_eq!(shell("K", "it's").unwrap(), "export K='it'\\''s'\n");
        assert_eq!(shell("K", "'").unwrap(), "export K=''\\'''\n");
        assert_eq!(
            shell("K", "$HOME `x` \\n \"q\"").unwrap(),
            "export K='$HOME `x` \\n \"q\"'\n"
        );
        assert_eq!(shell("K", "a\nb").unwrap(), "export K='a\nb'\n");
        assert_eq!(shell("db-password", "x"), Err(NotWritable::ShellName));
        assert_eq!(shell("1A", "x"), Err(NotWritable::ShellName));
        assert_eq!(shell("K", "a\0b"), Err(NotWritable::Nul));
    }

    #[test]
    fn docker_is_literal_and_refuses_line_breaks() {
        assert_eq!(docker("K", "v = \"x\" # y").unwrap(), "K=v = \"x\" # y\n");
        assert_eq!(docker("db-password", "x").unwrap(), "db-password=x\n");
        assert_eq!(docker("K", "a\nb"), Err(NotWritable::LineBreak));
        assert_eq!(docker("K", "a\rb"), Err(NotWritable::LineBreak));
        assert_eq!(docker("K", "a\0b"), Err(NotWritable::Nul));
        for bad in ["", "#K", "A B", "A=B"] {
            assert_eq!(docker(bad, "x"), Err(NotWritable::DockerName), "{bad:?}");
        }
    }
}
