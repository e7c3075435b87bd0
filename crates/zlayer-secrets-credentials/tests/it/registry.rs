//! `RegistryCredentialStore` against every backend.

use zlayer_secrets_core::{Secret, SecretsError};
use zlayer_secrets_credentials::scopes::REGISTRY_CREDENTIALS_SCOPE;
use zlayer_secrets_credentials::{RegistryAuthType, RegistryCredentialStore};

use crate::support::{backends, reserved_contents};

#[tokio::test]
async fn create_get_password_list_delete() {
    for b in backends().await {
        let reg = RegistryCredentialStore::new(b.store.clone());
        let cred = reg
            .create("ghcr.io", "ci-bot", "ghp_token", RegistryAuthType::Token)
            .await
            .unwrap();
        assert_eq!(cred.registry, "ghcr.io");
        assert_eq!(cred.username, "ci-bot");
        assert_eq!(cred.auth_type, RegistryAuthType::Token);
        assert_eq!(cred.id.len(), 36, "a UUID");

        assert_eq!(
            reg.get(&cred.id).await.unwrap(),
            Some(cred.clone()),
            "{}",
            b.name
        );
        assert_eq!(
            reg.get_password(&cred.id).await.unwrap().expose(),
            "ghp_token"
        );
        assert_eq!(reg.list().await.unwrap(), vec![cred.clone()]);

        // Exactly one record holds the whole credential.
        assert_eq!(
            reserved_contents(&*b.store).await,
            vec![(REGISTRY_CREDENTIALS_SCOPE.to_owned(), cred.id.clone())]
        );

        reg.delete(&cred.id).await.unwrap();
        assert_eq!(reg.get(&cred.id).await.unwrap(), None);
        assert!(matches!(
            reg.get_password(&cred.id).await.unwrap_err(),
            SecretsError::NotFound { .. }
        ));
        assert!(reg.list().await.unwrap().is_empty());
        assert!(reserved_contents(&*b.store).await.is_empty(), "{}", b.name);
    }
}

#[tokio::test]
async fn missing_ids() {
    for b in backends().await {
        let reg = RegistryCredentialStore::new(b.store.clone());
        assert_eq!(reg.get("nonexistent-id").await.unwrap(), None, "{}", b.name);
        let err = reg.get_password("nonexistent-id").await.unwrap_err();
        assert!(
            matches!(err, SecretsError::NotFound { ref name } if name == "registry credential `nonexistent-id`"),
            "{err}"
        );
        let err = reg.delete("nonexistent-id").await.unwrap_err();
        assert!(
            matches!(err, SecretsError::NotFound { ref name } if name == "registry credential `nonexistent-id`"),
            "{err}"
        );
        // Ids that cannot name a record are refused as such, never a panic.
        for bad in ["", "a/b", "..", "x\n"] {
            for err in [
                reg.get(bad).await.unwrap_err(),
                reg.get_password(bad).await.unwrap_err(),
                reg.delete(bad).await.unwrap_err(),
            ] {
                assert!(
                    matches!(err, SecretsError::InvalidName { .. }),
                    "{}: {bad:?}: {err}",
                    b.name
                );
            }
        }
    }
}

#[tokio::test]
async fn two_creates_are_two_credentials() {
    for b in backends().await {
        let reg = RegistryCredentialStore::new(b.store.clone());
        let c1 = reg
            .create("docker.io", "u", "pw1", RegistryAuthType::Basic)
            .await
            .unwrap();
        let c2 = reg
            .create("docker.io", "u", "pw2", RegistryAuthType::Basic)
            .await
            .unwrap();
        assert_ne!(c1.id, c2.id);
        assert_eq!(reg.get_password(&c1.id).await.unwrap().expose(), "pw1");
        assert_eq!(reg.get_password(&c2.id).await.unwrap().expose(), "pw2");
        assert_eq!(reg.list().await.unwrap().len(), 2, "{}", b.name);
    }
}

#[tokio::test]
async fn list_is_ordered_by_registry_then_user_then_id() {
    for b in backends().await {
        let reg = RegistryCredentialStore::new(b.store.clone());
        for (r, u) in [
            ("quay.io", "a"),
            ("https://GHCR.io/", "zed"),
            ("ghcr.io", "amy"),
            ("index.docker.io", "bob"),
            ("localhost:5000", "x"),
            ("ghcr.io", "amy"),
        ] {
            reg.create(r, u, "pw", RegistryAuthType::Basic)
                .await
                .unwrap();
        }
        let list = reg.list().await.unwrap();
        let seen: Vec<(&str, &str)> = list
            .iter()
            .map(|c| (c.registry.as_str(), c.username.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("index.docker.io", "bob"),
                ("ghcr.io", "amy"),
                ("ghcr.io", "amy"),
                ("https://GHCR.io/", "zed"),
                ("localhost:5000", "x"),
                ("quay.io", "a"),
            ],
            "{}",
            b.name
        );
        assert!(list[1].id < list[2].id, "ties broken by id");
    }
}

#[tokio::test]
async fn look_up_by_registry_with_and_without_scheme_and_port() {
    for b in backends().await {
        let reg = RegistryCredentialStore::new(b.store.clone());
        let ghcr = reg
            .create("ghcr.io", "bot", "t1", RegistryAuthType::Token)
            .await
            .unwrap();
        let hub = reg
            .create(
                "https://index.docker.io/v1/",
                "me",
                "t2",
                RegistryAuthType::Basic,
            )
            .await
            .unwrap();
        let local = reg
            .create("localhost:5000", "dev", "t3", RegistryAuthType::Basic)
            .await
            .unwrap();

        for q in [
            "ghcr.io",
            "https://ghcr.io/",
            "GHCR.IO:443",
            "https://ghcr.io:443/v2/x",
        ] {
            assert_eq!(
                reg.find_by_registry(q).await.unwrap(),
                vec![ghcr.clone()],
                "{}: {q}",
                b.name
            );
        }
        for q in [
            "docker.io",
            "index.docker.io",
            "https://index.docker.io/v1/",
            "registry-1.docker.io",
        ] {
            assert_eq!(
                reg.find_by_registry(q).await.unwrap(),
                vec![hub.clone()],
                "{q}"
            );
        }
        for q in ["localhost:5000", "http://localhost:5000/", "LOCALHOST:5000"] {
            assert_eq!(
                reg.find_by_registry(q).await.unwrap(),
                vec![local.clone()],
                "{q}"
            );
        }
        for q in ["localhost", "localhost:5001", "quay.io", "ghcr.io:8443"] {
            assert!(reg.find_by_registry(q).await.unwrap().is_empty(), "{q}");
        }
        let err = reg.find_by_registry("ftp://ghcr.io").await.unwrap_err();
        assert!(err.to_string().contains("invalid registry"), "{err}");
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    for b in backends().await {
        let reg = RegistryCredentialStore::new(b.store.clone());
        for (registry, user, pw, auth, want) in [
            ("", "u", "p", RegistryAuthType::Basic, "invalid registry"),
            ("ftp://x", "u", "p", RegistryAuthType::Basic, "scheme"),
            (
                "ghcr.io",
                "",
                "p",
                RegistryAuthType::Basic,
                "invalid user name: it must not be empty",
            ),
            (
                "ghcr.io",
                "u\n",
                "p",
                RegistryAuthType::Basic,
                "invalid user name",
            ),
            (
                "ghcr.io",
                "u",
                "",
                RegistryAuthType::Token,
                "must not be empty",
            ),
        ] {
            let msg = reg
                .create(registry, user, pw, auth)
                .await
                .unwrap_err()
                .to_string();
            assert!(msg.contains(want), "{}: {registry:?}: {msg}", b.name);
        }
        assert!(reserved_contents(&*b.store).await.is_empty());
        // A token may go with an empty user name.
        reg.create("ghcr.io", "", "tok", RegistryAuthType::Token)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn corrupt_records_give_clear_errors() {
    for b in backends().await {
        let reg = RegistryCredentialStore::new(b.store.clone());
        let good = reg
            .create("ghcr.io", "u", "pw", RegistryAuthType::Basic)
            .await
            .unwrap();
        for (id, garbage, want) in [
            ("g1", "hunter2 not json", "not valid JSON"),
            (
                "g2",
                "{\"id\": \"g2\", \"password\": \"hunter2\"}",
                "wrong shape",
            ),
            (
                "g3",
                "{\"id\": \"elsewhere\", \"registry\": \"r\", \"username\": \"u\", \"auth_type\": \"basic\", \"password\": \"hunter2\"}",
                "does not match",
            ),
            (
                "g4",
                "{\"id\": \"g4\", \"registry\": \"r\", \"username\": \"u\", \"auth_type\": \"hunter2\", \"password\": \"x\"}",
                "wrong shape",
            ),
        ] {
            b.store
                .set_secret(REGISTRY_CREDENTIALS_SCOPE, id, &Secret::new(garbage))
                .await
                .unwrap();
            for err in [
                reg.get(id).await.unwrap_err(),
                reg.get_password(id).await.unwrap_err(),
                reg.list().await.unwrap_err(),
            ] {
                let msg = err.to_string();
                assert!(
                    msg.contains(&format!("registry credential `{id}` is corrupt")),
                    "{}: {msg}",
                    b.name
                );
                assert!(msg.contains(want), "{msg}");
                assert!(!msg.contains("hunter2"), "{msg}");
            }
            reg.delete(id).await.unwrap();
        }
        assert_eq!(reg.list().await.unwrap(), vec![good]);
    }
}

#[tokio::test]
async fn set_password_keeps_the_credential() {
    for b in backends().await {
        let reg = RegistryCredentialStore::new(b.store.clone());
        let c = reg
            .create("ghcr.io", "bot", "old", RegistryAuthType::Token)
            .await
            .unwrap();
        reg.set_password(&c.id, "new").await.unwrap();
        assert_eq!(
            reg.get_password(&c.id).await.unwrap().expose(),
            "new",
            "{}",
            b.name
        );
        assert_eq!(reg.get(&c.id).await.unwrap(), Some(c.clone()));
        assert_eq!(reserved_contents(&*b.store).await.len(), 1);

        let err = reg.set_password(&c.id, "").await.unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
        let err = reg.set_password("nope", "x").await.unwrap_err();
        assert!(
            matches!(err, SecretsError::NotFound { ref name } if name == "registry credential `nope`"),
            "{err}"
        );
        assert_eq!(reserved_contents(&*b.store).await.len(), 1, "never creates");
    }
}
