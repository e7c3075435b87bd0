//! Output masking: replaces every resolved secret value in a byte stream with
//! [`CONCEALED`], also when a value arrives split across several reads.
//!
//! The stream keeps back only the bytes that could still be the start of a secret (at most
//! the longest secret's length minus one) and passes everything else through at once, so
//! interactive output is not held up by line buffering or timers. What is held back is
//! released when the next byte rules the secret out, or at the end of the stream.
//!
//! Where two secrets could match at the same place, the longer one wins: the stream waits
//! for enough bytes to decide, so a short secret that is the prefix of a longer one never
//! lets the longer one's tail through.
//!
//! Two kinds of bytes are never replaced:
//! - values shorter than [`MIN_MASKED_CHARS`] characters are not masked at all: replacing
//!   every `ab` of the output would garble it and show where the value occurs;
//! - terminal escape sequences pass through whole: CSI (`ESC [`, parameter and
//!   intermediate bytes 0x20–0x3F, a final byte 0x40–0x7E) and OSC (`ESC ]`, text without
//!   control characters, ended by BEL or `ESC \`). A sequence is recognised only once it
//!   is complete (bytes that may become one are held back like the start of a secret);
//!   one that breaks the grammar, grows past [`MAX_SEQUENCE`] bytes or is cut off by the
//!   end of the stream is ordinary text and is masked as such. A value interrupted by a
//!   sequence (`abc ESC[1m def`) is two pieces of text and is not masked.

mod escape;
mod stream;

use std::fmt;

use zeroize::Zeroizing;

pub use stream::MaskStream;

/// What a masked secret is replaced with.
pub const CONCEALED: &[u8] = b"<concealed>";

/// Values with fewer characters than this are not masked.
pub const MIN_MASKED_CHARS: usize = 4;

/// The longest escape sequence passed through whole, in bytes; a longer one is text.
pub const MAX_SEQUENCE: usize = 8192;

/// The set of values to conceal.
pub struct Masker {
    /// Distinct values of at least [`MIN_MASKED_CHARS`] characters, longest first.
    patterns: Vec<Zeroizing<Vec<u8>>>,
    /// For each first byte, the indices (into `patterns`) of the values that start with it.
    by_first: Vec<Vec<usize>>,
    /// Length of the longest value.
    max_len: usize,
}

impl Masker {
    /// A masker for these values; empty values and those that are
    /// [too short](Self::too_short_to_mask) are ignored.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = values
            .into_iter()
            .filter(|v| !v.is_empty() && !Self::too_short_to_mask(v))
            .map(|v| Zeroizing::new(v.as_bytes().to_vec()))
            .collect();
        patterns.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a[..].cmp(&b[..])));
        patterns.dedup_by(|a, b| a[..] == b[..]);
        let mut by_first = vec![Vec::new(); 256];
        for (i, p) in patterns.iter().enumerate() {
            by_first[usize::from(p[0])].push(i);
        }
        let max_len = patterns.first().map_or(0, |p| p.len());
        Self {
            patterns,
            by_first,
            max_len,
        }
    }

    /// Whether a value is left unmasked for being shorter than [`MIN_MASKED_CHARS`]
    /// characters (the empty value cannot show and does not count).
    #[must_use]
    pub fn too_short_to_mask(value: &str) -> bool {
        !value.is_empty() && value.chars().nth(MIN_MASKED_CHARS - 1).is_none()
    }

    /// The longest value's length in bytes.
    #[cfg(test)]
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    /// A new stream filter over this set.
    #[must_use]
    pub fn stream(&self) -> MaskStream<'_> {
        MaskStream {
            masker: self,
            pending: Zeroizing::new(Vec::new()),
        }
    }
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker")
            .field("values", &self.patterns.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
