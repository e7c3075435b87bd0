use zlayer_secrets_core::{API_KEYS_SCOPE, GRANTS_SCOPE, MemoryStore};
use zlayer_secrets_crypto::EncryptionKey;
use zlayer_secrets_sqlite::PersistentSecretsStore;

use super::*;

/// A `MemoryStore` recorded in the log of a real SQLite store.
async fn recorded() -> (
    tempfile::TempDir,
    Recorded<MemoryStore>,
    Arc<PersistentSecretsStore>,
) {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(
        PersistentSecretsStore::open(dir.path().join("audit.sqlite"), EncryptionKey::generate())
            .await
            .unwrap(),
    );
    let store = Recorded::new(Arc::new(MemoryStore::new()), log.clone());
    (dir, store, log)
}

fn line(entry: &zlayer_secrets_core::audit::AuditEntry) -> String {
    let r = &entry.record;
    format!(
        "{} {} {} {}/{} v{} {}",
        entry.actor.principal,
        entry.actor.via,
        r.action,
        r.scope.as_deref().unwrap_or("-"),
        r.name.as_deref().unwrap_or("-"),
        r.version.map_or_else(|| "-".to_owned(), |v| v.to_string()),
        r.outcome,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_and_writes_are_recorded_as_the_context_says() {
    let (_dir, store, log) = recorded().await;
    let alice = AuditContext::new(Actor::subject("alice", Some("127.0.0.1:4000".into())));
    let value = Secret::new("v-1-never-recorded");
    audit::scope(alice.clone(), async {
        assert_eq!(
            store.create_secret("env:prod", "db", &value).await.unwrap(),
            1
        );
        store.write_secret("env:prod", "db", &value).await.unwrap();
        store.get_secret("env:prod", "db").await.unwrap();
        store.get_secret("env:prod", "nope").await.unwrap_err();
        store.rotate_secret("env:prod", "db", &value).await.unwrap();
        store.rollback_secret("env:prod", "db", 1).await.unwrap();
        store.get_secret_version("env:prod", "db", 2).await.unwrap();
        store.list_secrets("env:prod").await.unwrap();
        store.get_metadata("env:prod", "db").await.unwrap();
        // The lookups every authorisation does are not recorded; their writes are.
        store
            .set_secret(API_KEYS_SCOPE, "zk_1", &value)
            .await
            .unwrap();
        store.get_secret(API_KEYS_SCOPE, "zk_1").await.unwrap();
        store
            .get_secrets(GRANTS_SCOPE, &["env:prod"])
            .await
            .unwrap();
        store.delete_secret("env:prod", "db").await.unwrap();
        store.delete_secret("env:prod", "db").await.unwrap_err();
    })
    .await;
    let resolving = alice.clone().with_purpose(AuditAction::Resolve);
    store.set_secret("env:prod", "api", &value).await.unwrap();
    audit::scope(resolving, async {
        store
            .get_secrets("env:prod", &["api", "gone"])
            .await
            .unwrap();
    })
    .await;
    let revoking = alice.with_purpose(AuditAction::Revoke);
    audit::scope(revoking, async {
        store
            .apply_batch(&[WriteOp::Delete {
                scope: GRANTS_SCOPE.to_owned(),
                name: "env:prod".to_owned(),
            }])
            .await
            .unwrap();
    })
    .await;

    let entries = log
        .entries(&zlayer_secrets_core::audit::AuditFilter::default())
        .await
        .unwrap();
    let lines: Vec<String> = entries.iter().map(line).collect();
    let me = Actor::default();
    let mine = format!("{} {} set env:prod/api v- ok", me.principal, me.via);
    assert_eq!(
        lines,
        [
            "alice server create env:prod/db v1 ok",
            "alice server set env:prod/db v2 ok",
            "alice server reveal env:prod/db v- ok",
            "alice server reveal env:prod/nope v- not-found",
            "alice server rotate env:prod/db v3 ok",
            "alice server rollback env:prod/db v4 ok",
            "alice server reveal env:prod/db v2 ok",
            "alice server api-key-create _zlayer/api_keys/zk_1 v- ok",
            "alice server delete env:prod/db v- ok",
            "alice server delete env:prod/db v- not-found",
            mine.as_str(),
            "alice server resolve env:prod/api v- ok",
            "alice server resolve env:prod/gone v- not-found",
            "alice server revoke _zlayer/grants/env:prod v- ok",
        ]
    );
    assert!(
        entries
            .iter()
            .all(|e| e.actor.address.is_none()
                || e.actor.address.as_deref() == Some("127.0.0.1:4000"))
    );
    assert!(log.verify().await.unwrap().is_intact());
}
