//! `CredentialStore` against every backend.

use zlayer_secrets_core::{Secret, SecretsError};
use zlayer_secrets_credentials::CredentialStore;
use zlayer_secrets_credentials::credentials::ADMIN_ROLE;
use zlayer_secrets_credentials::scopes::API_KEYS_SCOPE;

use crate::support::backends;

#[tokio::test]
async fn create_and_validate() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        creds
            .create_api_key("ci", "correct horse", &["deployer", "reader"])
            .await
            .unwrap();
        assert_eq!(
            creds.validate("ci", "correct horse").await.unwrap(),
            Some(vec!["deployer".to_owned(), "reader".to_owned()]),
            "{}",
            b.name
        );
        assert!(creds.exists("ci").await.unwrap(), "{}", b.name);
        assert!(!creds.exists("other").await.unwrap(), "{}", b.name);
    }
}

#[tokio::test]
async fn wrong_secret_and_unknown_key_are_none() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        creds.create_api_key("ci", "right", &["r"]).await.unwrap();
        for (key, secret) in [
            ("ci", "wrong"),
            ("ci", "right "),
            ("ci", "Right"),
            ("ci", ""),
            ("unknown", "right"),
            ("CI", "right"),
            ("", "right"),
            ("a/b", "right"),
        ] {
            assert_eq!(
                creds.validate(key, secret).await.unwrap(),
                None,
                "{}: {key:?} {secret:?}",
                b.name
            );
        }
    }
}

#[tokio::test]
async fn create_api_key_overwrites_as_the_original_did() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        creds.create_api_key("k", "first", &["a"]).await.unwrap();
        creds.create_api_key("k", "second", &["b"]).await.unwrap();
        assert_eq!(
            creds.validate("k", "first").await.unwrap(),
            None,
            "{}",
            b.name
        );
        assert_eq!(
            creds.validate("k", "second").await.unwrap(),
            Some(vec!["b".to_owned()])
        );
    }
}

#[tokio::test]
async fn duplicate_strict_create_is_already_exists_and_keeps_the_original() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        creds
            .create_new_api_key("k", "first", &["a"])
            .await
            .unwrap();
        let err = creds
            .create_new_api_key("k", "second", &["b"])
            .await
            .unwrap_err();
        assert!(
            matches!(err, SecretsError::AlreadyExists { ref name } if name == "API key `k`"),
            "{}: {err}",
            b.name
        );
        assert_eq!(
            creds.validate("k", "first").await.unwrap(),
            Some(vec!["a".to_owned()])
        );
        assert_eq!(creds.validate("k", "second").await.unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_strict_creates_of_one_key_have_one_winner() {
    for b in backends().await {
        let creds = std::sync::Arc::new(CredentialStore::new(b.store.clone()));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let creds = std::sync::Arc::clone(&creds);
                tokio::spawn(async move {
                    let secret = format!("secret of task {i}");
                    let result = creds.create_new_api_key("race", &secret, &["r"]).await;
                    (secret, result)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (secret, Ok(())) => winners.push(secret),
                (_, Err(SecretsError::AlreadyExists { .. })) => {}
                (_, Err(e)) => panic!("{}: only AlreadyExists may fail: {e}", b.name),
            }
        }
        assert_eq!(winners.len(), 1, "{}: {winners:?}", b.name);
        assert_eq!(
            creds.validate("race", &winners[0]).await.unwrap(),
            Some(vec!["r".to_owned()])
        );
    }
}

#[tokio::test]
async fn delete_and_delete_missing() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        creds.create_api_key("k", "s", &[]).await.unwrap();
        creds.delete_api_key("k").await.unwrap();
        assert!(!creds.exists("k").await.unwrap());
        assert_eq!(creds.validate("k", "s").await.unwrap(), None);
        let err = creds.delete_api_key("k").await.unwrap_err();
        assert!(
            matches!(err, SecretsError::NotFound { ref name } if name == "API key `k`"),
            "{}: {err}",
            b.name
        );
        // The key can be created again after deletion.
        creds.create_api_key("k", "s2", &[]).await.unwrap();
        assert_eq!(creds.validate("k", "s2").await.unwrap(), Some(vec![]));
    }
}

#[tokio::test]
async fn roles_update() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        creds.create_api_key("k", "s", &["reader"]).await.unwrap();
        creds
            .set_roles("k", &["admin", "deployer", "admin"])
            .await
            .unwrap();
        assert_eq!(
            creds.validate("k", "s").await.unwrap(),
            Some(vec!["admin".to_owned(), "deployer".to_owned()]),
            "{}",
            b.name
        );
        assert_eq!(
            creds.roles("k").await.unwrap(),
            Some(vec!["admin".to_owned(), "deployer".to_owned()])
        );
        creds.set_roles("k", &[]).await.unwrap();
        assert_eq!(creds.validate("k", "s").await.unwrap(), Some(vec![]));
        assert_eq!(creds.roles("missing").await.unwrap(), None);

        let err = creds.set_roles("missing", &["x"]).await.unwrap_err();
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        assert!(
            !creds.exists("missing").await.unwrap(),
            "set_roles never creates"
        );

        let err = creds.set_roles("k", &["bad\nrole"]).await.unwrap_err();
        assert!(
            matches!(&err, SecretsError::InvalidInput { what, .. } if what == "role \"bad\\nrole\""),
            "{err}"
        );
        assert_eq!(
            creds.roles("k").await.unwrap(),
            Some(vec![]),
            "left unchanged"
        );
    }
}

#[tokio::test]
async fn secret_change_keeps_roles() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        creds.create_api_key("k", "old", &["r"]).await.unwrap();
        creds.set_api_secret("k", "new").await.unwrap();
        assert_eq!(
            creds.validate("k", "old").await.unwrap(),
            None,
            "{}",
            b.name
        );
        assert_eq!(
            creds.validate("k", "new").await.unwrap(),
            Some(vec!["r".to_owned()])
        );
        let err = creds.set_api_secret("missing", "x").await.unwrap_err();
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        assert!(!creds.exists("missing").await.unwrap());
    }
}

#[tokio::test]
async fn ensure_admin_creates_once() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        assert!(
            creds.ensure_admin("admin", "pw1").await.unwrap(),
            "{}",
            b.name
        );
        assert!(!creds.ensure_admin("admin", "pw2").await.unwrap());
        assert_eq!(
            creds.validate("admin", "pw1").await.unwrap(),
            Some(vec![ADMIN_ROLE.to_owned()])
        );
        assert_eq!(creds.validate("admin", "pw2").await.unwrap(), None);
    }
}

#[tokio::test]
async fn list_is_ordered_by_key() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        for k in ["zeta", "Alpha", "beta", "alpha"] {
            creds.create_api_key(k, "s", &[]).await.unwrap();
        }
        assert_eq!(
            creds.list_api_keys().await.unwrap(),
            ["Alpha", "alpha", "beta", "zeta"],
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn generated_keys_work() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        let (key, secret) = creds.create_generated_api_key(&["ci"]).await.unwrap();
        assert_eq!(
            creds.validate(&key, secret.expose()).await.unwrap(),
            Some(vec!["ci".to_owned()]),
            "{}",
            b.name
        );
        let (key2, secret2) = creds.create_generated_api_key(&[]).await.unwrap();
        assert_ne!(key, key2);
        assert_eq!(creds.validate(&key, secret2.expose()).await.unwrap(), None);
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        let too_long = "s".repeat(1025);
        for (key, secret, roles, want) in [
            ("k", "", &["r"][..], "must not be empty"),
            (
                "k",
                too_long.as_str(),
                &["r"][..],
                "1025 bytes, more than the limit of 1024",
            ),
            ("a/b", "s", &["r"][..], "not allowed in a name"),
            ("", "s", &["r"][..], "must not be empty"),
            ("k", "s", &[""][..], "invalid role"),
        ] {
            let msg = creds
                .create_api_key(key, secret, roles)
                .await
                .unwrap_err()
                .to_string();
            assert!(msg.contains(want), "{}: {key:?}: {msg}", b.name);
        }
        assert!(
            b.store
                .list_secrets(API_KEYS_SCOPE)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn corrupt_records_give_clear_errors() {
    for b in backends().await {
        let creds = CredentialStore::new(b.store.clone());
        creds.create_api_key("good", "s", &["r"]).await.unwrap();
        for (name, garbage, want) in [
            ("garbage", "hunter2-not-json", "not valid JSON"),
            ("wrong-shape", "{\"hash\": 5, \"roles\": []}", "wrong shape"),
            ("string", "\"hunter2-quoted\"", "wrong shape"),
            (
                "bad-hash",
                "{\"hash\": \"hunter2-not-a-phc\", \"roles\": []}",
                "stored hash: not a PHC string",
            ),
            (
                "other-algorithm",
                "{\"hash\": \"$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\", \"roles\": []}",
                "not an Argon2id hash",
            ),
        ] {
            b.store
                .set_secret(API_KEYS_SCOPE, name, &Secret::new(garbage))
                .await
                .unwrap();
            let err = creds.validate(name, "s").await.unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, SecretsError::Storage(_)), "{}: {msg}", b.name);
            assert!(
                msg.contains(&format!("API key `{name}` is corrupt")),
                "{msg}"
            );
            assert!(msg.contains(want), "{}: {name}: {msg}", b.name);
            assert!(!msg.contains("hunter2"), "{msg}");
        }
        for name in ["garbage", "wrong-shape", "string"] {
            assert!(creds.roles(name).await.is_err());
            assert!(creds.set_roles(name, &["x"]).await.is_err());
            // A corrupt key can still be deleted, which is how to repair it.
            creds.delete_api_key(name).await.unwrap();
        }
        // The good key is unaffected.
        assert_eq!(
            creds.validate("good", "s").await.unwrap(),
            Some(vec!["r".to_owned()])
        );
    }
}

#[test]
fn works_on_a_multi_thread_runtime_and_without_tokio() {
    let creds = CredentialStore::new(zlayer_secrets_core::MemoryStore::new());
    let handle = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    handle.block_on(async {
        creds.create_api_key("k", "s", &[]).await.unwrap();
        assert!(creds.validate("k", "s").await.unwrap().is_some());
    });
    drop(handle);
    // Outside any tokio runtime the hashing runs in place.
    let outside = std::thread::spawn(move || {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut fut = std::pin::pin!(creds.validate("k", "s"));
        loop {
            if let std::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
                return r.unwrap();
            }
        }
    })
    .join()
    .unwrap();
    assert_eq!(outside, Some(vec![]));
}
