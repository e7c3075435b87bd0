//! [`MAX_VALUE_LEN`]: the largest value any store accepts.

use crate::{Result, Secret, SecretsError, label};

/// Largest secret value accepted, in bytes (1 MiB, inclusive).
///
/// Every backend (the memory, SQLite and Vault stores) refuses a bigger value with
/// [`SecretsError::TooLarge`] before anything is written ([`validate_value`]), and the
/// CLI reads no more than this from standard input or a file. Secrets are credentials,
/// certificates and small configuration documents; a value this size is kept once per
/// retained version, and every read decrypts it whole.
pub const MAX_VALUE_LEN: usize = 1024 * 1024;

/// Checks that `value`, to be written as the secret `name` of `scope`, is at most
/// [`MAX_VALUE_LEN`] bytes.
///
/// The error is [`SecretsError::TooLarge`] naming the secret, the value's size and the
/// limit; never the value.
pub fn validate_value(scope: &str, name: &str, value: &Secret) -> Result<()> {
    if value.len() > MAX_VALUE_LEN {
        return Err(SecretsError::TooLarge {
            what: format!("the value of {}", label(scope, name)),
            size: value.len(),
            limit: MAX_VALUE_LEN,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_up_to_the_limit_pass_and_larger_ones_are_named_by_size() {
        validate_value("s", "n", &Secret::new("x".repeat(MAX_VALUE_LEN))).unwrap();
        let err =
            validate_value("s", "n", &Secret::new("y".repeat(MAX_VALUE_LEN + 1))).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(
                err,
                SecretsError::TooLarge { size, limit: MAX_VALUE_LEN, .. } if size == MAX_VALUE_LEN + 1
            ),
            "{msg}"
        );
        assert!(msg.contains("s/n"), "{msg}");
        assert!(msg.contains(&(MAX_VALUE_LEN + 1).to_string()), "{msg}");
        assert!(msg.contains(&MAX_VALUE_LEN.to_string()), "{msg}");
        assert!(!msg.contains("yy"), "{msg}");
    }
}
