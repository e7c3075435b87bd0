//! Where a new secret value comes from: exactly one of `--value`, `--from-stdin`,
//! `--from-file` or `--random`.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;
use zlayer_secrets::{MAX_VALUE_LEN, Secret};

use crate::output::note;

/// Most bytes read from stdin or a file for one value: the largest value the stores accept
/// ([`MAX_VALUE_LEN`]) and the one trailing `\r\n` that is removed. A value over the limit
/// once that newline is gone is refused by the store, naming its size and the limit.
pub(crate) const MAX_VALUE_BYTES: usize = MAX_VALUE_LEN + 2;
/// Default length of a `--random` value.
const DEFAULT_RANDOM_LEN: usize = 32;
/// Characters of a `--random` value.
const RANDOM_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The value of a secret to write.
#[derive(Debug, clap::Args)]
pub(crate) struct ValueArgs {
    #[command(flatten)]
    source: ValueSource,
    /// Length of a `--random` value, in characters (1 to 4096).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    length: Option<u16>,
}

/// Exactly one source of the value (that there is one is checked in
/// [`ValueArgs::usage_error`], so that `--length` alone gets its own message).
#[derive(Debug, clap::Args)]
#[group(required = false, multiple = false)]
struct ValueSource {
    /// The value itself. Avoid it: other users can read it in the process list; a warning is printed.
    #[arg(long, value_name = "VALUE")]
    value: Option<String>,
    /// Read the value from standard input (one trailing newline is removed).
    #[arg(long)]
    from_stdin: bool,
    /// Read the value from a file (one trailing newline is removed).
    #[arg(long, value_name = "FILE")]
    from_file: Option<PathBuf>,
    /// Generate a random value of letters and digits (see `--length`, default 32).
    #[arg(long)]
    random: bool,
}

impl ValueArgs {
    /// A usage mistake clap cannot word well: `--length` without `--random`, and no source
    /// of the value at all.
    pub(crate) fn usage_error(&self) -> Option<&'static str> {
        let s = &self.source;
        if self.length.is_some() && !s.random {
            return Some("--length only applies to --random: add --random to generate a value");
        }
        let given = s.value.is_some() || s.from_stdin || s.from_file.is_some() || s.random;
        (!given).then_some(
            "the value is missing: give one of --from-stdin, --from-file FILE, --random or --value VALUE",
        )
    }

    /// Whether the value is generated (`--random`): new every time.
    pub(crate) fn is_random(&self) -> bool {
        self.source.random
    }

    /// Reads the value from its source.
    pub(crate) fn read(&self) -> anyhow::Result<Secret> {
        let s = &self.source;
        if let Some(v) = &s.value {
            note!(
                "warning: --value is visible to other users of this machine in the process list; prefer --from-stdin or --from-file"
            );
            return Ok(Secret::new(v.clone()));
        }
        if s.from_stdin {
            let bytes = read_limited(unbuffered_stdin()?, "standard input")?;
            return into_secret(bytes, "standard input");
        }
        if let Some(path) = &s.from_file {
            let shown = path.display().to_string();
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot open the value file {shown}"))?;
            let bytes = read_limited(file, &shown)?;
            return into_secret(bytes, &shown);
        }
        if s.random {
            let len = self.length.map_or(DEFAULT_RANDOM_LEN, usize::from);
            return random_value(len);
        }
        bail!("no value source given (use --value, --from-stdin, --from-file or --random)")
    }
}

/// Standard input without std's buffer.
///
/// `std::io::stdin()` reads through a process-wide buffer that is never wiped and lives
/// until the process exits, so a secret read through it stays in memory. Reading from a
/// duplicate of its descriptor instead, the bytes go only into the caller's buffer (and
/// [`read_limited_to`] wipes every buffer it uses). Every read of secrets from standard
/// input goes through here: `--from-stdin`, `import -`, `run --env-file -` and the
/// credential-helper protocols.
pub(crate) fn unbuffered_stdin() -> anyhow::Result<std::fs::File> {
    #[cfg(unix)]
    let owned = {
        use std::os::fd::AsFd as _;
        std::io::stdin().as_fd().try_clone_to_owned()
    };
    #[cfg(windows)]
    let owned = {
        use std::os::windows::io::AsHandle as _;
        std::io::stdin().as_handle().try_clone_to_owned()
    };
    Ok(std::fs::File::from(
        owned.context("cannot open standard input")?,
    ))
}

/// Reads one value from `reader` (at most [`MAX_VALUE_BYTES`]) into a buffer that is wiped
/// when dropped. Longer input is refused after one byte more, naming the limit of a value.
pub(crate) fn read_limited(reader: impl Read, what: &str) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let one_more = MAX_VALUE_BYTES + 1;
    let buf = read_limited_to(reader.take(one_more as u64), what, one_more)?;
    if buf.len() > MAX_VALUE_BYTES {
        bail!(
            "{what} holds more than a secret value may ({MAX_VALUE_LEN} bytes, and one trailing \
             newline)"
        );
    }
    Ok(buf)
}

/// Reads everything from `reader` (at most `limit` bytes) into a buffer that is wiped when
/// dropped; when it grows, the old buffer is wiped too.
pub(crate) fn read_limited_to(
    reader: impl Read,
    what: &str,
    limit: usize,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    read_limited_sized(reader, what, limit, 0)
}

/// [`read_limited_to`] for input of about `expected` bytes (a file's size): the buffer is
/// allocated at that size, so reading that much never grows (copies) it.
pub(crate) fn read_limited_sized(
    mut reader: impl Read,
    what: &str,
    limit: usize,
    expected: usize,
) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(expected.min(limit).max(8192)));
    let mut chunk = Zeroizing::new([0u8; 8192]);
    loop {
        let n = match reader.read(&mut chunk[..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {what}")),
        };
        if buf.len() + n > limit {
            bail!("{what} holds more than {limit} bytes, the limit here");
        }
        if buf.len() + n > buf.capacity() {
            let mut bigger =
                Zeroizing::new(Vec::with_capacity((buf.capacity() * 2).max(buf.len() + n)));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(buf)
}

/// Text of a value read from stdin or a file, without one trailing `\n` (or `\r\n`).
fn into_secret(mut bytes: Zeroizing<Vec<u8>>, what: &str) -> anyhow::Result<Secret> {
    let len = bytes.len();
    if bytes.ends_with(b"\r\n") {
        bytes.truncate(len - 2);
    } else if bytes.ends_with(b"\n") {
        bytes.truncate(len - 1);
    }
    let owned = std::mem::take(&mut *bytes);
    match String::from_utf8(owned) {
        Ok(text) => Ok(Secret::new(text)),
        Err(e) => {
            // Wipe the rejected bytes too.
            drop(Zeroizing::new(e.into_bytes()));
            bail!("the value in {what} is not UTF-8 text")
        }
    }
}

/// A random value of `len` letters and digits, drawn without bias from the OS generator.
pub(crate) fn random_value(len: usize) -> anyhow::Result<Secret> {
    let mut out = Zeroizing::new(String::with_capacity(len));
    let mut pool = Zeroizing::new([0u8; 64]);
    let limit = 256 - (256 % RANDOM_ALPHABET.len());
    while out.len() < len {
        zlayer_secrets::crypto::random::fill(&mut pool[..])?;
        for &b in pool.iter() {
            if usize::from(b) < limit && out.len() < len {
                out.push(char::from(
                    RANDOM_ALPHABET[usize::from(b) % RANDOM_ALPHABET.len()],
                ));
            }
        }
    }
    Ok(Secret::new(std::mem::take(&mut *out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_stripped() {
        for (input, want) in [
            (&b"abc\n"[..], "abc"),
            (b"abc\r\n", "abc"),
            (b"abc\n\n", "abc\n"),
            (b"abc", "abc"),
            (b"\n", ""),
            (b"", ""),
            (
                b"-----BEGIN-----\nxyz\n-----END-----\n",
                "-----BEGIN-----\nxyz\n-----END-----",
            ),
        ] {
            let secret = into_secret(Zeroizing::new(input.to_vec()), "test").unwrap();
            assert_eq!(secret.expose(), want);
        }
        let err = into_secret(Zeroizing::new(vec![0xff, 0xfe]), "f").unwrap_err();
        assert_eq!(err.to_string(), "the value in f is not UTF-8 text");
    }

    #[test]
    fn random_values() {
        let a = random_value(32).unwrap();
        let b = random_value(32).unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().bytes().all(|c| RANDOM_ALPHABET.contains(&c)));
        assert_eq!(random_value(4096).unwrap().len(), 4096);
    }

    #[test]
    fn reads_are_limited() {
        let big = vec![b'x'; MAX_VALUE_BYTES + 1];
        let err = read_limited(&big[..], "input").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "input holds more than a secret value may ({MAX_VALUE_LEN} bytes, and one \
                 trailing newline)"
            )
        );
        let ok = read_limited(&big[..20000], "input").unwrap();
        assert_eq!(ok.len(), 20000);
        // The largest value with its newline is read whole, and keeps its full length.
        let mut largest = vec![b'x'; MAX_VALUE_LEN];
        largest.extend_from_slice(b"\r\n");
        let read = read_limited(&largest[..], "input").unwrap();
        assert_eq!(into_secret(read, "input").unwrap().len(), MAX_VALUE_LEN);
    }
}
