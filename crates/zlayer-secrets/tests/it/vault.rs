//! `VaultSecretsProvider` under its original path, as a store trait object.

use std::sync::Arc;

use zlayer_secrets::{SecretsStore, VaultSecretsProvider};

#[test]
fn the_vault_provider_is_a_store() {
    fn as_store(p: VaultSecretsProvider) -> Arc<dyn SecretsStore> {
        Arc::new(p)
    }
    let _ = as_store;
}
