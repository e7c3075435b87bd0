//! `PersistentSecretsStore` passes the suite every backend runs.

use zlayer_secrets_sqlite::{PersistentSecretsStore, StoreOptions};
use zlayer_secrets_testsupport::forward::Holding;

/// A store in a temporary directory that is removed after the store is dropped.
pub(crate) type TempStore = Holding<PersistentSecretsStore, tempfile::TempDir>;

/// A fresh [`TempStore`] opened with `options`.
pub(crate) async fn temp_store(options: StoreOptions) -> TempStore {
    let dir = tempfile::tempdir().unwrap();
    let store = PersistentSecretsStore::open_with_options(dir.path(), crate::key_a(), options)
        .await
        .unwrap();
    Holding::new(store, dir)
}

zlayer_secrets_core::conformance_suite!(|| temp_store(StoreOptions::default()));

/// The suite holds with a short history too (its rollback check keeps four versions).
mod short_retention {
    use zlayer_secrets_sqlite::StoreOptions;

    zlayer_secrets_core::conformance_suite!(|| super::temp_store(StoreOptions {
        retention: 4,
        ..StoreOptions::default()
    }));
}
