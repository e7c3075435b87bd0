//! Code written against the original `zlayer-secrets` crate: only its public names, under
//! their original paths, used the way its own documentation and tests use them. Nothing
//! here names an item the original does not have; if a name moves or a signature changes,
//! this file stops compiling, and if a behaviour changes, a test fails.
//!
//! The deliberate differences are listed in `docs/architecture.md` ("Differences from the
//! original crate"); none of them is exercised here.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use zeroize::Zeroize as _;
use zlayer_secrets::credentials::CredentialStore;
use zlayer_secrets::git_credentials::{GitCredential, GitCredentialKind, GitCredentialStore};
use zlayer_secrets::registry_credentials::{
    RegistryAuthType, RegistryCredential, RegistryCredentialStore,
};
use zlayer_secrets::{
    EncryptionKey, EnvScopeProvider, KeyManager, PersistentSecretsStore, Result, RotationResult,
    Secret, SecretMetadata, SecretRef, SecretScope, SecretsError, SecretsProvider, SecretsResolver,
    SecretsStore,
};

type Shared = Arc<RwLock<HashMap<(String, String), SecretMetadataAndValue>>>;

/// What the user-written store below keeps per secret.
#[derive(Clone)]
struct SecretMetadataAndValue {
    metadata: SecretMetadata,
    value: Secret,
}

/// A store written by a user of the original crate: the four provider methods and the two
/// required store methods, nothing else. `rotate_secret` comes from the trait's default.
#[derive(Clone, Default)]
struct UserStore {
    secrets: Shared,
}

#[async_trait]
impl SecretsProvider for UserStore {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        self.secrets
            .read()
            .unwrap()
            .get(&(scope.to_owned(), name.to_owned()))
            .map(|s| s.value.clone())
            .ok_or_else(|| SecretsError::NotFound {
                name: name.to_owned(),
            })
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        let mut out = HashMap::new();
        for name in names {
            if let Ok(secret) = self.get_secret(scope, name).await {
                out.insert((*name).to_owned(), secret);
            }
        }
        Ok(out)
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        let mut list: Vec<SecretMetadata> = self
            .secrets
            .read()
            .unwrap()
            .iter()
            .filter(|((s, _), _)| s == scope)
            .map(|(_, v)| v.metadata.clone())
            .collect();
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        Ok(self
            .secrets
            .read()
            .unwrap()
            .contains_key(&(scope.to_owned(), name.to_owned())))
    }
}

#[async_trait]
impl SecretsStore for UserStore {
    async fn set_secret(&self, scope: &str, name: &str, value: &Secret) -> Result<()> {
        let mut secrets = self.secrets.write().unwrap();
        let key = (scope.to_owned(), name.to_owned());
        match secrets.get_mut(&key) {
            Some(entry) => {
                entry.metadata.update();
                entry.value = value.clone();
            }
            None => {
                secrets.insert(
                    key,
                    SecretMetadataAndValue {
                        metadata: SecretMetadata::new(name),
                        value: value.clone(),
                    },
                );
            }
        }
        Ok(())
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> Result<()> {
        self.secrets
            .write()
            .unwrap()
            .remove(&(scope.to_owned(), name.to_owned()))
            .map(drop)
            .ok_or_else(|| SecretsError::NotFound {
                name: name.to_owned(),
            })
    }
}

/// An environment resolver as the original's users write one (`env:{id}` scopes).
struct Environments;

#[async_trait]
impl EnvScopeProvider for Environments {
    async fn resolve_env_scope(&self, name_or_id: &str) -> Result<String> {
        if name_or_id == "missing" {
            return Err(SecretsError::NotFound {
                name: format!("environment {name_or_id}"),
            });
        }
        Ok(format!("env:{name_or_id}"))
    }
}

/// A fresh SQLite store, opened on a database file path as the original's tests do.
async fn persistent_store() -> (PersistentSecretsStore, tempfile::TempDir) {
    let temp_dir = tempfile::tempdir().unwrap();
    let db_path = temp_dir.path().join("test_secrets.sqlite");
    let key = EncryptionKey::generate();
    let store = PersistentSecretsStore::open(&db_path, key).await.unwrap();
    (store, temp_dir)
}

#[test]
fn secret_values_are_redacted_and_zeroizable() {
    let secret = Secret::new("super-secret-value");
    assert_eq!(format!("{secret:?}"), "[REDACTED]");
    assert_eq!(secret.expose(), "super-secret-value");
    assert_eq!(
        secret.as_secret_string().expose_secret(),
        "super-secret-value"
    );

    let from_str: Secret = "test-secret".into();
    let from_string: Secret = String::from("another-secret").into();
    let from_secrecy: Secret = SecretString::from("wrapped".to_owned()).into();
    assert_eq!(
        (
            from_str.expose(),
            from_string.expose(),
            from_secrecy.expose()
        ),
        ("test-secret", "another-secret", "wrapped")
    );

    let mut secret = secret.clone();
    secret.zeroize();
    assert_eq!(secret.expose(), "");
}

#[test]
fn metadata_rotation_results_and_scopes() {
    let mut metadata = SecretMetadata::new("test-secret");
    assert_eq!(
        (metadata.name.as_str(), metadata.version),
        ("test-secret", 1)
    );
    assert!(metadata.created_at > 0);
    assert_eq!(metadata.created_at, metadata.updated_at);
    metadata.update();
    assert_eq!(metadata.version, 2);
    assert!(metadata.updated_at >= metadata.created_at);
    let literal = SecretMetadata {
        name: "test".to_owned(),
        created_at: 1_234_567_890,
        updated_at: 1_234_567_900,
        version: 5,
    };
    let json = serde_json::to_string(&literal).unwrap();
    assert_eq!(
        serde_json::from_str::<SecretMetadata>(&json).unwrap(),
        literal
    );

    let rotation = RotationResult {
        previous_version: Some(1),
        new_version: 2,
    };
    let json = serde_json::to_string(&rotation).unwrap();
    assert_eq!(
        serde_json::from_str::<RotationResult>(&json).unwrap(),
        rotation
    );

    let deployment = SecretScope::deployment("my-deployment");
    assert_eq!(deployment.deployment_name(), "my-deployment");
    assert!(deployment.service_name().is_none());
    assert_eq!(
        deployment.to_key_prefix(),
        "deployments/my-deployment/secrets"
    );
    let service = SecretScope::service("my-deployment", "my-service");
    assert_eq!(service.service_name(), Some("my-service"));
    assert_eq!(
        service.to_key_prefix(),
        "deployments/my-deployment/services/my-service/secrets"
    );
    assert_eq!(
        service,
        SecretScope::Service {
            deployment: "my-deployment".to_owned(),
            service: "my-service".to_owned(),
        }
    );
    let json = serde_json::to_string(&service).unwrap();
    assert_eq!(serde_json::from_str::<SecretScope>(&json).unwrap(), service);
}

#[test]
fn secret_references_parse_display_and_serialise_as_before() {
    assert_eq!(SecretRef::PREFIX, "$S:");
    assert!(SecretRef::is_secret_ref("$S:my-secret"));
    assert!(!SecretRef::is_secret_ref("S:my-secret"));

    let r = SecretRef::parse("$S:database-password").unwrap();
    assert_eq!(r.name, "database-password");
    assert!(r.is_deployment_level() && !r.has_field());
    let r = SecretRef::parse("$S:@api/database/password").unwrap();
    assert_eq!(
        (r.service.as_deref(), r.name.as_str(), r.field.as_deref()),
        (Some("api"), "database", Some("password"))
    );
    assert!(r.is_service_level() && r.has_field());
    let r = SecretRef::parse("$S::staging/db-password").unwrap();
    assert!(r.is_environment_level() && !r.is_project_environment_level());
    let r = SecretRef::parse("$S:myproj:prod/creds/api_key").unwrap();
    assert_eq!(
        (r.project.as_deref(), r.environment.as_deref()),
        (Some("myproj"), Some("prod"))
    );
    assert!(r.is_project_environment_level());

    for bad in [
        "database-password",
        "$S:",
        "$S:@/secret",
        "$S:@service/",
        "$S:/name",
        "$S:database/",
        "$S:::name",
        "$S::/name",
        "$S:a:b:c/name",
        "$S:name/field/extra",
    ] {
        assert!(SecretRef::parse(bad).is_none(), "{bad}");
    }
    for text in [
        "$S:database-password",
        "$S:database/password",
        "$S:@api/database-password",
        "$S:@api/database/password",
        "$S::staging/db-password",
        "$S:myproj:staging/db-password",
        "$S:myproj:prod/creds/api_key",
    ] {
        let parsed = SecretRef::parse(text).unwrap();
        assert_eq!(parsed.to_string(), text);
        assert_eq!(SecretRef::parse(&parsed.to_string()), Some(parsed));
    }

    assert_eq!(
        SecretRef::parse("$S:my-secret").unwrap().to_scope("prod"),
        SecretScope::Deployment("prod".to_owned())
    );
    assert_eq!(
        SecretRef::parse("$S:@api/my-secret")
            .unwrap()
            .to_scope("prod"),
        SecretScope::service("prod", "api")
    );

    // JSON written before environments existed still reads.
    let old: SecretRef =
        serde_json::from_str(r#"{"name":"db","service":"api","field":"password"}"#).unwrap();
    assert_eq!(old, SecretRef::parse("$S:@api/db/password").unwrap());
    let minimal: SecretRef = serde_json::from_str(r#"{"name":"db"}"#).unwrap();
    assert!(minimal.service.is_none() && minimal.environment.is_none());
}

#[test]
fn encryption_keys() {
    let key = EncryptionKey::generate();
    assert_eq!(key.as_bytes().len(), 32);
    assert_ne!(key.as_bytes(), EncryptionKey::generate().as_bytes());

    let bytes = [42u8; 32];
    assert_eq!(
        EncryptionKey::from_bytes(&bytes).unwrap().as_bytes(),
        &bytes
    );
    for wrong in [&[0u8; 16][..], &[0u8; 64][..]] {
        assert!(matches!(
            EncryptionKey::from_bytes(wrong),
            Err(SecretsError::Encryption(_))
        ));
    }

    let salt = b"unique_salt_1234";
    let derived = EncryptionKey::derive_from_password("my_secure_password", salt).unwrap();
    let again = EncryptionKey::derive_from_password("my_secure_password", salt).unwrap();
    assert_eq!(derived.as_bytes(), again.as_bytes());
    let other = EncryptionKey::derive_from_password("different_password", salt).unwrap();
    assert_ne!(derived.as_bytes(), other.as_bytes());

    let plaintext = b"Hello, World! This is a secret message.";
    let encrypted = key.encrypt(plaintext).unwrap();
    assert!(encrypted.len() > plaintext.len());
    let decrypted: Vec<u8> = key.decrypt(&encrypted).unwrap();
    assert_eq!(decrypted, plaintext);
    assert_ne!(
        key.encrypt(plaintext).unwrap(),
        encrypted,
        "a fresh nonce each time"
    );
    assert_eq!(key.decrypt(&key.encrypt(b"").unwrap()).unwrap(), b"");

    let mut tampered = encrypted.clone();
    if let Some(byte) = tampered.get_mut(24 + 5) {
        *byte ^= 0xFF;
    }
    assert!(matches!(
        key.decrypt(&tampered),
        Err(SecretsError::Decryption(_))
    ));
    assert!(EncryptionKey::generate().decrypt(&encrypted).is_err());
    assert!(key.decrypt(&[0u8; 10]).is_err());
    let cloned = key.clone();
    assert_eq!(cloned.decrypt(&encrypted).unwrap(), plaintext);
}

#[test]
fn key_manager_creates_then_reloads_a_key_file() {
    let _default = KeyManager::default();
    let _new = KeyManager::new();
    let dir = tempfile::tempdir().unwrap();
    let manager = KeyManager::with_base_dir(dir.path());
    let key = manager.get_or_create_key("test-deployment").unwrap();
    let same = manager
        .clone()
        .get_or_create_key("test-deployment")
        .unwrap();
    assert_eq!(key.as_bytes(), same.as_bytes());
    let from_env = std::env::var_os("ZLAYER_SECRETS_KEY").is_some()
        || std::env::var_os("ZLAYER_SECRETS_PASSWORD").is_some();
    if !from_env {
        let other = manager.get_or_create_key("deployment-b").unwrap();
        assert_ne!(key.as_bytes(), other.as_bytes());
        let path = dir.path().join("secrets_test-deployment.key");
        assert!(path.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    println!("{manager:?}");
}

#[tokio::test]
async fn the_persistent_store() {
    let (store, _temp) = persistent_store().await;
    store
        .set_secret(
            "deployment/myapp",
            "db-password",
            &Secret::new("super-secret-value"),
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .get_secret("deployment/myapp", "db-password")
            .await
            .unwrap()
            .expose(),
        "super-secret-value"
    );
    assert!(matches!(
        store.get_secret("deployment/myapp", "nonexistent").await,
        Err(SecretsError::NotFound { .. })
    ));

    assert!(!store.exists("scope", "name").await.unwrap());
    store
        .set_secret("scope", "name", &Secret::new("value"))
        .await
        .unwrap();
    assert!(store.exists("scope", "name").await.unwrap());
    store.delete_secret("scope", "name").await.unwrap();
    assert!(!store.exists("scope", "name").await.unwrap());
    assert!(matches!(
        store.delete_secret("scope", "nonexistent").await,
        Err(SecretsError::NotFound { .. })
    ));

    for (scope, name, value) in [
        ("scope1", "secret-b", "b"),
        ("scope1", "secret-a", "a"),
        ("scope2", "secret-c", "c"),
    ] {
        store
            .set_secret(scope, name, &Secret::new(value))
            .await
            .unwrap();
    }
    let list = store.list_secrets("scope1").await.unwrap();
    assert_eq!(
        list.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["secret-a", "secret-b"]
    );
    let batch = store
        .get_secrets("scope1", &["secret-a", "nonexistent"])
        .await
        .unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch["secret-a"].expose(), "a");

    store
        .set_secret("scope", "versioned", &Secret::new("v1"))
        .await
        .unwrap();
    store
        .set_secret("scope", "versioned", &Secret::new("v2"))
        .await
        .unwrap();
    let list = store.list_secrets("scope").await.unwrap();
    assert_eq!(list[0].version, 2);
    let rotation = store
        .rotate_secret("scope", "versioned", &Secret::new("v3"))
        .await
        .unwrap();
    assert_eq!(
        rotation,
        RotationResult {
            previous_version: Some(2),
            new_version: 3
        }
    );
    assert!(matches!(
        store
            .rotate_secret("scope", "missing", &Secret::new("x"))
            .await,
        Err(SecretsError::NotFound { .. })
    ));

    // An existing directory holds `secrets.sqlite`.
    let dir = tempfile::tempdir().unwrap();
    let in_dir = PersistentSecretsStore::open(dir.path(), EncryptionKey::generate())
        .await
        .unwrap();
    in_dir
        .set_secret("s", "n", &Secret::new("v"))
        .await
        .unwrap();
    assert!(dir.path().join("secrets.sqlite").exists());
}

#[tokio::test]
async fn stores_as_trait_objects_and_user_written_stores() {
    let (persistent, _temp) = persistent_store().await;
    let stores: Vec<Arc<dyn SecretsStore>> =
        vec![Arc::new(persistent), Arc::new(UserStore::default())];
    for store in stores {
        store
            .set_secret("shop", "db", &Secret::new("one"))
            .await
            .unwrap();
        // The trait's default rotation works for a store that does not override it.
        let rotation = store
            .rotate_secret("shop", "db", &Secret::new("two"))
            .await
            .unwrap();
        assert_eq!(
            (rotation.previous_version, rotation.new_version),
            (Some(1), 2)
        );
        let provider: &dyn SecretsProvider = &*store;
        assert_eq!(
            provider.get_secret("shop", "db").await.unwrap().expose(),
            "two"
        );
        let shared: Arc<dyn SecretsStore> = Arc::clone(&store);
        assert!(shared.exists("shop", "db").await.unwrap());
    }
    let boxed: Box<dyn SecretsProvider> = Box::new(UserStore::default());
    assert!(!boxed.exists("a", "b").await.unwrap());
}

#[tokio::test]
async fn the_resolver() {
    let store = UserStore::default();
    store
        .set_secret(
            "test-deployment",
            "database",
            &Secret::new(r#"{"host":"localhost","port":5432,"password":"db-secret"}"#),
        )
        .await
        .unwrap();
    store
        .set_secret("test-deployment", "api-key", &Secret::new("secret-key"))
        .await
        .unwrap();
    store
        .set_secret(
            "test-deployment/worker",
            "worker-token",
            &Secret::new("worker-secret"),
        )
        .await
        .unwrap();
    store
        .set_secret("env:prod", "KEY", &Secret::new(r#"{"field":"v"}"#))
        .await
        .unwrap();

    let resolver = SecretsResolver::new(store.clone(), "test-deployment");
    assert_eq!(resolver.scope(), "test-deployment");
    let _: &UserStore = resolver.provider();
    assert_eq!(
        resolver
            .resolve_value("$S:database/password")
            .await
            .unwrap(),
        "db-secret"
    );
    assert_eq!(
        resolver.resolve_value("$S:database/port").await.unwrap(),
        "5432"
    );
    assert_eq!(resolver.resolve_value("plain").await.unwrap(), "plain");
    assert!(matches!(
        resolver.resolve_value("$S:nonexistent").await,
        Err(SecretsError::NotFound { .. })
    ));
    // `$secret://` needs an environment resolver.
    assert!(resolver.resolve_value("$secret://prod/KEY").await.is_err());

    let env = HashMap::from([
        ("API_KEY".to_owned(), "$S:api-key".to_owned()),
        (
            "WORKER_TOKEN".to_owned(),
            "$S:@worker/worker-token".to_owned(),
        ),
        ("PLAIN_VAR".to_owned(), "plain-value".to_owned()),
    ]);
    let out = resolver.resolve_env(&env).await.unwrap();
    assert_eq!(out["API_KEY"], "secret-key");
    assert_eq!(out["WORKER_TOKEN"], "worker-secret");
    assert_eq!(out["PLAIN_VAR"], "plain-value");
    let missing = HashMap::from([("MISSING".to_owned(), "$S:does-not-exist".to_owned())]);
    assert!(resolver.resolve_env(&missing).await.is_err());

    let env_resolver: Arc<dyn EnvScopeProvider> = Arc::new(Environments);
    let resolver = SecretsResolver::new(store, "test-deployment").with_env_resolver(env_resolver);
    assert_eq!(
        resolver
            .resolve_value("$secret://prod/KEY/field")
            .await
            .unwrap(),
        "v"
    );
    assert!(
        resolver
            .resolve_value("$secret://missing/KEY")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn api_key_credentials() {
    let (store, _temp) = persistent_store().await;
    let cred_store = CredentialStore::new(store);
    println!("{cred_store:?}");

    assert!(!cred_store.exists("test-key").await.unwrap());
    cred_store
        .create_api_key("test-key", "test-secret", &["admin", "reader"])
        .await
        .unwrap();
    assert!(cred_store.exists("test-key").await.unwrap());
    let roles = cred_store
        .validate("test-key", "test-secret")
        .await
        .unwrap()
        .unwrap();
    assert!(roles.contains(&"admin".to_owned()) && roles.contains(&"reader".to_owned()));
    assert!(
        cred_store
            .validate("test-key", "wrong-password")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        cred_store
            .validate("nonexistent", "password")
            .await
            .unwrap()
            .is_none()
    );

    // Creating an existing key overwrites it: new secret, new roles.
    cred_store
        .create_api_key("test-key", "password2", &["admin"])
        .await
        .unwrap();
    assert!(
        cred_store
            .validate("test-key", "test-secret")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        cred_store.validate("test-key", "password2").await.unwrap(),
        Some(vec!["admin".to_owned()])
    );

    cred_store.delete_api_key("test-key").await.unwrap();
    assert!(!cred_store.exists("test-key").await.unwrap());

    assert!(
        cred_store
            .ensure_admin("admin", "original-password")
            .await
            .unwrap()
    );
    assert!(
        !cred_store
            .ensure_admin("admin", "new-password")
            .await
            .unwrap()
    );
    assert!(
        cred_store
            .validate("admin", "original-password")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        cred_store
            .validate("admin", "new-password")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn registry_credentials() {
    let (store, _temp) = persistent_store().await;
    let reg_store = RegistryCredentialStore::new(store);
    println!("{reg_store:?}");

    let cred: RegistryCredential = reg_store
        .create("ghcr.io", "ci-bot", "ghp_xxxx", RegistryAuthType::Token)
        .await
        .unwrap();
    assert_eq!(
        (
            cred.registry.as_str(),
            cred.username.as_str(),
            cred.auth_type
        ),
        ("ghcr.io", "ci-bot", RegistryAuthType::Token)
    );
    assert!(!cred.id.is_empty());
    let retrieved = reg_store.get(&cred.id).await.unwrap().unwrap();
    assert_eq!(
        (retrieved.id.as_str(), retrieved.registry.as_str()),
        (cred.id.as_str(), "ghcr.io")
    );
    assert_eq!(
        reg_store.get_password(&cred.id).await.unwrap().expose(),
        "ghp_xxxx"
    );

    let second = reg_store
        .create("docker.io", "user", "s3cret!", RegistryAuthType::Basic)
        .await
        .unwrap();
    assert_ne!(second.id, cred.id);
    let list = reg_store.list().await.unwrap();
    let mut registries: Vec<&str> = list.iter().map(|c| c.registry.as_str()).collect();
    registries.sort_unstable();
    assert_eq!(registries, ["docker.io", "ghcr.io"]);

    reg_store.delete(&cred.id).await.unwrap();
    assert!(reg_store.get(&cred.id).await.unwrap().is_none());
    assert!(matches!(
        reg_store.get_password(&cred.id).await,
        Err(SecretsError::NotFound { .. })
    ));
    assert!(matches!(
        reg_store.delete("nonexistent-id").await,
        Err(SecretsError::NotFound { .. })
    ));
    assert!(reg_store.get("nonexistent-id").await.unwrap().is_none());

    assert_eq!(
        serde_json::to_string(&RegistryAuthType::Basic).unwrap(),
        r#""basic""#
    );
    assert_eq!(
        serde_json::from_str::<RegistryAuthType>(r#""token""#).unwrap(),
        RegistryAuthType::Token
    );
    let literal = RegistryCredential {
        id: "id".to_owned(),
        registry: "ghcr.io".to_owned(),
        username: "u".to_owned(),
        auth_type: RegistryAuthType::Basic,
    };
    let json = serde_json::to_string(&literal).unwrap();
    assert_eq!(
        serde_json::from_str::<RegistryCredential>(&json)
            .unwrap()
            .id,
        "id"
    );
}

#[tokio::test]
async fn git_credentials() {
    let (store, _temp) = persistent_store().await;
    let git_store = GitCredentialStore::new(store);
    println!("{git_store:?}");

    let cred: GitCredential = git_store
        .create("GitHub PAT for ci", "ghp_xxxx", GitCredentialKind::Pat)
        .await
        .unwrap();
    assert_eq!(
        (cred.name.as_str(), cred.kind),
        ("GitHub PAT for ci", GitCredentialKind::Pat)
    );
    assert_eq!(
        git_store.get(&cred.id).await.unwrap().unwrap().name,
        "GitHub PAT for ci"
    );
    assert_eq!(
        git_store.get_value(&cred.id).await.unwrap().expose(),
        "ghp_xxxx"
    );
    let key = git_store
        .create(
            "My SSH key",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n...",
            GitCredentialKind::SshKey,
        )
        .await
        .unwrap();
    assert_eq!(
        git_store.get_value(&key.id).await.unwrap().expose(),
        "-----BEGIN OPENSSH PRIVATE KEY-----\n..."
    );
    let same_name = git_store
        .create("GitHub PAT for ci", "other", GitCredentialKind::Pat)
        .await
        .unwrap();
    assert_ne!(same_name.id, cred.id);
    assert_eq!(git_store.list().await.unwrap().len(), 3);

    git_store.delete(&cred.id).await.unwrap();
    assert!(git_store.get(&cred.id).await.unwrap().is_none());
    assert!(matches!(
        git_store.get_value(&cred.id).await,
        Err(SecretsError::NotFound { .. })
    ));
    assert!(matches!(
        git_store.delete("nonexistent-id").await,
        Err(SecretsError::NotFound { .. })
    ));

    assert_eq!(
        serde_json::to_string(&GitCredentialKind::SshKey).unwrap(),
        r#""ssh_key""#
    );
    assert_eq!(
        serde_json::from_str::<GitCredentialKind>(r#""pat""#).unwrap(),
        GitCredentialKind::Pat
    );
    let literal = GitCredential {
        id: "id".to_owned(),
        name: "n".to_owned(),
        kind: GitCredentialKind::Pat,
    };
    assert_eq!(literal.clone().kind, GitCredentialKind::Pat);
}

#[test]
fn errors() {
    fn fails() -> Result<()> {
        Err(SecretsError::Storage("x".to_owned()))
    }
    fn propagates() -> std::result::Result<(), Box<dyn std::error::Error>> {
        fails()?;
        Ok(())
    }
    let errors = [
        SecretsError::NotFound {
            name: "db".to_owned(),
        },
        SecretsError::AccessDenied {
            name: "db".to_owned(),
        },
        SecretsError::Encryption("e".to_owned()),
        SecretsError::Decryption("d".to_owned()),
        SecretsError::Storage("s".to_owned()),
        SecretsError::InvalidName {
            name: "n".to_owned(),
        },
        SecretsError::AlreadyExists {
            name: "db".to_owned(),
        },
        SecretsError::Provider("p".to_owned()),
    ];
    for error in errors {
        let shown = error.to_string();
        let detail = match &error {
            SecretsError::NotFound { name }
            | SecretsError::AccessDenied { name }
            | SecretsError::InvalidName { name }
            | SecretsError::AlreadyExists { name } => name.clone(),
            SecretsError::Encryption(m)
            | SecretsError::Decryption(m)
            | SecretsError::Storage(m)
            | SecretsError::Provider(m) => m.clone(),
            _ => unreachable!("only the original variants are built here"),
        };
        assert!(shown.contains(&detail), "{shown}");
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
        assert!(!boxed.to_string().is_empty());
    }
    assert!(propagates().is_err());
}

#[cfg(feature = "vault")]
#[test]
fn the_vault_provider() {
    use zlayer_secrets::VaultSecretsProvider;

    let provider =
        VaultSecretsProvider::new("https://vault.example.com:8200", "hvs.test-token", "secret")
            .unwrap();
    let shown = format!("{provider:?}");
    assert!(
        shown.contains("secret") && !shown.contains("hvs.test-token"),
        "{shown}"
    );
    let store: Arc<dyn SecretsStore> = Arc::new(provider);
    drop(store);
    if std::env::var_os("VAULT_ADDR").is_none() {
        let err = VaultSecretsProvider::from_env().unwrap_err();
        assert!(err.to_string().contains("VAULT_ADDR"), "{err}");
    }
}
