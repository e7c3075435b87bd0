//! Running CPU-heavy work (Argon2id) off the async runtime's worker threads.

use zlayer_secrets_core::{Result, SecretsError};

/// Runs `work` on the tokio blocking pool when called inside a tokio runtime (either
/// flavour), so that a 20-50 ms hash does not stall other tasks; outside a runtime (another
/// executor, `block_on`) it runs in place.
pub(crate) async fn run_blocking<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| SecretsError::Storage(format!("a password-hashing task failed: {e}"))),
        Err(_) => Ok(work()),
    }
}
