//! The typed stores of `zlayer-secrets-credentials`, unchanged, on top of Vault.

use zlayer_secrets_core::SecretsProvider;
use zlayer_secrets_credentials::scopes::API_KEYS_SCOPE;
use zlayer_secrets_credentials::{
    CredentialStore, GitCredentialKind, GitCredentialStore, GrantStore, PermissionLevel, Subject,
};

use crate::common::provider_in_scope;

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn api_keys_git_credentials_and_grants_work_on_vault() {
    let (vault, id) = provider_in_scope("typed");

    let keys = CredentialStore::new(vault.clone());
    let key = format!("{id}-key");
    keys.create_api_key(&key, "correct horse battery", &["admin", "deploy"])
        .await
        .unwrap();
    assert_eq!(
        keys.validate(&key, "correct horse battery").await.unwrap(),
        Some(vec!["admin".to_owned(), "deploy".to_owned()])
    );
    assert_eq!(keys.validate(&key, "wrong").await.unwrap(), None);
    assert!(keys.list_api_keys().await.unwrap().contains(&key));
    // The record is an ordinary secret in Vault, in the typed store's reserved scope.
    assert!(vault.exists(API_KEYS_SCOPE, &key).await.unwrap());
    keys.delete_api_key(&key).await.unwrap();
    assert!(!keys.exists(&key).await.unwrap());

    let git = GitCredentialStore::new(vault.clone());
    let cred = git
        .create_for_host(
            &format!("{id}-git"),
            "ghp_example_token",
            GitCredentialKind::Pat,
            "github.com",
            Some("bot"),
        )
        .await
        .unwrap();
    assert_eq!(
        git.get_value(&cred.id).await.unwrap().expose(),
        "ghp_example_token"
    );
    git.delete(&cred.id).await.unwrap();
    assert!(git.get(&cred.id).await.unwrap().is_none());

    let grants = GrantStore::new(vault.clone());
    let env = format!("{id}-env");
    let alice = Subject::user("alice");
    grants
        .grant(&alice, &env, PermissionLevel::Write)
        .await
        .unwrap();
    assert_eq!(
        grants.level(&alice, &env).await.unwrap(),
        PermissionLevel::Write
    );
    assert_eq!(
        grants.revoke(&alice, &env).await.unwrap(),
        PermissionLevel::Write
    );
    assert_eq!(
        grants.level(&alice, &env).await.unwrap(),
        PermissionLevel::None
    );
}
