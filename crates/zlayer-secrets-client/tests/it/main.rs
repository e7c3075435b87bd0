//! `RemoteStore` against the real server over a real SQLite store: the conformance suite
//! every backend runs, errors as a local store gives them, rights, tokens and TLS.
#![allow(clippy::unwrap_used)] // tests report failure by panicking, also in helpers

mod server;

use std::collections::HashMap;

use zlayer_secrets_api::SecretQuery;
use zlayer_secrets_client::{RemoteConfig, RemoteStore};
use zlayer_secrets_core::testkit::block_on;
use zlayer_secrets_core::{
    BatchSecretsStore, Secret, SecretsError, SecretsProvider, SecretsStore, VersionedSecretsStore,
    WriteOp,
};
use zlayer_secrets_credentials::PermissionLevel;
use zlayer_secrets_testsupport::forward::Holding;

use server::{Options, TestServer};

/// A remote store on a server of its own, which lives as long as the store.
async fn remote() -> Holding<RemoteStore, TestServer> {
    let server = TestServer::start(Options::default()).await;
    let store = server.admin_client().await;
    Holding::new(store, server)
}

zlayer_secrets_core::conformance_suite!(remote);

/// The messages of failures are those of the store behind the server.
#[test]
fn errors_read_as_the_local_stores() {
    block_on(async {
        let server = TestServer::start(Options::default()).await;
        let remote = server.admin_client().await;
        let local = server.store.clone();
        local
            .set_secret("shop", "db", &Secret::new("one"))
            .await
            .unwrap();

        // The same call on both stores fails with the same message.
        macro_rules! same_error {
            ($what:literal, |$s:ident| $call:expr) => {{
                let remote_text = {
                    let $s = &remote;
                    $call.await.unwrap_err().to_string()
                };
                let local_text = {
                    let $s = &local;
                    $call.await.unwrap_err().to_string()
                };
                assert_eq!(remote_text, local_text, $what);
            }};
        }
        let too_large = Secret::new("x".repeat(zlayer_secrets_core::MAX_VALUE_LEN + 1));
        same_error!("get of a missing secret", |s| s.get_secret("shop", "nope"));
        same_error!("a missing version", |s| s
            .get_secret_version("shop", "db", 9));
        same_error!("a rollback to a missing version", |s| s
            .rollback_secret("shop", "db", 7));
        same_error!("a create of an existing secret", |s| s.create_secret(
            "shop",
            "db",
            &Secret::new("x")
        ));
        same_error!("a delete of a missing secret", |s| s
            .delete_secret("shop", "gone"));
        same_error!("an invalid name", |s| s.set_secret(
            "shop",
            "a/b",
            &Secret::new("x")
        ));
        same_error!("an invalid scope", |s| s.list_secrets("a//b"));
        same_error!("a value over the limit", |s| s
            .set_secret("shop", "big", &too_large));
        // The kinds are the local ones too.
        assert!(matches!(
            remote.get_secret("shop", "nope").await,
            Err(SecretsError::NotFound { .. })
        ));
        assert!(matches!(
            remote.create_secret("shop", "db", &Secret::new("x")).await,
            Err(SecretsError::AlreadyExists { .. })
        ));
    });
}

/// A key that may only read an environment is refused a write with the server's message,
/// which names the subject, the right and the environment; it may still list.
#[test]
fn a_read_only_key_is_refused_writes_with_the_servers_message() {
    block_on(async {
        let server = TestServer::start(Options::default()).await;
        server
            .store
            .set_secret("env:prod", "API_KEY", &Secret::new("k-123"))
            .await
            .unwrap();
        let bob = server
            .user_key("bob", "env:prod", PermissionLevel::Read)
            .await;
        let bob = RemoteStore::connect(bob).await.unwrap();
        let listed = bob.list_secrets("env:prod").await.unwrap();
        assert_eq!(listed.len(), 1);

        let err = bob
            .set_secret("env:prod", "API_KEY", &Secret::new("new"))
            .await
            .unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, SecretsError::Server { status: 403, .. }),
            "{err:?}"
        );
        assert!(err.is_access_denied());
        for part in ["user:bob", "write", "env:prod"] {
            assert!(text.contains(part), "{part}: {text}");
        }
        // Values need `execute`.
        let err = bob.get_secret("env:prod", "API_KEY").await.unwrap_err();
        assert!(err.to_string().contains("execute"), "{err}");
        // Other scopes need role admin.
        let err = bob.list_secrets("default").await.unwrap_err();
        assert!(
            matches!(err, SecretsError::Server { status: 403, .. }),
            "{err}"
        );
        assert_eq!(
            server
                .store
                .get_secret("env:prod", "API_KEY")
                .await
                .unwrap()
                .expose(),
            "k-123"
        );
    });
}

/// `resolve_env` resolves every reference in one request and passes other values through,
/// as the local resolver does; a missing secret fails as locally.
#[test]
fn resolve_env_resolves_as_the_local_resolver() {
    block_on(async {
        let server = TestServer::start(Options::default()).await;
        let store = &server.store;
        store
            .set_secret("shop", "db", &Secret::new(r#"{"user":"app","port":5432}"#))
            .await
            .unwrap();
        store
            .set_secret("shop/api", "token", &Secret::new("t-1"))
            .await
            .unwrap();
        store
            .set_secret("env:prod", "API_KEY", &Secret::new("k-123"))
            .await
            .unwrap();
        let remote = server.admin_client().await;
        let env: HashMap<String, String> = [
            ("DB_USER", "$S:db/user"),
            ("DB_PORT", "$S:db/port"),
            ("TOKEN", "$S:@api/token"),
            ("API_KEY", "$secret://prod/API_KEY"),
            ("LOG_LEVEL", "info"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let remote_values = remote.resolve_env("shop", &env).await.unwrap();
        let local_values = zlayer_secrets_core::SecretsResolver::new(store.clone(), "shop")
            .with_env_resolver(std::sync::Arc::new(zlayer_secrets_core::LocalEnvScopes))
            .resolve_env(&env)
            .await
            .unwrap();
        assert_eq!(remote_values, local_values);
        assert_eq!(remote_values["DB_PORT"], "5432");
        assert_eq!(remote_values["LOG_LEVEL"], "info");

        let missing: HashMap<String, String> =
            HashMap::from([("X".to_owned(), "$S:missing".to_owned())]);
        let remote_err = remote.resolve_env("shop", &missing).await.unwrap_err();
        let local_err = zlayer_secrets_core::SecretsResolver::new(store.clone(), "shop")
            .resolve_env(&missing)
            .await
            .unwrap_err();
        assert_eq!(remote_err.to_string(), local_err.to_string());
        assert!(remote_err.is_not_found());
    });
}

/// The routes beyond the traits: reveal-all, bulk import, grants, API keys, whoami.
#[test]
fn the_administration_routes_work() {
    block_on(async {
        let server = TestServer::start(Options::default()).await;
        let remote = server.admin_client().await;
        let who = remote.whoami().await.unwrap();
        assert_eq!(who.subject, "admin");
        assert_eq!(who.roles, ["admin"]);

        let query = SecretQuery {
            environment: Some("prod".to_owned()),
            ..SecretQuery::default()
        };
        let imported = remote
            .bulk_import(&query, "A=1\nB=\"two words\"\n")
            .await
            .unwrap();
        assert_eq!((imported.created, imported.updated), (2, 0));
        let bad = remote
            .bulk_import(&query, "A=1\nbad/name=2\n")
            .await
            .unwrap_err();
        assert!(
            matches!(bad, SecretsError::Server { status: 400, .. }),
            "{bad}"
        );
        assert!(bad.to_string().contains("line 2"), "{bad}");
        let all = remote.reveal_all(&query).await.unwrap();
        assert_eq!(all["B"].expose(), "two words");
        assert_eq!(all.len(), 2);

        let granted = remote.grant("alice", "prod", None, "read").await.unwrap();
        assert_eq!(granted.subject, "user:alice");
        assert_eq!(granted.previous, None);
        let again = remote
            .grant("alice", "prod", None, "execute")
            .await
            .unwrap();
        assert_eq!(again.previous.as_deref(), Some("read"));
        let list = remote.grants("prod", None).await.unwrap();
        assert_eq!(list.environment, "env:prod");
        assert_eq!(list.grants.len(), 1);
        let revoked = remote.revoke("alice", "prod", None).await.unwrap();
        assert_eq!(revoked.revoked, "execute");
        let err = remote.revoke("alice", "prod", None).await.unwrap_err();
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("user:alice"), "{err}");

        let key = remote
            .create_api_key("ci", &[], &["deployers"])
            .await
            .unwrap();
        assert!(
            remote
                .api_keys()
                .await
                .unwrap()
                .iter()
                .any(|k| k.api_key == key.api_key && k.groups == ["deployers"])
        );
        let ci = RemoteStore::connect(RemoteConfig::new(
            &server.url,
            &key.api_key,
            Secret::new(key.api_secret.clone()),
        ))
        .await
        .unwrap();
        assert_eq!(ci.whoami().await.unwrap().subject, "ci");
        // Only admins see grants.
        let err = ci.grants("prod", None).await.unwrap_err();
        assert!(
            matches!(err, SecretsError::Server { status: 403, .. }),
            "{err}"
        );
        remote.delete_api_key(&key.api_key).await.unwrap();
        let err = remote.delete_api_key(&key.api_key).await.unwrap_err();
        assert!(
            matches!(err, SecretsError::Server { status: 404, .. }),
            "{err}"
        );
    });
}

/// A batch is all or nothing on the SQLite store behind the server, and says so.
#[test]
fn batches_are_atomic_as_the_server_says() {
    block_on(async {
        let server = TestServer::start(Options::default()).await;
        let remote = server.admin_client().await;
        assert!(remote.is_atomic());
        remote
            .apply_batch(&[
                WriteOp::Set {
                    scope: "s".to_owned(),
                    name: "a".to_owned(),
                    value: Secret::new("1"),
                },
                WriteOp::Set {
                    scope: "s".to_owned(),
                    name: "b".to_owned(),
                    value: Secret::new("2"),
                },
            ])
            .await
            .unwrap();
        // The second write is refused by the server (a reserved scope): nothing is written.
        let err = remote
            .apply_batch(&[
                WriteOp::Delete {
                    scope: "s".to_owned(),
                    name: "a".to_owned(),
                },
                WriteOp::Set {
                    scope: "_zlayer/api_keys".to_owned(),
                    name: "x".to_owned(),
                    value: Secret::new("y"),
                },
            ])
            .await
            .unwrap_err();
        assert!(
            matches!(err, SecretsError::Server { status: 400, .. }),
            "{err}"
        );
        assert!(remote.exists("s", "a").await.unwrap());
        assert_eq!(remote.get_metadata("s", "b").await.unwrap().version, 1);
    });
}

/// When the server no longer accepts the token (a new token key), the request is sent again
/// once with a new token and succeeds.
#[test]
fn a_refused_token_is_replaced_and_the_request_sent_again() {
    block_on(async {
        let mut server = TestServer::start(Options::default()).await;
        let remote = server.admin_client().await;
        remote
            .set_secret("s", "a", &Secret::new("1"))
            .await
            .unwrap();
        assert_eq!(remote.tokens_obtained(), 1);
        server.restart_with_new_token_key().await;
        assert_eq!(remote.get_secret("s", "a").await.unwrap().expose(), "1");
        assert_eq!(remote.tokens_obtained(), 2);
    });
}

/// A key deleted while its token is in use: the 401 makes the client ask for a new token,
/// which the server refuses; the error names the key and says why.
#[test]
fn a_deleted_key_fails_with_the_token_refusal() {
    block_on(async {
        let server = TestServer::start(Options::default()).await;
        let admin = server.admin_client().await;
        let key = admin.create_api_key("temp", &["admin"], &[]).await.unwrap();
        let temp = RemoteStore::connect(RemoteConfig::new(
            &server.url,
            &key.api_key,
            Secret::new(key.api_secret.clone()),
        ))
        .await
        .unwrap();
        temp.list_secrets("s").await.unwrap();
        admin.delete_api_key(&key.api_key).await.unwrap();
        let err = temp.list_secrets("s").await.unwrap_err();
        assert!(
            matches!(err, SecretsError::Server { status: 401, .. }),
            "{err}"
        );
        let text = err.to_string();
        assert!(text.contains(&key.api_key), "{text}");
        assert!(text.contains("wrong API key or secret"), "{text}");
        assert!(!text.contains(&key.api_secret), "{text}");
        // The second token was asked for (the message is the token route's) and refused.
        assert_eq!(temp.tokens_obtained(), 1);
    });
}

/// A wrong secret is refused at the first request, naming the key and never the secret.
#[test]
fn a_wrong_secret_is_refused() {
    block_on(async {
        let server = TestServer::start(Options::default()).await;
        let wrong = RemoteConfig::new(&server.url, &server.admin.0, Secret::new("hunter2-wrong"));
        let store = RemoteStore::connect(wrong).await.unwrap();
        let err = store.list_secrets("s").await.unwrap_err();
        let text = err.to_string();
        assert!(err.is_access_denied(), "{text}");
        assert!(text.contains(&server.admin.0), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    });
}

/// With tokens of one second, requests go on working across their expiry: the client
/// renews the token before the server would refuse it (or after a refusal, once).
#[test]
fn short_tokens_are_renewed() {
    block_on(async {
        let server = TestServer::start(Options {
            token_lifetime: Some(std::time::Duration::from_secs(1)),
            ..Options::default()
        })
        .await;
        let remote = server.admin_client().await;
        remote
            .set_secret("s", "a", &Secret::new("1"))
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while remote.tokens_obtained() < 3 {
            assert!(
                std::time::Instant::now() < deadline,
                "no renewal within 20 s"
            );
            assert_eq!(remote.get_secret("s", "a").await.unwrap().expose(), "1");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    });
}

/// Nothing listens: the error names the server's URL.
#[test]
fn an_unreachable_server_is_named() {
    block_on(async {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let err = RemoteStore::connect(RemoteConfig::new(&url, "zk_x", Secret::new("s")))
            .await
            .unwrap_err();
        assert!(matches!(err, SecretsError::Provider(_)), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("cannot reach the secrets server at {url}")),
            "{err}"
        );
    });
}

/// Over TLS, the server's certificate is trusted through the configured CA; without it the
/// connection is refused.
#[test]
fn tls_with_a_private_ca() {
    block_on(async {
        let certs = tempfile::tempdir().unwrap();
        let (tls, ca_pem) = server::tls_files(certs.path());
        let server = TestServer::start(Options {
            tls: Some(tls),
            ..Options::default()
        })
        .await;
        assert!(server.url.starts_with("https://"), "{}", server.url);
        // The certificate names 127.0.0.1 and localhost.
        let url = server.url.replace("127.0.0.1", "localhost");
        let mut config = server.admin_config();
        config.url = url.clone();
        config.ca_pem = Some(ca_pem);
        let store = RemoteStore::connect(config).await.unwrap();
        store
            .set_secret("s", "tls", &Secret::new("over tls"))
            .await
            .unwrap();
        assert_eq!(
            store.get_secret("s", "tls").await.unwrap().expose(),
            "over tls"
        );

        let err = RemoteStore::connect(server.admin_config())
            .await
            .unwrap_err();
        assert!(matches!(err, SecretsError::Provider(_)), "{err}");
        assert!(err.to_string().contains("cannot reach"), "{err}");
    });
}

/// The server's audit log through the client: the subject's operations, filtered, and the
/// chain intact; a key without role admin is refused, and the refusal is an entry.
#[test]
fn the_audit_log_is_read_through_the_server() {
    use zlayer_secrets_core::audit::{AuditAction, AuditFilter, AuditOutcome};
    block_on(async {
        let server = TestServer::start(Options::default()).await;
        let remote = server.admin_client().await;
        remote
            .set_secret("env:prod", "db", &Secret::new("audit-value-1"))
            .await
            .unwrap();
        remote.get_secret("env:prod", "db").await.unwrap();
        remote.get_secret("env:prod", "nope").await.unwrap_err();
        let reader = RemoteStore::connect(
            server
                .user_key("reader", "env:prod", PermissionLevel::Read)
                .await,
        )
        .await
        .unwrap();
        let err = reader
            .audit_entries(&AuditFilter::default())
            .await
            .unwrap_err();
        assert!(err.is_access_denied(), "{err}");
        assert!(reader.audit_verify().await.unwrap_err().is_access_denied());

        let reveals = remote
            .audit_entries(&AuditFilter {
                action: Some(AuditAction::Reveal),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let seen: Vec<_> = reveals
            .iter()
            .map(|e| {
                (
                    e.actor.principal.as_str(),
                    e.actor.via.as_str(),
                    e.record.name.as_deref(),
                    e.record.outcome,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("admin", "server", Some("db"), AuditOutcome::Ok),
                ("admin", "server", Some("nope"), AuditOutcome::NotFound),
            ]
        );
        let refused = remote
            .audit_entries(&AuditFilter {
                actor: Some("reader".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(
            refused
                .iter()
                .all(|e| e.record.action == AuditAction::AuditRead
                    && e.record.outcome == AuditOutcome::Denied)
        );
        let newest = remote
            .audit_entries(&AuditFilter {
                limit: Some(1),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(newest.len(), 1);
        assert_eq!(Some(&newest[0]), refused.last());
        let check = remote.audit_verify().await.unwrap();
        assert!(check.is_intact(), "{check:?}");
        assert_eq!(check.last_seq, newest[0].seq);
    });
}
