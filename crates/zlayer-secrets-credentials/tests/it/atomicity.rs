//! Creating or deleting a registry or Git credential is one store write: a failing write
//! leaves the whole credential or nothing, never metadata without its secret.

use std::sync::Arc;

use zlayer_secrets_core::SecretsStore;
use zlayer_secrets_credentials::{
    CredentialStore, GitCredentialKind, GitCredentialStore, GrantStore, PermissionLevel,
    RegistryAuthType, RegistryCredentialStore, Subject,
};

use crate::support::{FailMode, FailingStore, backends, reserved_contents};

#[tokio::test]
async fn each_create_and_delete_is_exactly_one_write() {
    for b in backends().await {
        let counting = Arc::new(FailingStore::new(b.store.clone(), None, FailMode::Before));
        let reg = RegistryCredentialStore::new(counting.clone());
        let git = GitCredentialStore::new(counting.clone());

        let r = reg
            .create("ghcr.io", "u", "pw", RegistryAuthType::Basic)
            .await
            .unwrap();
        assert_eq!(counting.writes(), 1, "{}: registry create", b.name);
        reg.delete(&r.id).await.unwrap();
        assert_eq!(counting.writes(), 2, "registry delete");

        let g = git
            .create_for_host("l", "v", GitCredentialKind::Pat, "github.com", None)
            .await
            .unwrap();
        assert_eq!(counting.writes(), 3, "git create");
        git.delete(&g.id).await.unwrap();
        assert_eq!(counting.writes(), 4, "git delete");

        // Changing a secret is one write too.
        let r = reg
            .create("ghcr.io", "u", "pw", RegistryAuthType::Basic)
            .await
            .unwrap();
        let g = git.create("l", "v", GitCredentialKind::Pat).await.unwrap();
        let before = counting.writes();
        reg.set_password(&r.id, "pw2").await.unwrap();
        git.set_value(&g.id, "v2").await.unwrap();
        assert_eq!(counting.writes() - before, 2, "{}", b.name);
        reg.delete(&r.id).await.unwrap();
        git.delete(&g.id).await.unwrap();

        // Reads never write.
        let r = reg
            .create("ghcr.io", "u", "pw", RegistryAuthType::Basic)
            .await
            .unwrap();
        let before = counting.writes();
        reg.get(&r.id).await.unwrap();
        reg.get_password(&r.id).await.unwrap();
        reg.list().await.unwrap();
        reg.find_by_registry("ghcr.io").await.unwrap();
        git.list_details().await.unwrap();
        assert_eq!(counting.writes(), before);

        // API keys and grants: one write per change too.
        let creds = CredentialStore::new(counting.clone());
        let grants = GrantStore::new(counting.clone());
        let before = counting.writes();
        creds.create_api_key("k", "s", &[]).await.unwrap();
        creds.set_roles("k", &["r"]).await.unwrap();
        creds.validate("k", "s").await.unwrap();
        creds.delete_api_key("k").await.unwrap();
        grants
            .grant(&Subject::user("a"), "env:e", PermissionLevel::Read)
            .await
            .unwrap();
        grants.revoke(&Subject::user("a"), "env:e").await.unwrap();
        assert_eq!(counting.writes() - before, 5, "{}", b.name);
    }
}

#[tokio::test]
async fn a_failing_create_leaves_nothing() {
    for b in backends().await {
        let failing = Arc::new(FailingStore::new(
            b.store.clone(),
            Some(1),
            FailMode::Before,
        ));
        let reg = RegistryCredentialStore::new(failing.clone());
        let err = reg
            .create("ghcr.io", "u", "pw", RegistryAuthType::Basic)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("injected failure"),
            "{}: {err}",
            b.name
        );
        assert!(reserved_contents(&*b.store).await.is_empty(), "{}", b.name);
        assert!(reg.list().await.unwrap().is_empty());

        let failing = Arc::new(FailingStore::new(
            b.store.clone(),
            Some(1),
            FailMode::Before,
        ));
        let git = GitCredentialStore::new(failing.clone());
        git.create("l", "v", GitCredentialKind::SshKey)
            .await
            .unwrap_err();
        assert!(reserved_contents(&*b.store).await.is_empty(), "{}", b.name);
        assert_eq!(failing.writes(), 1, "no second write was attempted");

        let failing = Arc::new(FailingStore::new(
            b.store.clone(),
            Some(1),
            FailMode::Before,
        ));
        let creds = CredentialStore::new(failing.clone());
        creds.create_api_key("k", "s", &["r"]).await.unwrap_err();
        assert!(reserved_contents(&*b.store).await.is_empty());
        assert!(!creds.exists("k").await.unwrap());
    }
}

#[tokio::test]
async fn a_create_whose_write_lands_before_the_error_is_whole() {
    for b in backends().await {
        let failing = Arc::new(FailingStore::new(b.store.clone(), Some(1), FailMode::After));
        let reg = RegistryCredentialStore::new(failing.clone());
        reg.create("ghcr.io", "u", "pw", RegistryAuthType::Token)
            .await
            .unwrap_err();
        // The single write carried metadata and password together.
        let list = reg.list().await.unwrap();
        assert_eq!(list.len(), 1, "{}", b.name);
        assert_eq!(reg.get_password(&list[0].id).await.unwrap().expose(), "pw");
        assert_eq!(failing.writes(), 1);
    }
}

#[tokio::test]
async fn a_failing_delete_leaves_the_whole_credential() {
    for b in backends().await {
        let plain: Arc<dyn SecretsStore> = b.store.clone();
        let reg = RegistryCredentialStore::new(plain.clone());
        let git = GitCredentialStore::new(plain.clone());
        let r = reg
            .create("ghcr.io", "u", "pw", RegistryAuthType::Basic)
            .await
            .unwrap();
        let g = git.create("l", "v", GitCredentialKind::Pat).await.unwrap();

        let failing = Arc::new(FailingStore::new(plain.clone(), Some(1), FailMode::Before));
        RegistryCredentialStore::new(failing.clone())
            .delete(&r.id)
            .await
            .unwrap_err();
        assert_eq!(reg.get(&r.id).await.unwrap(), Some(r.clone()), "{}", b.name);
        assert_eq!(reg.get_password(&r.id).await.unwrap().expose(), "pw");

        let failing = Arc::new(FailingStore::new(plain.clone(), Some(1), FailMode::Before));
        GitCredentialStore::new(failing.clone())
            .delete(&g.id)
            .await
            .unwrap_err();
        assert_eq!(git.get(&g.id).await.unwrap(), Some(g.clone()));
        assert_eq!(git.get_value(&g.id).await.unwrap().expose(), "v");
        assert_eq!(failing.writes(), 1);

        // A delete whose write lands before the error removes everything.
        let failing = Arc::new(FailingStore::new(plain.clone(), Some(1), FailMode::After));
        RegistryCredentialStore::new(failing.clone())
            .delete(&r.id)
            .await
            .unwrap_err();
        assert_eq!(reg.get(&r.id).await.unwrap(), None);
        assert!(reg.get_password(&r.id).await.is_err());
    }
}

#[tokio::test]
async fn a_failing_grant_write_keeps_the_previous_grants() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        grants
            .grant(&Subject::user("a"), "env:e", PermissionLevel::Read)
            .await
            .unwrap();
        let failing = Arc::new(FailingStore::new(
            b.store.clone(),
            Some(1),
            FailMode::Before,
        ));
        let broken = GrantStore::new(failing);
        broken
            .grant(&Subject::user("b"), "env:e", PermissionLevel::Write)
            .await
            .unwrap_err();
        assert_eq!(grants.list().await.unwrap().len(), 1, "{}", b.name);
        assert_eq!(
            grants.level(&Subject::user("a"), "env:e").await.unwrap(),
            PermissionLevel::Read
        );
    }
}
