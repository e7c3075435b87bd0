//! The store conformance suite: behaviour every [`SecretsStore`](crate::SecretsStore) backend must show.
//!
//! Backends run the whole suite from their own tests with one line, giving an expression
//! that makes a fresh store (an `async fn` or a closure returning a future):
//!
//! ```
//! use zlayer_secrets_core::MemoryStore;
//!
//! async fn make_store() -> MemoryStore {
//!     MemoryStore::new()
//! }
//!
//! zlayer_secrets_core::conformance_suite!(make_store);
//! # fn main() {}
//! ```
//!
//! Each behaviour becomes its own `#[test]`, named after the function below that checks
//! it. Extra attributes go after the expression and apply to every test, for example for a
//! backend that needs a server:
//!
//! ```
//! # use zlayer_secrets_core::MemoryStore;
//! # async fn make_store() -> MemoryStore { MemoryStore::new() }
//! zlayer_secrets_core::conformance_suite!(
//!     make_store,
//!     #[ignore = "needs OpenBao; run by cargo xtask ci"]
//! );
//! # fn main() {}
//! ```
//!
//! Every check works in scopes of its own (see [`unique_scope`]), so several checks can
//! share one backend (one Vault server) at the same time without seeing each other's
//! secrets. Counts are kept small so that a network backend finishes in seconds.
//!
//! The functions can also be called one by one, from any async test; [`steps`] holds the
//! one-line writes and reads they (and backends' own tests) are written with.

// This module is test code shipped for other crates' tests: a panic is how a check reports
// a failure, so unwrapping is the point, not an accident.
#![allow(clippy::unwrap_used)]

mod basics;
mod batch;
mod concurrency;
mod create;
mod history;
pub mod steps;
mod validation;

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{BatchSecretsStore, Result, SecretsError, VersionedSecretsStore};

pub use basics::{
    colon_in_scope_or_name_never_collides, delete_missing_is_not_found,
    delete_removes_all_versions, exists_reports_presence, get_missing_is_not_found,
    get_secrets_omits_missing, list_secrets_is_exact_scope_and_sorted,
    list_secrets_of_empty_scope_is_empty, rotate_semantics, set_get_round_trip,
    special_names_round_trip, timestamps_created_stays_updated_moves, usable_as_trait_objects,
    versions_increase_by_one_per_write,
};
pub use batch::{atomic_batch_with_invalid_op_changes_nothing, batch_applies_sets_and_deletes};
pub use concurrency::{concurrent_rotations_are_serialised, concurrent_writers_lose_no_update};
pub use create::{
    concurrent_creates_have_one_winner, create_writes_version_one_and_never_overwrites,
};
pub use history::{
    history_lists_and_reads_versions, history_retention_is_consistent,
    missing_versions_are_not_found, rollback_writes_a_new_version,
    write_secret_and_version_history_agree,
};
pub use validation::{
    invalid_names_are_rejected_and_nothing_stored, invalid_reads_are_rejected,
    oversized_values_are_rejected_and_nothing_stored,
};

/// What the suite needs of a backend: every store trait, shareable across tasks.
pub trait ConformanceStore: VersionedSecretsStore + BatchSecretsStore + 'static {}

impl<T: VersionedSecretsStore + BatchSecretsStore + 'static> ConformanceStore for T {}

/// A scope name no other check (in this or another process) uses: `ck-{label}-...`.
///
/// Built from the process id, the time and a counter, so that checks running at once
/// against one shared backend never meet.
#[must_use]
pub fn unique_scope(label: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("ck-{label}-{:x}-{nanos:x}-{n}", std::process::id())
}

/// Runs one check on a fresh multi-threaded runtime (with whatever drivers the build's
/// tokio features provide, so network backends work too).
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("the test runtime must start")
        .block_on(future)
}

/// Panics unless `result` is [`SecretsError::NotFound`].
#[track_caller]
pub fn assert_not_found<T>(result: Result<T>, what: &str) {
    match result {
        Err(SecretsError::NotFound { .. }) => {}
        Err(other) => panic!("{what}: expected NotFound, got error: {other}"),
        Ok(_) => panic!("{what}: expected NotFound, but it succeeded"),
    }
}

/// Panics unless `result` is [`SecretsError::InvalidName`].
#[track_caller]
pub fn assert_invalid_name<T>(result: Result<T>, what: &str) {
    match result {
        Err(SecretsError::InvalidName { .. }) => {}
        Err(other) => panic!("{what}: expected InvalidName, got error: {other}"),
        Ok(_) => panic!("{what}: expected InvalidName, but it succeeded"),
    }
}

/// Expands into one `#[test]` per behaviour of the conformance suite, each on a fresh
/// store made by the given expression. See the [module docs](crate::testkit).
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr $(, #[$meta:meta])* $(,)?) => {
        $crate::__conformance_tests! {
            ($make) [$(#[$meta])*]
            set_get_round_trip,
            special_names_round_trip,
            get_missing_is_not_found,
            get_secrets_omits_missing,
            list_secrets_is_exact_scope_and_sorted,
            list_secrets_of_empty_scope_is_empty,
            colon_in_scope_or_name_never_collides,
            exists_reports_presence,
            versions_increase_by_one_per_write,
            timestamps_created_stays_updated_moves,
            delete_removes_all_versions,
            delete_missing_is_not_found,
            rotate_semantics,
            usable_as_trait_objects,
            invalid_names_are_rejected_and_nothing_stored,
            invalid_reads_are_rejected,
            oversized_values_are_rejected_and_nothing_stored,
            create_writes_version_one_and_never_overwrites,
            concurrent_creates_have_one_winner,
            history_lists_and_reads_versions,
            rollback_writes_a_new_version,
            missing_versions_are_not_found,
            history_retention_is_consistent,
            write_secret_and_version_history_agree,
            batch_applies_sets_and_deletes,
            atomic_batch_with_invalid_op_changes_nothing,
            concurrent_writers_lose_no_update,
            concurrent_rotations_are_serialised,
        }
    };
}

/// One test per name; used by [`conformance_suite!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (($make:expr) [$(#[$meta:meta])*] $(,)?) => {};
    (($make:expr) [$(#[$meta:meta])*] $name:ident $(, $rest:ident)* $(,)?) => {
        #[test]
        $(#[$meta])*
        fn $name() {
            $crate::testkit::block_on(async {
                let store = ($make)().await;
                $crate::testkit::$name(store).await;
            });
        }
        $crate::__conformance_tests! { ($make) [$(#[$meta])*] $($rest),* }
    };
}
