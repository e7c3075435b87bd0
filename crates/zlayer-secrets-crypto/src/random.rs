//! The one source of randomness of zlayer-secrets: the operating system's generator.
//!
//! Keys, nonces, salts, store identifiers, API keys and secrets, credential ids and
//! generated values all come from [`fill`]; no other code of the workspace reads the
//! operating system's generator.

use zlayer_secrets_core::{Result, SecretsError};

/// Fills `buf` from the operating system's cryptographically secure random number
/// generator (`getrandom`).
///
/// Fails with [`SecretsError::Encryption`] only if the operating system cannot supply
/// randomness at all; it never falls back to a weaker source.
pub fn fill(buf: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buf).map_err(|e| {
        SecretsError::Encryption(format!(
            "the operating system's random number generator failed: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_the_whole_buffer_differently_each_time() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        fill(&mut a).unwrap();
        fill(&mut b).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 32]);
        fill(&mut []).unwrap();
    }
}
