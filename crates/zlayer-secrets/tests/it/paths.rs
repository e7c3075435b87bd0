//! Every public name of the original crate, used under its original path. If one moves,
//! this file stops compiling.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use zlayer_secrets::credentials::CredentialStore;
use zlayer_secrets::git_credentials::{GitCredential, GitCredentialKind, GitCredentialStore};
use zlayer_secrets::registry_credentials::{
    RegistryAuthType, RegistryCredential, RegistryCredentialStore,
};
use zlayer_secrets::secrecy::ExposeSecret as _;
use zlayer_secrets::{
    EncryptionKey, EnvScopeProvider, KeyManager, MemoryStore, PersistentSecretsStore, Result,
    RotationResult, Secret, SecretMetadata, SecretRef, SecretScope, SecretsError, SecretsProvider,
    SecretsResolver, SecretsStore,
};

/// An environment resolver written the way the original's users write one.
struct Environments;

#[async_trait]
impl EnvScopeProvider for Environments {
    async fn resolve_env_scope(&self, name_or_id: &str) -> Result<String> {
        Ok(format!("env-{name_or_id}"))
    }
}

/// A user-written provider, through the trait object the original's users hold.
struct Fixed;

#[async_trait]
impl SecretsProvider for Fixed {
    async fn get_secret(&self, _scope: &str, name: &str) -> Result<Secret> {
        if name == "there" {
            Ok(Secret::new("fixed"))
        } else {
            Err(SecretsError::NotFound {
                name: name.to_owned(),
            })
        }
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        let mut out = HashMap::new();
        for name in names {
            if let Ok(v) = self.get_secret(scope, name).await {
                out.insert((*name).to_owned(), v);
            }
        }
        Ok(out)
    }

    async fn list_secrets(&self, _scope: &str) -> Result<Vec<SecretMetadata>> {
        Ok(vec![SecretMetadata::new("there")])
    }

    async fn exists(&self, _scope: &str, name: &str) -> Result<bool> {
        Ok(name == "there")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_original_paths_work_together() {
    // Types and traits.
    let provider: Arc<dyn SecretsProvider> = Arc::new(Fixed);
    assert_eq!(
        provider.get_secret("s", "there").await.unwrap().expose(),
        "fixed"
    );
    let scope = SecretScope::service("shop", "api");
    assert_eq!(
        scope.to_key_prefix(),
        "deployments/shop/services/api/secrets"
    );
    let r: Option<SecretRef> = SecretRef::parse("$secret://prod/KEY/field");
    assert_eq!(r.unwrap().environment.as_deref(), Some("prod"));
    let secret = Secret::new("x");
    assert_eq!(secret.as_secret_string().expose_secret(), "x");

    // Keys and the persistent store, as trait objects.
    let dir = tempfile::tempdir().unwrap();
    let key: EncryptionKey = KeyManager::with_base_dir(dir.path())
        .with_env_vars(Vec::<(String, String)>::new())
        .get_or_create_key("paths")
        .unwrap();
    let persistent = PersistentSecretsStore::open(dir.path(), key).await.unwrap();
    let store: Arc<dyn SecretsStore> = Arc::new(persistent);
    store
        .set_secret("env-prod", "KEY", &Secret::new(r#"{"field":"v"}"#))
        .await
        .unwrap();
    store
        .set_secret("shop", "db", &Secret::new("one"))
        .await
        .unwrap();
    let rotation: RotationResult = store
        .rotate_secret("shop", "db", &Secret::new("two"))
        .await
        .unwrap();
    assert_eq!(rotation.new_version, 2);

    // The resolver over the store, with a user-written environment resolver.
    let resolver =
        SecretsResolver::new(Arc::clone(&store), "shop").with_env_resolver(Arc::new(Environments));
    assert_eq!(
        resolver
            .resolve_value("$secret://prod/KEY/field")
            .await
            .unwrap(),
        "v"
    );
    assert_eq!(resolver.resolve_value("$S:db").await.unwrap(), "two");

    // The typed stores over the same store.
    let api = CredentialStore::new(Arc::clone(&store));
    api.create_api_key("ci", "long-api-secret-value", &["admin"])
        .await
        .unwrap();
    assert_eq!(
        api.validate("ci", "long-api-secret-value").await.unwrap(),
        Some(vec!["admin".to_owned()])
    );
    let registries = RegistryCredentialStore::new(Arc::clone(&store));
    let cred: RegistryCredential = registries
        .create("ghcr.io", "bot", "registry-token", RegistryAuthType::Token)
        .await
        .unwrap();
    assert_eq!(
        registries.get_password(&cred.id).await.unwrap().expose(),
        "registry-token"
    );
    let gits = GitCredentialStore::new(Arc::clone(&store));
    let git: GitCredential = gits
        .create("ci pat", "ghp_token", GitCredentialKind::Pat)
        .await
        .unwrap();
    assert_eq!(gits.get_value(&git.id).await.unwrap().expose(), "ghp_token");

    // The in-memory store stays available.
    let memory = MemoryStore::new();
    memory
        .set_secret("a", "b", &Secret::new("c"))
        .await
        .unwrap();
    assert!(memory.exists("a", "b").await.unwrap());
}
