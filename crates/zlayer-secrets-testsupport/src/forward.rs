//! Test stores around a real store, and the macros that pass trait calls on to it.
//!
//! A test store usually changes a few calls of a real store (fails a chosen write, counts
//! reads) and passes every other call on unchanged. The macros write those pass-through
//! implementations, one trait at a time, so that a wrapper spells out only what it changes:
//!
//! ```
//! use std::sync::Arc;
//! use zlayer_secrets_core::{MemoryStore, SecretsStore};
//!
//! /// Reads go to the inner store; writes are the test's own.
//! struct ReadThrough {
//!     inner: Arc<MemoryStore>,
//! }
//!
//! zlayer_secrets_testsupport::forward_provider!(ReadThrough, inner);
//! ```
//!
//! Each macro takes the type and the field that holds the inner store; a generic type
//! gives its parameters first, as in `forward_store!(impl[S: SecretsStore] Wrapper<S>,
//! inner)`. Every method is passed on, the traits' provided methods too, so a wrapper
//! behaves exactly like the store it holds wherever it does not say otherwise.

/// Implements `SecretsProvider` for a type by passing every call to one of its fields.
///
/// `forward_provider!(Type, field)`, or `forward_provider!(impl[GENERICS] Type<..>, field)`.
#[macro_export]
macro_rules! forward_provider {
    (impl[$($generics:tt)*] $ty:ty, $field:tt) => {
        #[$crate::__private::async_trait]
        impl<$($generics)*> $crate::__private::SecretsProvider for $ty {
            async fn get_secret(
                &self,
                scope: &str,
                name: &str,
            ) -> $crate::__private::Result<$crate::__private::Secret> {
                $crate::__private::SecretsProvider::get_secret(&self.$field, scope, name).await
            }

            async fn get_secrets(
                &self,
                scope: &str,
                names: &[&str],
            ) -> $crate::__private::Result<
                $crate::__private::HashMap<::std::string::String, $crate::__private::Secret>,
            > {
                $crate::__private::SecretsProvider::get_secrets(&self.$field, scope, names).await
            }

            async fn list_secrets(
                &self,
                scope: &str,
            ) -> $crate::__private::Result<::std::vec::Vec<$crate::__private::SecretMetadata>>
            {
                $crate::__private::SecretsProvider::list_secrets(&self.$field, scope).await
            }

            async fn exists(&self, scope: &str, name: &str) -> $crate::__private::Result<bool> {
                $crate::__private::SecretsProvider::exists(&self.$field, scope, name).await
            }
        }
    };
    ($ty:ty, $field:tt) => {
        $crate::forward_provider!(impl[] $ty, $field);
    };
}

/// Implements `SecretsStore` for a type by passing every call to one of its fields.
///
/// `forward_store!(Type, field)`, or `forward_store!(impl[GENERICS] Type<..>, field)`.
#[macro_export]
macro_rules! forward_store {
    (impl[$($generics:tt)*] $ty:ty, $field:tt) => {
        #[$crate::__private::async_trait]
        impl<$($generics)*> $crate::__private::SecretsStore for $ty {
            async fn set_secret(
                &self,
                scope: &str,
                name: &str,
                value: &$crate::__private::Secret,
            ) -> $crate::__private::Result<()> {
                $crate::__private::SecretsStore::set_secret(&self.$field, scope, name, value).await
            }

            async fn delete_secret(
                &self,
                scope: &str,
                name: &str,
            ) -> $crate::__private::Result<()> {
                $crate::__private::SecretsStore::delete_secret(&self.$field, scope, name).await
            }

            async fn create_secret(
                &self,
                scope: &str,
                name: &str,
                value: &$crate::__private::Secret,
            ) -> $crate::__private::Result<u32> {
                $crate::__private::SecretsStore::create_secret(&self.$field, scope, name, value)
                    .await
            }

            async fn rotate_secret(
                &self,
                scope: &str,
                name: &str,
                value: &$crate::__private::Secret,
            ) -> $crate::__private::Result<$crate::__private::RotationResult> {
                $crate::__private::SecretsStore::rotate_secret(&self.$field, scope, name, value)
                    .await
            }
        }
    };
    ($ty:ty, $field:tt) => {
        $crate::forward_store!(impl[] $ty, $field);
    };
}

/// Implements `VersionedSecretsStore` for a type by passing every call to one of its
/// fields.
///
/// `forward_versioned!(Type, field)`, or `forward_versioned!(impl[GENERICS] Type<..>, field)`.
#[macro_export]
macro_rules! forward_versioned {
    (impl[$($generics:tt)*] $ty:ty, $field:tt) => {
        #[$crate::__private::async_trait]
        impl<$($generics)*> $crate::__private::VersionedSecretsStore for $ty {
            async fn get_metadata(
                &self,
                scope: &str,
                name: &str,
            ) -> $crate::__private::Result<$crate::__private::SecretMetadata> {
                $crate::__private::VersionedSecretsStore::get_metadata(&self.$field, scope, name)
                    .await
            }

            async fn write_secret(
                &self,
                scope: &str,
                name: &str,
                value: &$crate::__private::Secret,
            ) -> $crate::__private::Result<u32> {
                $crate::__private::VersionedSecretsStore::write_secret(
                    &self.$field,
                    scope,
                    name,
                    value,
                )
                .await
            }

            async fn version_history(
                &self,
                scope: &str,
                name: &str,
            ) -> $crate::__private::Result<$crate::__private::VersionHistory> {
                $crate::__private::VersionedSecretsStore::version_history(
                    &self.$field,
                    scope,
                    name,
                )
                .await
            }

            async fn list_versions(
                &self,
                scope: &str,
                name: &str,
            ) -> $crate::__private::Result<::std::vec::Vec<$crate::__private::SecretVersion>>
            {
                $crate::__private::VersionedSecretsStore::list_versions(&self.$field, scope, name)
                    .await
            }

            async fn get_secret_version(
                &self,
                scope: &str,
                name: &str,
                version: u32,
            ) -> $crate::__private::Result<$crate::__private::Secret> {
                $crate::__private::VersionedSecretsStore::get_secret_version(
                    &self.$field,
                    scope,
                    name,
                    version,
                )
                .await
            }

            async fn rollback_secret(
                &self,
                scope: &str,
                name: &str,
                to: u32,
            ) -> $crate::__private::Result<$crate::__private::RotationResult> {
                $crate::__private::VersionedSecretsStore::rollback_secret(
                    &self.$field,
                    scope,
                    name,
                    to,
                )
                .await
            }
        }
    };
    ($ty:ty, $field:tt) => {
        $crate::forward_versioned!(impl[] $ty, $field);
    };
}

/// Implements `BatchSecretsStore` for a type by passing every call to one of its fields.
///
/// `forward_batch!(Type, field)`, or `forward_batch!(impl[GENERICS] Type<..>, field)`.
#[macro_export]
macro_rules! forward_batch {
    (impl[$($generics:tt)*] $ty:ty, $field:tt) => {
        #[$crate::__private::async_trait]
        impl<$($generics)*> $crate::__private::BatchSecretsStore for $ty {
            async fn apply_batch(
                &self,
                ops: &[$crate::__private::WriteOp],
            ) -> $crate::__private::Result<()> {
                $crate::__private::BatchSecretsStore::apply_batch(&self.$field, ops).await
            }

            fn is_atomic(&self) -> bool {
                $crate::__private::BatchSecretsStore::is_atomic(&self.$field)
            }
        }
    };
    ($ty:ty, $field:tt) => {
        $crate::forward_batch!(impl[] $ty, $field);
    };
}

/// A store together with something that must live as long as it, such as the temporary
/// directory of an on-disk store. Every call of the four store traits goes to the store;
/// when a `Holding` is dropped, the store goes first, then the guard.
///
/// ```
/// use zlayer_secrets_core::{MemoryStore, testkit::ConformanceStore};
/// use zlayer_secrets_testsupport::forward::Holding;
///
/// fn conforms(_: impl ConformanceStore) {}
/// conforms(Holding::new(MemoryStore::new(), "a guard"));
/// ```
#[derive(Debug, Clone)]
pub struct Holding<S, G> {
    store: S,
    _guard: G,
}

impl<S, G> Holding<S, G> {
    /// `store`, with `guard` kept alive until it is dropped.
    pub fn new(store: S, guard: G) -> Self {
        Self {
            store,
            _guard: guard,
        }
    }

    /// The store itself.
    pub fn store(&self) -> &S {
        &self.store
    }
}

use zlayer_secrets_core::{
    BatchSecretsStore, SecretsProvider, SecretsStore, VersionedSecretsStore,
};

crate::forward_provider!(impl[S: SecretsProvider, G: Send + Sync] Holding<S, G>, store);
crate::forward_store!(impl[S: SecretsStore, G: Send + Sync] Holding<S, G>, store);
crate::forward_versioned!(impl[S: VersionedSecretsStore, G: Send + Sync] Holding<S, G>, store);
crate::forward_batch!(impl[S: BatchSecretsStore, G: Send + Sync] Holding<S, G>, store);
