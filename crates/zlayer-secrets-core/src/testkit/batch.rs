//! Several writes at once.

use super::{ConformanceStore, assert_invalid_name, unique_scope};
use crate::{Secret, WriteOp};

fn set(scope: &str, name: &str, value: &str) -> WriteOp {
    WriteOp::Set {
        scope: scope.to_owned(),
        name: name.to_owned(),
        value: Secret::new(value),
    }
}

fn delete(scope: &str, name: &str) -> WriteOp {
    WriteOp::Delete {
        scope: scope.to_owned(),
        name: name.to_owned(),
    }
}

/// A batch creates, updates and deletes, in order; deleting a missing secret inside a
/// batch is not an error; an empty batch does nothing.
pub async fn batch_applies_sets_and_deletes<S: ConformanceStore>(store: S) {
    let scope = unique_scope("batch");
    let other = unique_scope("batch-other");
    store
        .set_secret(&scope, "gone", &"old".into())
        .await
        .unwrap();
    store
        .set_secret(&scope, "updated", &"old".into())
        .await
        .unwrap();

    store.apply_batch(&[]).await.unwrap();
    store
        .apply_batch(&[
            set(&scope, "new", "n1"),
            set(&scope, "updated", "u2"),
            delete(&scope, "gone"),
            delete(&scope, "never-existed"),
            set(&other, "elsewhere", "e1"),
            set(&scope, "new", "n2"),
            set(&scope, "recreated", "r1"),
            delete(&scope, "recreated"),
        ])
        .await
        .unwrap();

    assert_eq!(
        store.get_secret(&scope, "new").await.unwrap().expose(),
        "n2"
    );
    assert_eq!(store.get_metadata(&scope, "new").await.unwrap().version, 2);
    assert_eq!(
        store.get_secret(&scope, "updated").await.unwrap().expose(),
        "u2"
    );
    assert_eq!(
        store.get_metadata(&scope, "updated").await.unwrap().version,
        2
    );
    assert!(!store.exists(&scope, "gone").await.unwrap());
    assert!(!store.exists(&scope, "recreated").await.unwrap());
    assert!(!store.exists(&scope, "never-existed").await.unwrap());
    assert_eq!(
        store
            .get_secret(&other, "elsewhere")
            .await
            .unwrap()
            .expose(),
        "e1"
    );
    let names: Vec<String> = store
        .list_secrets(&scope)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["new", "updated"]);
}

/// A batch with an invalid operation is refused with `InvalidName`; on a store whose
/// batches are atomic, none of its other operations take effect.
pub async fn atomic_batch_with_invalid_op_changes_nothing<S: ConformanceStore>(store: S) {
    let scope = unique_scope("batch-atomic");
    store
        .set_secret(&scope, "existing", &"before".into())
        .await
        .unwrap();
    store
        .set_secret(&scope, "doomed", &"before".into())
        .await
        .unwrap();

    let ops = [
        set(&scope, "created", "x"),
        set(&scope, "existing", "after"),
        delete(&scope, "doomed"),
        set(&scope, "bad/name", "x"),
    ];
    assert_invalid_name(store.apply_batch(&ops).await, "batch with a bad name");
    let ops = [
        set(&scope, "created", "x"),
        delete(&format!("{scope}//"), "n"),
    ];
    assert_invalid_name(store.apply_batch(&ops).await, "batch with a bad scope");

    if !store.is_atomic() {
        return;
    }
    assert!(!store.exists(&scope, "created").await.unwrap());
    assert!(store.exists(&scope, "doomed").await.unwrap());
    let meta = store.get_metadata(&scope, "existing").await.unwrap();
    assert_eq!(meta.version, 1);
    assert_eq!(
        store.get_secret(&scope, "existing").await.unwrap().expose(),
        "before"
    );
    assert_eq!(store.list_secrets(&scope).await.unwrap().len(), 2);
}
