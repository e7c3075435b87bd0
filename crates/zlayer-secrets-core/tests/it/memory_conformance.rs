//! `MemoryStore` passes the suite every backend runs.

use zlayer_secrets_core::MemoryStore;

zlayer_secrets_core::conformance_suite!(|| async { MemoryStore::new() });

/// The suite holds whatever the retention, and the closure form with extra attributes
/// expands too.
mod short_retention {
    use std::num::NonZeroUsize;

    zlayer_secrets_core::conformance_suite!(
        || async {
            zlayer_secrets_core::MemoryStore::with_retention(
                NonZeroUsize::new(4).expect("4 is not zero"),
            )
        },
        #[cfg_attr(miri, ignore = "the suite starts a multi-threaded runtime")]
    );
}
