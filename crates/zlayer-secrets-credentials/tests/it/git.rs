//! `GitCredentialStore` against every backend.

use zlayer_secrets_core::{Secret, SecretsError};
use zlayer_secrets_credentials::scopes::GIT_CREDENTIALS_SCOPE;
use zlayer_secrets_credentials::{GitCredentialKind, GitCredentialStore};

use crate::support::{backends, reserved_contents};

const SSH_KEY: &str =
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk=\n-----END OPENSSH PRIVATE KEY-----\n";

#[tokio::test]
async fn create_get_value_list_delete() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        let pat = git
            .create("GitHub PAT for ci", "ghp_xxxx", GitCredentialKind::Pat)
            .await
            .unwrap();
        let key = git
            .create("deploy key", SSH_KEY, GitCredentialKind::SshKey)
            .await
            .unwrap();
        assert_eq!(pat.name, "GitHub PAT for ci");
        assert_eq!(pat.kind, GitCredentialKind::Pat);
        assert_eq!(
            git.get(&pat.id).await.unwrap(),
            Some(pat.clone()),
            "{}",
            b.name
        );
        assert_eq!(git.get_value(&pat.id).await.unwrap().expose(), "ghp_xxxx");
        assert_eq!(
            git.get_value(&key.id).await.unwrap().expose(),
            SSH_KEY,
            "byte for byte"
        );
        assert_eq!(
            git.list().await.unwrap(),
            vec![pat.clone(), key.clone()],
            "ordered by label"
        );
        let details = git.get_details(&pat.id).await.unwrap().unwrap();
        assert_eq!(details.credential, pat);
        assert_eq!(details.host, None);
        assert_eq!(
            reserved_contents(&*b.store).await.len(),
            2,
            "one record each"
        );

        git.delete(&pat.id).await.unwrap();
        assert_eq!(git.get(&pat.id).await.unwrap(), None);
        assert!(matches!(
            git.get_value(&pat.id).await.unwrap_err(),
            SecretsError::NotFound { .. }
        ));
        assert_eq!(git.list().await.unwrap(), vec![key.clone()]);
        git.delete(&key.id).await.unwrap();
        assert!(reserved_contents(&*b.store).await.is_empty(), "{}", b.name);
    }
}

#[tokio::test]
async fn missing_ids() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        assert_eq!(git.get("nope").await.unwrap(), None, "{}", b.name);
        assert_eq!(git.get_details("nope").await.unwrap(), None);
        for err in [
            git.get_value("nope").await.unwrap_err(),
            git.delete("nope").await.unwrap_err(),
        ] {
            assert!(
                matches!(err, SecretsError::NotFound { ref name } if name == "Git credential `nope`"),
                "{err}"
            );
        }
        for bad in ["", "a/b", ".."] {
            for err in [
                git.get(bad).await.unwrap_err(),
                git.get_value(bad).await.unwrap_err(),
                git.delete(bad).await.unwrap_err(),
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
async fn same_label_twice_is_two_credentials_ordered_by_id() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        let c1 = git
            .create("same", "v1", GitCredentialKind::Pat)
            .await
            .unwrap();
        let c2 = git
            .create("same", "v2", GitCredentialKind::Pat)
            .await
            .unwrap();
        let a = git
            .create("a first", "v3", GitCredentialKind::Pat)
            .await
            .unwrap();
        assert_ne!(c1.id, c2.id);
        let list = git.list().await.unwrap();
        let (lo, hi) = if c1.id < c2.id { (c1, c2) } else { (c2, c1) };
        assert_eq!(list, vec![a, lo, hi], "{}", b.name);
    }
}

#[tokio::test]
async fn look_up_by_host_or_url() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        let gh = git
            .create_for_host(
                "gh",
                "ghp_1",
                GitCredentialKind::Pat,
                "github.com",
                Some("ci-bot"),
            )
            .await
            .unwrap();
        let gh_ssh = git
            .create_for_host(
                "gh ssh",
                SSH_KEY,
                GitCredentialKind::SshKey,
                "git@github.com:org/repo.git",
                None,
            )
            .await
            .unwrap();
        let corp = git
            .create_for_host(
                "corp",
                "tok",
                GitCredentialKind::Pat,
                "https://git.corp.example:8443/",
                None,
            )
            .await
            .unwrap();
        let hostless = git
            .create("no host", "x", GitCredentialKind::Pat)
            .await
            .unwrap();

        for q in [
            "github.com",
            "GITHUB.COM",
            "https://github.com/org/repo.git",
            "https://github.com:443/",
            "ssh://git@github.com:22/org/repo",
            "git@github.com:other/thing.git",
        ] {
            let found = git.find_by_host(q).await.unwrap();
            let ids: Vec<&str> = found.iter().map(|d| d.credential.id.as_str()).collect();
            assert_eq!(ids, [gh.id.as_str(), gh_ssh.id.as_str()], "{}: {q}", b.name);
            assert_eq!(found[0].username.as_deref(), Some("ci-bot"));
            assert_eq!(found[0].host.as_deref(), Some("github.com"));
            assert_eq!(found[1].username, None);
        }
        for q in [
            "git.corp.example:8443",
            "https://GIT.corp.example:8443/team/repo",
        ] {
            let found = git.find_by_host(q).await.unwrap();
            assert_eq!(found.len(), 1, "{q}");
            assert_eq!(found[0].credential, corp);
        }
        for q in ["git.corp.example", "gitlab.com", "github.com:2222"] {
            assert!(git.find_by_host(q).await.unwrap().is_empty(), "{q}");
        }
        assert!(
            git.list().await.unwrap().contains(&hostless),
            "host-less credentials list but never match a host"
        );
        let err = git.find_by_host("ftp://github.com").await.unwrap_err();
        assert!(err.to_string().contains("invalid Git host or URL"), "{err}");
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        for (name, value, host, user, want) in [
            ("", "v", None, None, "invalid label: it must not be empty"),
            ("l\u{7}", "v", None, None, "invalid label"),
            ("l", "", None, None, "must not be empty"),
            ("l", "", Some("github.com"), None, "must not be empty"),
            ("l", "v", Some("ftp://a b"), None, "invalid Git host"),
            ("l", "v", Some("1ftp://x"), None, "invalid Git host"),
            (
                "l",
                "v",
                Some("smtp://x.example:99999"),
                None,
                "invalid Git host",
            ),
            ("l", "v", Some(""), None, "invalid Git host"),
            (
                "l",
                "v",
                Some("github.com"),
                Some(""),
                "invalid user name: it must not be empty",
            ),
        ] {
            let r = match host {
                None => git.create(name, value, GitCredentialKind::Pat).await,
                Some(h) => {
                    git.create_for_host(name, value, GitCredentialKind::Pat, h, user)
                        .await
                }
            };
            let msg = r.unwrap_err().to_string();
            assert!(msg.contains(want), "{}: {name:?}: {msg}", b.name);
        }
        assert!(reserved_contents(&*b.store).await.is_empty());
    }
}

#[tokio::test]
async fn corrupt_records_give_clear_errors() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        let good = git.create("ok", "v", GitCredentialKind::Pat).await.unwrap();
        for (id, garbage, want) in [
            ("g1", "ghp_hunter2", "not valid JSON"),
            (
                "g2",
                "{\"id\": \"g2\", \"name\": \"n\", \"kind\": \"hunter2\", \"value\": \"v\"}",
                "wrong shape",
            ),
            (
                "g3",
                "{\"id\": \"g3\", \"name\": \"n\", \"kind\": \"pat\"}",
                "wrong shape",
            ),
            (
                "g4",
                "{\"id\": \"zz\", \"name\": \"n\", \"kind\": \"pat\", \"value\": \"hunter2\"}",
                "does not match",
            ),
            ("g5", "", "JSON cut short"),
        ] {
            b.store
                .set_secret(GIT_CREDENTIALS_SCOPE, id, &Secret::new(garbage))
                .await
                .unwrap();
            for err in [
                git.get(id).await.unwrap_err(),
                git.get_value(id).await.unwrap_err(),
                git.list().await.unwrap_err(),
                git.find_by_host("github.com").await.unwrap_err(),
            ] {
                let msg = err.to_string();
                assert!(
                    msg.contains(&format!("Git credential `{id}` is corrupt")),
                    "{}: {msg}",
                    b.name
                );
                assert!(msg.contains(want), "{msg}");
                assert!(!msg.contains("hunter2"), "{msg}");
            }
            git.delete(id).await.unwrap();
        }
        assert_eq!(git.list().await.unwrap(), vec![good]);
    }
}

#[tokio::test]
async fn set_value_keeps_the_credential() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        let c = git
            .create_for_host(
                "gh",
                "old",
                GitCredentialKind::Pat,
                "github.com",
                Some("me"),
            )
            .await
            .unwrap();
        let before = git.get_details(&c.id).await.unwrap();
        git.set_value(&c.id, "new").await.unwrap();
        assert_eq!(
            git.get_value(&c.id).await.unwrap().expose(),
            "new",
            "{}",
            b.name
        );
        assert_eq!(git.get_details(&c.id).await.unwrap(), before);
        let err = git.set_value("nope", "x").await.unwrap_err();
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        assert_eq!(reserved_contents(&*b.store).await.len(), 1, "never creates");
    }
}

#[tokio::test]
async fn locations_of_any_protocol_newest_first() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        let create = |label: &'static str, host: &'static str, user: &'static str| {
            let git = &git;
            async move {
                git.create_for_host(label, "v", GitCredentialKind::Pat, host, Some(user))
                    .await
                    .unwrap()
            }
        };
        // Labels against the order of creation: the order is by time, not label.
        let first = create("z", "https://h.example/a", "first").await;
        let mail = create("m", "smtp://smtp.example.com:587", "mail").await;
        let second = create("a", "h.example", "second").await;
        let other_proto = create("b", "http://h.example", "http").await;

        let ids =
            |found: Vec<zlayer_secrets_credentials::git_credentials::GitCredentialDetails>| {
                found
                    .into_iter()
                    .map(|d| d.credential.id)
                    .collect::<Vec<_>>()
            };
        let https = git.find_by_location_key("https://h.example").await.unwrap();
        assert_eq!(
            ids(https),
            [second.id.clone(), first.id.clone()],
            "{}",
            b.name
        );
        // Storing a value again makes a credential the newest.
        git.set_value(&first.id, "v").await.unwrap();
        let https = git.find_by_location_key("https://h.example").await.unwrap();
        assert_eq!(
            ids(https),
            [first.id.clone(), second.id.clone()],
            "{}",
            b.name
        );

        let smtp = git
            .find_by_location_key("smtp://smtp.example.com:587")
            .await
            .unwrap();
        assert_eq!(ids(smtp), [mail.id]);
        let http = git.find_by_location_key("http://h.example").await.unwrap();
        assert_eq!(ids(http), [other_proto.id]);
        // A key is compared as it is; credentials of other protocols never show as Git
        // hosts.
        assert!(
            git.find_by_location_key("h.example")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            git.find_by_host("smtp.example.com:587")
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn an_empty_token_is_kept_for_a_user_name() {
    for b in backends().await {
        let git = GitCredentialStore::new(b.store.clone());
        let c = git
            .create_for_host("t", "", GitCredentialKind::Pat, "h.example", Some("tok"))
            .await
            .unwrap();
        assert_eq!(
            git.get_value(&c.id).await.unwrap().expose(),
            "",
            "{}",
            b.name
        );
        git.set_value(&c.id, "").await.unwrap();
        let bare = git
            .create("no user", "x", GitCredentialKind::Pat)
            .await
            .unwrap();
        let err = git.set_value(&bare.id, "").await.unwrap_err().to_string();
        assert!(err.contains("must not be empty"), "{err}");
        assert_eq!(git.get_value(&bare.id).await.unwrap().expose(), "x");
    }
}
