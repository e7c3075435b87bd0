//! [`Secret`]: a secret value that never prints and is wiped from memory.

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroize;

/// A secret value.
///
/// - `Debug` prints `[REDACTED]`; there is no `Display`.
/// - The bytes are zeroized when the value is dropped, and on [`Zeroize::zeroize`].
/// - Read it with [`Secret::expose`], only where the value is really needed.
#[derive(Clone)]
pub struct Secret {
    inner: SecretString,
}

impl Secret {
    /// Wraps a value. The `String` passed in is moved, not copied.
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            inner: SecretString::from(value.into()),
        }
    }

    /// The value in clear. Do not log it, format it into errors or keep copies of it.
    #[must_use]
    pub fn expose(&self) -> &str {
        self.inner.expose_secret()
    }

    /// The underlying [`SecretString`].
    #[must_use]
    pub fn as_secret_string(&self) -> &SecretString {
        &self.inner
    }

    /// Length of the value in bytes; safe to print.
    #[must_use]
    pub fn len(&self) -> usize {
        self.expose().len()
    }

    /// Whether the value is the empty string.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }
}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl Zeroize for Secret {
    fn zeroize(&mut self) {
        // Dropping the old `SecretString` zeroizes its heap buffer.
        self.inner = SecretString::from(String::new());
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<SecretString> for Secret {
    fn from(value: SecretString) -> Self {
        Self { inner: value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2-value");
        assert_eq!(format!("{s:?}"), "[REDACTED]");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some([REDACTED])");
    }

    #[test]
    fn zeroize_empties_the_value() {
        let mut s = Secret::new("sensitive");
        s.zeroize();
        assert!(s.is_empty());
    }

    #[test]
    fn conversions_keep_the_value() {
        let a: Secret = "x".into();
        let b: Secret = String::from("x").into();
        let c: Secret = SecretString::from("x".to_owned()).into();
        assert_eq!(a.expose(), b.expose());
        assert_eq!(b.expose(), c.expose());
        assert_eq!(a.len(), 1);
    }
}
