//! The audit log of the store: what its operations record, attribution, auditing off,
//! key changes, and that no value reaches the table.

use std::path::Path;

use zlayer_secrets_core::audit::{
    self, Actor, AuditAction, AuditContext, AuditDamage, AuditFilter, AuditLog, AuditOutcome,
};
use zlayer_secrets_core::testkit::steps::{delete_op, put, set_op, value};
use zlayer_secrets_core::{
    API_KEYS_SCOPE, BatchSecretsStore, GRANTS_SCOPE, REGISTRY_CREDENTIALS_SCOPE, Secret,
    SecretsProvider, SecretsStore, VersionedSecretsStore,
};
use zlayer_secrets_sqlite::{PersistentSecretsStore, StoreOptions};

use crate::{key_a, key_b, raw, temp_db};

fn actor(name: &str, via: &str) -> Actor {
    Actor {
        principal: name.to_owned(),
        uid: Some(1234),
        address: None,
        via: via.to_owned(),
    }
}

fn options_for(name: &str) -> StoreOptions {
    StoreOptions {
        actor: actor(name, "test"),
        ..StoreOptions::default()
    }
}

async fn open_as(path: &Path, name: &str) -> PersistentSecretsStore {
    PersistentSecretsStore::open_with_options(path, key_a(), options_for(name))
        .await
        .unwrap()
}

/// Every entry as `action scope/name vVERSION outcome principal`.
async fn lines(store: &PersistentSecretsStore) -> Vec<String> {
    store
        .entries(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let r = e.record;
            let target = match (&r.scope, &r.name) {
                (Some(s), Some(n)) => format!(" {s}/{n}"),
                _ => String::new(),
            };
            let version = r.version.map(|v| format!(" v{v}")).unwrap_or_default();
            format!(
                "{}{target}{version} {} {}",
                r.action, r.outcome, e.actor.principal
            )
        })
        .collect()
}

#[tokio::test]
async fn each_operation_is_one_entry_in_order() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    store
        .create_secret("app", "db", &Secret::new("v1"))
        .await
        .unwrap();
    store
        .set_secret("app", "db", &Secret::new("v2"))
        .await
        .unwrap();
    assert_eq!(value(&store, "app", "db").await, "v2");
    store
        .rotate_secret("app", "db", &Secret::new("v3"))
        .await
        .unwrap();
    store.rollback_secret("app", "db", 1).await.unwrap();
    store.get_secret_version("app", "db", 2).await.unwrap();
    assert!(store.get_secret("app", "nope").await.is_err());
    assert!(
        store
            .create_secret("app", "db", &Secret::new("x"))
            .await
            .is_err()
    );
    store
        .apply_batch(&[
            set_op("app", "a", "1"),
            set_op("app", "b", "2"),
            delete_op("app", "zz"),
        ])
        .await
        .unwrap();
    let got = store.get_secrets("app", &["a", "b", "c"]).await.unwrap();
    assert_eq!(got.len(), 2);
    store.delete_secret("app", "a").await.unwrap();
    assert!(store.delete_secret("app", "a").await.is_err());
    // Metadata reads are not recorded.
    store.list_secrets("app").await.unwrap();
    store.get_metadata("app", "db").await.unwrap();
    store.exists("app", "db").await.unwrap();
    store.list_versions("app", "db").await.unwrap();

    let mut got = lines(&store).await;
    // The batch read's entries are in the order the rows were found; sort that one run.
    got[10..12].sort();
    assert_eq!(
        got,
        [
            "create app/db v1 ok alice",
            "set app/db v2 ok alice",
            "reveal app/db v2 ok alice",
            "rotate app/db v3 ok alice",
            "rollback app/db v4 ok alice",
            "reveal app/db v2 ok alice",
            "reveal app/nope not-found alice",
            "create app/db error alice",
            "import app/a v1 ok alice",
            "import app/b v1 ok alice",
            // (the delete of a missing name in a batch changes nothing and is not an entry)
            "reveal app/a v1 ok alice",
            "reveal app/b v1 ok alice",
            "reveal app/c not-found alice",
            "delete app/a ok alice",
            "delete app/a not-found alice",
        ]
    );
    let entries = store.entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(entries[4].record.detail.as_deref(), Some("from version 1"));
    assert_eq!(entries[7].record.detail.as_deref(), Some("already exists"));
    assert_eq!(entries[0].actor.uid, Some(1234));
    assert!(entries.windows(2).all(|w| w[0].seq + 1 == w[1].seq));
    assert!(store.verify().await.unwrap().is_intact());
}

#[tokio::test]
async fn the_task_context_names_the_actor_and_the_purpose() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "default").await;
    put(&store, "app", "k", "v").await;
    let ctx = AuditContext::new(Actor::subject("ci-deploy", Some("127.0.0.1:4000".into())))
        .with_purpose(AuditAction::Resolve);
    audit::scope(ctx, async {
        store.get_secrets("app", &["k"]).await.unwrap();
    })
    .await;
    let export = AuditContext::new(actor("bob", "export")).with_purpose(AuditAction::Export);
    audit::scope(export, value(&store, "app", "k")).await;
    let entries = store.entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0].actor.principal, "default");
    assert_eq!(entries[1].record.action, AuditAction::Resolve);
    assert_eq!(entries[1].actor.principal, "ci-deploy");
    assert_eq!(entries[1].actor.address.as_deref(), Some("127.0.0.1:4000"));
    assert_eq!(entries[1].actor.via, "server");
    assert_eq!(entries[2].record.action, AuditAction::Export);
    assert_eq!(entries[2].actor.via, "export");
    let by_bob = store
        .entries(&AuditFilter {
            actor: Some("bob".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(by_bob.len(), 1);
}

#[tokio::test]
async fn reserved_scopes_have_their_own_actions() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "admin").await;
    put(&store, GRANTS_SCOPE, "prod", "{}").await;
    let revoke = AuditContext::new(actor("admin", "revoke")).with_purpose(AuditAction::Revoke);
    audit::scope(revoke, put(&store, GRANTS_SCOPE, "prod", "{}")).await;
    store
        .create_secret(API_KEYS_SCOPE, "zk_1", &Secret::new("{}"))
        .await
        .unwrap();
    store.delete_secret(API_KEYS_SCOPE, "zk_1").await.unwrap();
    put(&store, REGISTRY_CREDENTIALS_SCOPE, "r1", "{}").await;
    // Lookups of grants and API keys reveal nothing and are not recorded; a credential read
    // is a helper's.
    value(&store, GRANTS_SCOPE, "prod").await;
    assert!(store.get_secret(API_KEYS_SCOPE, "zk_1").await.is_err());
    value(&store, REGISTRY_CREDENTIALS_SCOPE, "r1").await;
    let actions: Vec<AuditAction> = store
        .entries(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.record.action)
        .collect();
    assert_eq!(
        actions,
        [
            AuditAction::Grant,
            AuditAction::Revoke,
            AuditAction::ApiKeyCreate,
            AuditAction::ApiKeyDelete,
            AuditAction::Set,
            AuditAction::HelperGet,
        ]
    );
}

#[tokio::test]
async fn turning_auditing_off_is_itself_recorded() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    put(&store, "app", "k", "v").await;
    drop(store);
    let quiet = PersistentSecretsStore::open_with_options(
        &path,
        key_a(),
        StoreOptions {
            audit: false,
            ..options_for("mallory")
        },
    )
    .await
    .unwrap();
    put(&quiet, "app", "k", "w").await;
    value(&quiet, "app", "k").await;
    // A second handle with the same setting records nothing more.
    drop(quiet);
    let quiet = PersistentSecretsStore::open_with_options(
        &path,
        key_a(),
        StoreOptions {
            audit: false,
            ..options_for("mallory")
        },
    )
    .await
    .unwrap();
    drop(quiet);
    let store = open_as(&path, "alice").await;
    assert_eq!(
        lines(&store).await,
        [
            "set app/k v1 ok alice",
            "audit-disable ok mallory",
            "audit-enable ok alice",
        ]
    );
    assert!(store.verify().await.unwrap().is_intact());
}

#[tokio::test]
async fn key_changes_are_recorded_and_the_chain_follows_the_data_key() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    put(&store, "app", "k", "v").await;
    store.rekey(key_b()).await.unwrap();
    store.reencrypt_all(key_a()).await.unwrap();
    assert_eq!(
        lines(&store).await,
        [
            "set app/k v1 ok alice",
            "key-rotation ok alice",
            "key-rotation ok alice"
        ]
    );
    let entries = store.entries(&AuditFilter::default()).await.unwrap();
    assert_eq!(entries[1].record.detail.as_deref(), Some("re-key"));
    assert_eq!(entries[2].record.detail.as_deref(), Some("re-encryption"));
    assert!(store.verify().await.unwrap().is_intact());
    drop(store);
    let store = open_as(&path, "alice").await;
    let report = store.verify().await.unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, 3);
}

#[tokio::test]
async fn a_reencryption_of_a_damaged_log_records_the_damage() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    put(&store, "app", "k", "v").await;
    put(&store, "app", "k", "w").await;
    let conn = raw(&path);
    conn.execute_batch(
        "DROP TRIGGER audit_log_no_update;
         UPDATE audit_log SET principal = 'bob' WHERE seq = 1;",
    )
    .unwrap();
    drop(conn);
    store.reencrypt_all(key_a()).await.unwrap();
    let last = store
        .entries(&AuditFilter::default())
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.record.action, AuditAction::KeyRotation);
    assert_eq!(last.record.outcome, AuditOutcome::Error);
    let detail = last.record.detail.unwrap();
    assert!(detail.contains("entry 1 was altered"), "{detail}");
}

#[tokio::test]
async fn a_failed_write_leaves_no_ok_entry() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    assert!(
        store
            .rotate_secret("app", "missing", &Secret::new("x"))
            .await
            .is_err()
    );
    let too_long = "x".repeat(zlayer_secrets_core::MAX_VALUE_LEN + 1);
    assert!(
        store
            .set_secret("app", "big", &Secret::new(too_long))
            .await
            .is_err()
    );
    assert_eq!(lines(&store).await, ["rotate app/missing not-found alice"]);
}

#[tokio::test]
async fn a_tampered_row_is_named_by_verify() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    for i in 0..4 {
        put(&store, "app", &format!("k{i}"), "v").await;
    }
    assert!(store.verify().await.unwrap().is_intact());
    raw(&path)
        .execute_batch(
            "DROP TRIGGER audit_log_no_delete;
             DELETE FROM audit_log WHERE seq = 3;",
        )
        .unwrap();
    let problem = store.verify().await.unwrap().problem.unwrap();
    assert_eq!((problem.seq, problem.damage), (3, AuditDamage::Removed));
    assert_eq!(problem.to_string(), "entry 3 was removed");
}

#[tokio::test]
async fn no_value_reaches_the_audit_table() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    let values = ["pa55-word-one", "tok_SECRET_two", "line1\nline2-three"];
    for (i, v) in values.iter().enumerate() {
        let name = format!("s{i}");
        store
            .create_secret("app", &name, &Secret::new(*v))
            .await
            .unwrap();
        store
            .set_secret("app", &name, &Secret::new(format!("{v}-again")))
            .await
            .unwrap();
        value(&store, "app", &name).await;
        store.rollback_secret("app", &name, 1).await.unwrap();
    }
    // Reading the log commits the entries of reads still queued.
    assert!(store.verify().await.unwrap().is_intact());
    let conn = raw(&path);
    let mut stmt = conn.prepare("SELECT * FROM audit_log").unwrap();
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut dump = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        for i in 0..columns {
            match row.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    dump.extend_from_slice(t);
                }
                _ => {}
            }
        }
    }
    assert!(!dump.is_empty());
    for v in values {
        for part in v.split('\n') {
            assert!(
                !dump.windows(part.len()).any(|w| w == part.as_bytes()),
                "`{part}` in the audit table"
            );
        }
    }
}

#[tokio::test]
async fn a_store_of_an_older_schema_gets_an_empty_log() {
    let (_dir, path) = temp_db();
    let conn = raw(&path);
    conn.execute_batch(include_str!("../data/v1.sql")).unwrap();
    drop(conn);
    let store = open_as(&path, "alice").await;
    let report = store.verify().await.unwrap();
    assert!(report.is_intact());
    assert_eq!(report.entries, 0);
    store
        .set_secret("app", "new", &Secret::new("v"))
        .await
        .unwrap();
    assert_eq!(lines(&store).await, ["set app/new v1 ok alice"]);
}

#[tokio::test]
async fn recorded_entries_from_outside_the_store_join_the_chain() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    let denied = zlayer_secrets_core::audit::AuditRecord::new(
        AuditAction::Reveal,
        "prod",
        "db",
        AuditOutcome::Denied,
    );
    store
        .record(
            &Actor::subject("intruder", Some("127.0.0.1:9".into())),
            vec![denied],
        )
        .await
        .unwrap();
    assert_eq!(lines(&store).await, ["reveal prod/db denied intruder"]);
    assert!(store.verify().await.unwrap().is_intact());
    // Pruning everything leaves only the prune's own entry, and a log that verifies.
    let report = store
        .prune(i64::MAX, &actor("alice", "audit"))
        .await
        .unwrap();
    assert_eq!(report.removed, 1);
    assert_eq!(lines(&store).await, ["audit-prune ok alice"]);
    let verified = store.verify().await.unwrap();
    assert!(verified.is_intact());
    assert_eq!((verified.first_seq, verified.last_seq), (2, 2));
}

#[tokio::test]
async fn reads_are_recorded_once_the_writer_is_free() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    put(&store, "app", "k", "v").await;
    // Another process holds the write lock: the read is not held up, its entry waits.
    let blocker = raw(&path);
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    assert_eq!(value(&store, "app", "k").await, "v");
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(
        lines(&store).await,
        ["set app/k v1 ok alice", "reveal app/k v1 ok alice"]
    );
}

#[tokio::test]
async fn the_last_reads_are_recorded_when_the_store_is_dropped() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    put(&store, "app", "k", "v").await;
    for _ in 0..50 {
        value(&store, "app", "k").await;
    }
    let clone = store.clone();
    drop(store);
    value(&clone, "app", "k").await;
    drop(clone);
    let count: i64 = raw(&path)
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'reveal'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 51);
}

#[tokio::test]
async fn a_write_commits_the_reads_before_it_first() {
    let (_dir, path) = temp_db();
    let store = open_as(&path, "alice").await;
    put(&store, "app", "k", "v").await;
    value(&store, "app", "k").await;
    put(&store, "app", "k", "w").await;
    let actions: Vec<String> =
        crate::first_column(&path, "SELECT action FROM audit_log ORDER BY seq");
    assert_eq!(actions, ["set", "reveal", "set"]);
}
