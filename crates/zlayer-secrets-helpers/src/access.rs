//! How the operations reach the store.

use std::future::Future;

use zlayer_secrets_core::SecretsStore;

/// Why the store could not be opened: whatever the opener says (a missing key, an
/// unreachable server), shown as it is.
pub type OpenError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where the operations find the store, opened only when one needs it: a request that is
/// refused, or that asks for nothing, opens nothing, and only `store` creates a store.
pub trait StoreAccess {
    /// The store the credentials are kept in.
    type Store: SecretsStore;

    /// The store. With `create` false, `None` when there is none yet: a look-up in a store
    /// that does not exist finds nothing, and creates nothing. With `create` true, the
    /// store is created if need be (`None` then is an error of the operation).
    fn open(
        &self,
        create: bool,
    ) -> impl Future<Output = Result<Option<Self::Store>, OpenError>> + Send;
}

/// A store that is open already (a server's, a test's): every operation uses it.
#[derive(Debug, Clone)]
pub struct Opened<S>(pub S);

impl<S: SecretsStore + Clone> StoreAccess for Opened<S> {
    type Store = S;

    async fn open(&self, _create: bool) -> Result<Option<S>, OpenError> {
        Ok(Some(self.0.clone()))
    }
}
