//! Running CPU-heavy work (Argon2id) off the async runtime's worker threads.

use zlayer_secrets_core::Result;

/// Runs `work` through core's [`run_blocking`](zlayer_secrets_core::blocking::run_blocking)
/// (the tokio blocking pool inside a runtime, in place outside one), so that a 20-50 ms hash
/// does not stall other tasks.
pub(crate) async fn run_blocking<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    zlayer_secrets_core::blocking::run_blocking("a password-hashing task", work).await
}
