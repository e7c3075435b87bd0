//! What every handler shares: the stores, the token key, the limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use zlayer_secrets_core::audit::{self, Actor, AuditLog, AuditRecord};
use zlayer_secrets_core::{BatchSecretsStore, Result, SecretsStore, VersionedSecretsStore};
use zlayer_secrets_credentials::{CredentialStore, GrantStore};

use crate::limiter::FailureLimiter;
use crate::recorded::Recorded;
use crate::token::TokenKey;

/// The store a server serves: versioned reads and writes, and batches; and the audit log
/// its requests are recorded in.
#[derive(Clone)]
pub struct Stores {
    /// Reads, writes and history.
    pub store: Arc<dyn VersionedSecretsStore>,
    /// Multi-secret writes (bulk import, batches).
    pub batch: Arc<dyn BatchSecretsStore>,
    /// The audit log: where the server records the requests it refuses and from which
    /// `GET /api/v1/audit` reads. The store records its own operations there, with the
    /// subject of each request (the handlers run inside `audit::scope`). `None`: nothing is
    /// recorded and the audit routes answer 501.
    pub audit: Option<Arc<dyn AuditLog>>,
}

impl Stores {
    /// Both roles filled by one store, without an audit log (a `MemoryStore`, a store that
    /// keeps no log).
    pub fn new<S: VersionedSecretsStore + BatchSecretsStore + 'static>(store: Arc<S>) -> Self {
        Self {
            store: store.clone(),
            batch: store,
            audit: None,
        }
    }

    /// Every role filled by one store that keeps its own audit log and records its own
    /// operations in it (the data directory's `PersistentSecretsStore`).
    pub fn audited<S>(store: Arc<S>) -> Self
    where
        S: VersionedSecretsStore + BatchSecretsStore + AuditLog + 'static,
    {
        Self {
            store: store.clone(),
            batch: store.clone(),
            audit: Some(store),
        }
    }

    /// A store that keeps no log of its own (Vault), its reads of values and its writes
    /// recorded in `log` after each operation, with the actor of the request; see
    /// [`Recorded`]. Vault's own audit devices see only the server's token, not the
    /// subjects of the requests.
    pub fn recorded<S>(store: Arc<S>, log: Arc<dyn AuditLog>) -> Self
    where
        S: VersionedSecretsStore + BatchSecretsStore + 'static,
    {
        let recorded = Arc::new(Recorded::new(store, log.clone()));
        Self {
            store: recorded.clone(),
            batch: recorded,
            audit: Some(log),
        }
    }
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores")
            .field("atomic_batches", &self.batch.is_atomic())
            .field("audit", &self.audit.is_some())
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

    /// Records `records` as entries of the request's actor (the current audit context): what
    /// the store cannot record by itself, the requests the server refuses and the reveals
    /// that end before a value is read. A failure to record is logged; the answer stands.
    pub(crate) async fn record(&self, records: Vec<AuditRecord>) {
        let Some(log) = &self.stores.audit else {
            return;
        };
        if records.is_empty() {
            return;
        }
        let actor = audit::current().map_or_else(|| Actor::subject("unknown", None), |c| c.actor);
        if let Err(e) = log.record(&actor, records).await {
            tracing::error!(error = %e, "cannot record a request in the audit log");
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
