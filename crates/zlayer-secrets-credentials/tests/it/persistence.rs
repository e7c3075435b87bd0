//! Everything the typed stores write survives closing and reopening the SQLite store, and
//! stays unreadable without its key.

use zlayer_secrets_core::SecretsError;
use zlayer_secrets_credentials::{
    CredentialStore, GitCredentialKind, GitCredentialStore, GrantStore, PermissionLevel,
    RegistryAuthType, RegistryCredentialStore, Subject,
};
use zlayer_secrets_crypto::EncryptionKey;
use zlayer_secrets_sqlite::PersistentSecretsStore;

#[tokio::test]
async fn records_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let key = EncryptionKey::generate();

    let (reg_id, git_id) = {
        let store = PersistentSecretsStore::open(dir.path(), key.clone())
            .await
            .unwrap();
        CredentialStore::new(store.clone())
            .create_api_key("ci", "s3cret", &["deployer"])
            .await
            .unwrap();
        let r = RegistryCredentialStore::new(store.clone())
            .create("ghcr.io", "bot", "ghp_pw", RegistryAuthType::Token)
            .await
            .unwrap();
        let g = GitCredentialStore::new(store.clone())
            .create_for_host(
                "gh",
                "ghp_tok",
                GitCredentialKind::Pat,
                "github.com",
                Some("me"),
            )
            .await
            .unwrap();
        GrantStore::new(store.clone())
            .grant(&Subject::group("ops"), "env:prod", PermissionLevel::Execute)
            .await
            .unwrap();
        (r.id, g.id)
    };

    let store = PersistentSecretsStore::open(dir.path(), key.clone())
        .await
        .unwrap();
    let creds = CredentialStore::new(store.clone());
    assert_eq!(
        creds.validate("ci", "s3cret").await.unwrap(),
        Some(vec!["deployer".to_owned()])
    );
    assert_eq!(creds.validate("ci", "wrong").await.unwrap(), None);
    let reg = RegistryCredentialStore::new(store.clone());
    assert_eq!(reg.get_password(&reg_id).await.unwrap().expose(), "ghp_pw");
    assert_eq!(
        reg.find_by_registry("https://ghcr.io/")
            .await
            .unwrap()
            .len(),
        1
    );
    let git = GitCredentialStore::new(store.clone());
    assert_eq!(git.get_value(&git_id).await.unwrap().expose(), "ghp_tok");
    assert_eq!(
        git.find_by_host("git@github.com:o/r.git")
            .await
            .unwrap()
            .len(),
        1
    );
    let grants = GrantStore::new(store.clone());
    assert!(
        grants
            .check_member("anyone", &["ops"], "env:prod", PermissionLevel::Execute)
            .await
            .unwrap()
    );
    drop((creds, reg, git, grants, store));

    // Another key does not open the store: nothing is readable without it.
    let err = PersistentSecretsStore::open(dir.path(), EncryptionKey::generate())
        .await
        .unwrap_err();
    assert!(matches!(err, SecretsError::WrongKey { .. }), "{err}");
}

#[tokio::test]
async fn secrets_are_not_in_the_database_file_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let store = PersistentSecretsStore::open(dir.path(), EncryptionKey::generate())
        .await
        .unwrap();
    RegistryCredentialStore::new(store.clone())
        .create(
            "ghcr.io",
            "bot",
            "PLAINTEXT-CANARY-pw",
            RegistryAuthType::Basic,
        )
        .await
        .unwrap();
    CredentialStore::new(store.clone())
        .create_api_key("ci", "PLAINTEXT-CANARY-api", &[])
        .await
        .unwrap();
    drop(store);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("PLAINTEXT-CANARY"));
        assert!(!text.contains("argon2id"), "the hash is encrypted too");
    }
}
