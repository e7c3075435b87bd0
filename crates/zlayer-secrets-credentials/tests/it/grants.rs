//! `GrantStore` against every backend.

use zlayer_secrets_core::{Secret, SecretsError};
use zlayer_secrets_credentials::scopes::GRANTS_SCOPE;
use zlayer_secrets_credentials::{Grant, GrantStore, Operation, PermissionLevel, Subject};

use crate::support::{backends, reserved_contents};

use PermissionLevel::{Execute, None as NoAccess, Read, Write};

fn g(subject: &str, env: &str, level: PermissionLevel) -> Grant {
    Grant {
        subject: subject.parse().unwrap(),
        environment: env.to_owned(),
        level,
    }
}

#[tokio::test]
async fn grant_check_and_revoke() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        let alice = Subject::user("alice");
        assert_eq!(
            grants.grant(&alice, "env:prod", Read).await.unwrap(),
            None,
            "{}",
            b.name
        );
        assert_eq!(grants.level(&alice, "env:prod").await.unwrap(), Read);
        assert!(grants.check(&alice, "env:prod", NoAccess).await.unwrap());
        assert!(grants.check(&alice, "env:prod", Read).await.unwrap());
        assert!(!grants.check(&alice, "env:prod", Execute).await.unwrap());
        assert!(!grants.check(&alice, "env:prod", Write).await.unwrap());
        assert!(!grants.check(&alice, "env:staging", Read).await.unwrap());
        assert!(
            !grants
                .check(&Subject::group("alice"), "env:prod", Read)
                .await
                .unwrap()
        );

        assert_eq!(grants.revoke(&alice, "env:prod").await.unwrap(), Read);
        assert_eq!(grants.level(&alice, "env:prod").await.unwrap(), NoAccess);
        assert!(!grants.check(&alice, "env:prod", Read).await.unwrap());
        assert!(
            reserved_contents(&*b.store).await.is_empty(),
            "last revoke removes the record"
        );
    }
}

#[tokio::test]
async fn regrant_changes_the_level_without_duplicates() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        let bob = Subject::user("bob");
        grants.grant(&bob, "env:prod", Read).await.unwrap();
        assert_eq!(
            grants.grant(&bob, "env:prod", Write).await.unwrap(),
            Some(Read)
        );
        assert_eq!(
            grants.grant(&bob, "env:prod", Write).await.unwrap(),
            Some(Write)
        );
        assert_eq!(
            grants.grant(&bob, "env:prod", Execute).await.unwrap(),
            Some(Write),
            "down too"
        );
        assert_eq!(
            grants.list_for_environment("env:prod").await.unwrap(),
            vec![g("bob", "env:prod", Execute)],
            "{}",
            b.name
        );
        assert_eq!(grants.list().await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn revoking_a_missing_grant_is_not_found() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        let err = grants
            .revoke(&Subject::user("carol"), "env:prod")
            .await
            .unwrap_err();
        assert!(
            matches!(err, SecretsError::NotFound { ref name } if name == "grant of user:carol on environment `env:prod`"),
            "{}: {err}",
            b.name
        );
        grants
            .grant(&Subject::group("carol"), "env:prod", Read)
            .await
            .unwrap();
        let err = grants
            .revoke(&Subject::user("carol"), "env:prod")
            .await
            .unwrap_err();
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        assert_eq!(
            grants.list().await.unwrap().len(),
            1,
            "the other grant stays"
        );
    }
}

#[tokio::test]
async fn lists_by_environment_and_subject_are_ordered() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        for (s, e, l) in [
            ("group:ops", "env:prod", Write),
            ("zoe", "env:prod", Read),
            ("alice", "env:prod", Execute),
            ("alice", "env:dev", Write),
            ("group:ops", "project:shop:env:prod", Read),
            ("alice", "env:a-first", Read),
        ] {
            grants.grant(&s.parse().unwrap(), e, l).await.unwrap();
        }
        assert_eq!(
            grants.list_for_environment("env:prod").await.unwrap(),
            vec![
                g("alice", "env:prod", Execute),
                g("zoe", "env:prod", Read),
                g("group:ops", "env:prod", Write),
            ],
            "{}",
            b.name
        );
        assert_eq!(
            grants
                .list_for_subject(&Subject::user("alice"))
                .await
                .unwrap(),
            vec![
                g("alice", "env:a-first", Read),
                g("alice", "env:dev", Write),
                g("alice", "env:prod", Execute),
            ]
        );
        assert_eq!(
            grants
                .list_for_subject(&Subject::group("ops"))
                .await
                .unwrap(),
            vec![
                g("group:ops", "env:prod", Write),
                g("group:ops", "project:shop:env:prod", Read),
            ]
        );
        assert_eq!(grants.list().await.unwrap().len(), 6);
        assert!(
            grants
                .list_for_environment("env:none")
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            grants
                .list_for_subject(&Subject::user("nobody"))
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn groups_passed_by_the_caller_count() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        grants
            .grant(&Subject::group("ops"), "env:prod", Write)
            .await
            .unwrap();
        grants
            .grant(&Subject::group("devs"), "env:prod", Read)
            .await
            .unwrap();
        grants
            .grant(&Subject::user("dave"), "env:prod", Execute)
            .await
            .unwrap();

        assert!(
            grants
                .check_member("dave", &[], "env:prod", Execute)
                .await
                .unwrap()
        );
        assert!(
            !grants
                .check_member("dave", &[], "env:prod", Write)
                .await
                .unwrap()
        );
        assert!(
            grants
                .check_member("dave", &["ops"], "env:prod", Write)
                .await
                .unwrap(),
            "{}",
            b.name
        );
        assert!(
            grants
                .check_member("erin", &["devs"], "env:prod", Read)
                .await
                .unwrap()
        );
        assert!(
            !grants
                .check_member("erin", &["devs"], "env:prod", Execute)
                .await
                .unwrap()
        );
        assert!(
            !grants
                .check_member("erin", &["other"], "env:prod", Read)
                .await
                .unwrap()
        );
        assert_eq!(
            grants
                .effective_level(
                    &[
                        Subject::user("erin"),
                        Subject::group("devs"),
                        Subject::group("ops")
                    ],
                    "env:prod"
                )
                .await
                .unwrap(),
            Write
        );
        // A user's own grant is not a group's: `user:ops` has nothing.
        assert!(
            !grants
                .check(&Subject::user("ops"), "env:prod", Read)
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn bad_input_is_refused_clearly() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        let alice = Subject::user("alice");
        let msg = grants
            .grant(&alice, "env:prod", NoAccess)
            .await
            .unwrap_err()
            .to_string();
        assert!(msg.contains("use revoke"), "{}: {msg}", b.name);
        for env in ["", "a/b", "bad\nenv", " x"] {
            let msg = grants
                .grant(&alice, env, Read)
                .await
                .unwrap_err()
                .to_string();
            assert!(msg.contains("invalid environment"), "{env:?}: {msg}");
        }
        let msg = grants
            .grant(&Subject::user(""), "env:prod", Read)
            .await
            .unwrap_err()
            .to_string();
        assert!(msg.contains("invalid user"), "{msg}");
        assert!(reserved_contents(&*b.store).await.is_empty());
    }
}

#[tokio::test]
async fn corrupt_records_give_clear_errors() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        grants
            .grant(&Subject::user("a"), "env:ok", Read)
            .await
            .unwrap();
        for (env, garbage, want) in [
            ("env:g1", "not json", "not valid JSON"),
            (
                "env:g2",
                "{\"environment\": \"env:g2\", \"grants\": {\"user:a\": \"admin\"}}",
                "wrong shape",
            ),
            (
                "env:g3",
                "{\"environment\": \"env:g3\", \"grants\": {\"team:x\": \"read\"}}",
                "wrong shape",
            ),
            (
                "env:g4",
                "{\"environment\": \"env:other\", \"grants\": {}}",
                "names another environment",
            ),
        ] {
            b.store
                .set_secret(GRANTS_SCOPE, env, &Secret::new(garbage))
                .await
                .unwrap();
            for err in [
                grants
                    .check(&Subject::user("a"), env, Read)
                    .await
                    .unwrap_err(),
                grants
                    .grant(&Subject::user("a"), env, Read)
                    .await
                    .unwrap_err(),
                grants.list().await.unwrap_err(),
            ] {
                let msg = err.to_string();
                assert!(
                    msg.contains(&format!("grants of environment `{env}` is corrupt")),
                    "{}: {msg}",
                    b.name
                );
                assert!(msg.contains(want), "{msg}");
            }
            b.store.delete_secret(GRANTS_SCOPE, env).await.unwrap();
        }
        assert_eq!(grants.list().await.unwrap(), vec![g("a", "env:ok", Read)]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_grants_on_one_store_all_land() {
    for b in backends().await {
        let grants = std::sync::Arc::new(GrantStore::new(b.store.clone()));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let grants = grants.clone();
            tasks.push(tokio::spawn(async move {
                grants
                    .grant(&Subject::user(format!("u{i:02}")), "env:prod", Read)
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            grants.list_for_environment("env:prod").await.unwrap().len(),
            20,
            "{}",
            b.name
        );
    }
}

/// `read` lists names and metadata and never yields a value; `execute` yields values
/// (resolve, reveal, export) and changes nothing; `write` changes.
#[tokio::test]
async fn grants_allow_operations_by_their_required_level() {
    for b in backends().await {
        let grants = GrantStore::new(b.store.clone());
        let (reader, runner, writer) = (
            Subject::user("reader"),
            Subject::user("ci"),
            Subject::group("ops"),
        );
        grants.grant(&reader, "env:prod", Read).await.unwrap();
        grants.grant(&runner, "env:prod", Execute).await.unwrap();
        grants.grant(&writer, "env:prod", Write).await.unwrap();
        for op in Operation::ALL {
            let yields_value = matches!(
                op,
                Operation::Resolve | Operation::Reveal | Operation::Export
            );
            let lists = matches!(op, Operation::List | Operation::Metadata);
            assert_eq!(
                grants.allows(&reader, "env:prod", op).await.unwrap(),
                lists,
                "{}: read and {op}",
                b.name
            );
            assert_eq!(
                grants.allows(&runner, "env:prod", op).await.unwrap(),
                lists || yields_value,
                "{}: execute and {op}",
                b.name
            );
            assert!(
                grants
                    .allows_member("anyone", &["ops"], "env:prod", op)
                    .await
                    .unwrap(),
                "{}: write and {op}",
                b.name
            );
            assert!(
                !grants
                    .allows(&Subject::user("stranger"), "env:prod", op)
                    .await
                    .unwrap()
            );
            assert!(!grants.allows(&writer, "env:staging", op).await.unwrap());
        }
    }
}
