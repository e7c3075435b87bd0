//! Blocking work (a SQLite call, an Argon2id hash) run off the async worker threads.
//!
//! Backends whose work blocks call [`run_blocking`] at their async edge, so that a slow call
//! does not stall the other tasks of a runtime. Behind the `blocking` feature, which adds
//! tokio (its `rt` part only) to this crate's dependencies.

use crate::{Result, SecretsError};

/// Runs `work` on tokio's blocking thread pool when called inside a tokio runtime (the
/// multi-thread or the current-thread flavour), and in place outside one (another executor,
/// or `block_on` of a runtime that is not tokio).
///
/// `task` says what the work is, for the error returned if it panics or its runtime shuts
/// down before it ends: a [`SecretsError::Interrupted`] reading "{task} did not complete:
/// ...".
/// A future dropped before the work ends does not stop the work: it runs to completion.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sum = zlayer_secrets_core::blocking::run_blocking("the sum", || 2 + 2).await?;
/// assert_eq!(sum, 4);
/// # Ok::<(), zlayer_secrets_core::SecretsError>(())
/// # }).unwrap();
/// ```
pub async fn run_blocking<T, F>(task: &str, work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| SecretsError::Interrupted {
                task: task.to_owned(),
                source: Box::new(e),
            }),
        Err(_) => Ok(work()),
    }
}
