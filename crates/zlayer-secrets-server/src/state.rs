//! What every handler shares: the stores, the token key, the limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use zlayer_secrets_core::{BatchSecretsStore, Result, SecretsStore, VersionedSecretsStore};
use zlayer_secrets_credentials::{CredentialStore, GrantStore};

use crate::limiter::FailureLimiter;
use crate::token::TokenKey;

/// The store a server serves: versioned reads and writes, and batches.
#[derive(Clone)]
pub struct Stores {
    /// Reads, writes and history.
    pub store: Arc<dyn VersionedSecretsStore>,
    /// Multi-secret writes (bulk import, batches).
    pub batch: Arc<dyn BatchSecretsStore>,
}

impl Stores {
    /// Both roles filled by one store.
    pub fn new<S: VersionedSecretsStore + BatchSecretsStore + 'static>(store: Arc<S>) -> Self {
        Self {
            store: store.clone(),
            batch: store,
        }
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("atomic_batches", &self.batch.is_atomic())
            .finish_non_exhaustive()
    }
}

/// The shared state of the handlers.
pub(crate) struct AppState {
    pub(crate) stores: Stores,
    pub(crate) creds: CredentialStore<Arc<dyn SecretsStore>>,
    pub(crate) grants: GrantStore<Arc<dyn SecretsStore>>,
    pub(crate) tokens: TokenKey,
    pub(crate) token_lifetime: Duration,
    pub(crate) limiter: FailureLimiter,
    /// Whether some API key has role admin (until then every `/api/v1` request is refused).
    ready: AtomicBool,
    /// When readiness was last looked up, in milliseconds since `started`.
    ready_checked_ms: AtomicU64,
    started: Instant,
}

/// How often a server without an admin key looks again.
const READY_RECHECK: Duration = Duration::from_secs(1);

impl AppState {
    pub(crate) fn new(
        stores: Stores,
        tokens: TokenKey,
        token_lifetime: Duration,
        limiter: FailureLimiter,
    ) -> Self {
        let plain: Arc<dyn SecretsStore> = stores.store.clone();
        Self {
            creds: CredentialStore::new(plain.clone()),
            grants: GrantStore::new(plain),
            stores,
            tokens,
            token_lifetime,
            limiter,
            ready: AtomicBool::new(false),
            ready_checked_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Whether some API key has role admin. Once true it stays true; while false it is
    /// looked up again at most once a second (an admin key made with the CLI on the
    /// server's host is noticed without a restart).
    pub(crate) async fn ready(&self) -> Result<bool> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(true);
        }
        let now_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.ready_checked_ms.load(Ordering::Acquire);
        let recheck_ms = u64::try_from(READY_RECHECK.as_millis()).unwrap_or(u64::MAX);
        if last != 0 && now_ms.saturating_sub(last) < recheck_ms {
            return Ok(false);
        }
        self.ready_checked_ms
            .store(now_ms.max(1), Ordering::Release);
        let ready = self.creds.has_admin().await?;
        if ready {
            self.ready.store(true, Ordering::Release);
        }
        Ok(ready)
    }
}
