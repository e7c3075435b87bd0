//! Several writes at once.

use super::steps::{delete_op as delete, names, put, set_op as set, value, version};
use super::{ConformanceStore, assert_invalid_name, unique_scope};

/// A batch creates, updates and deletes, in order; deleting a missing secret inside a
/// batch is not an error; an empty batch does nothing.
pub async fn batch_applies_sets_and_deletes<S: ConformanceStore>(store: S) {
    let scope = unique_scope("batch");
    let other = unique_scope("batch-other");
    put(&store, &scope, "gone", "old").await;
    put(&store, &scope, "updated", "old").await;

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

    assert_eq!(value(&store, &scope, "new").await, "n2");
    assert_eq!(version(&store, &scope, "new").await, 2);
    assert_eq!(value(&store, &scope, "updated").await, "u2");
    assert_eq!(version(&store, &scope, "updated").await, 2);
    assert!(!store.exists(&scope, "gone").await.unwrap());
    assert!(!store.exists(&scope, "recreated").await.unwrap());
    assert!(!store.exists(&scope, "never-existed").await.unwrap());
    assert_eq!(value(&store, &other, "elsewhere").await, "e1");
    assert_eq!(names(&store, &scope).await, ["new", "updated"]);
}

/// A batch with an invalid operation is refused with `InvalidName`; on a store whose
/// batches are atomic, none of its other operations take effect.
pub async fn atomic_batch_with_invalid_op_changes_nothing<S: ConformanceStore>(store: S) {
    let scope = unique_scope("batch-atomic");
    put(&store, &scope, "existing", "before").await;
    put(&store, &scope, "doomed", "before").await;

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
    assert_eq!(version(&store, &scope, "existing").await, 1);
    assert_eq!(value(&store, &scope, "existing").await, "before");
    assert_eq!(store.list_secrets(&scope).await.unwrap().len(), 2);
}
