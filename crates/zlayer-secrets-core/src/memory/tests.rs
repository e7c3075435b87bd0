use std::num::NonZeroUsize;

use super::*;
use zlayer_secrets_testsupport::block_on;

fn nz(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

#[test]
fn default_retention_is_ten() {
    let store = MemoryStore::default();
    assert_eq!(store.retention(), DEFAULT_HISTORY_RETENTION);
    assert_eq!(store.retention().get(), 10);
}

#[test]
fn retention_prunes_oldest_versions() {
    block_on(async {
        let store = MemoryStore::with_retention(nz(3));
        for i in 1..=5 {
            store
                .set_secret("s", "n", &Secret::new(format!("v{i}")))
                .await
                .unwrap();
        }
        let versions: Vec<u32> = store
            .list_versions("s", "n")
            .await
            .unwrap()
            .iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(versions, [3, 4, 5]);
        for pruned in [1, 2] {
            let err = store
                .get_secret_version("s", "n", pruned)
                .await
                .unwrap_err();
            assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
            let err = store.rollback_secret("s", "n", pruned).await.unwrap_err();
            assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        }
        assert_eq!(
            store
                .get_secret_version("s", "n", 3)
                .await
                .unwrap()
                .expose(),
            "v3"
        );
        // The first write's time survives pruning of the first version.
        let meta = store.get_metadata("s", "n").await.unwrap();
        assert_eq!(meta.version, 5);
        assert!(meta.created_at <= meta.updated_at);
    });
}

#[test]
fn retention_of_one_keeps_only_the_current_version() {
    block_on(async {
        let store = MemoryStore::with_retention(nz(1));
        store.set_secret("s", "n", &"a".into()).await.unwrap();
        store.set_secret("s", "n", &"b".into()).await.unwrap();
        let versions = store.list_versions("s", "n").await.unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].version, 2);
        let result = store.rollback_secret("s", "n", 2).await.unwrap();
        assert_eq!(result.new_version, 3);
        assert_eq!(store.get_secret("s", "n").await.unwrap().expose(), "b");
    });
}

#[test]
fn version_counter_exhaustion_is_an_error_not_a_wrap() {
    let key = ("s".to_owned(), "n".to_owned());
    let mut entry = Entry::new(Secret::new("old"));
    entry.versions.back_mut().unwrap().version = u32::MAX;
    let err = entry.push(Secret::new("new"), nz(10), &key).unwrap_err();
    assert!(
        matches!(&err, SecretsError::VersionLimit { scope, name } if scope == "s" && name == "n"),
        "{err}"
    );
    assert!(err.to_string().contains("s/n"), "{err}");
    assert_eq!(entry.versions.len(), 1);
    assert_eq!(entry.current().value.expose(), "old");
}

#[test]
fn failing_batch_step_leaves_store_unchanged() {
    block_on(async {
        let store = MemoryStore::new();
        store.set_secret("s", "full", &"kept".into()).await.unwrap();
        store
            .set_secret("s", "other", &"kept".into())
            .await
            .unwrap();
        // Make the next write to `full` fail half-way through the batch.
        store
            .lock()
            .get_mut(&("s".to_owned(), "full".to_owned()))
            .unwrap()
            .versions
            .back_mut()
            .unwrap()
            .version = u32::MAX;
        let ops = [
            WriteOp::Delete {
                scope: "s".into(),
                name: "other".into(),
            },
            WriteOp::Set {
                scope: "s".into(),
                name: "new".into(),
                value: "x".into(),
            },
            WriteOp::Set {
                scope: "s".into(),
                name: "full".into(),
                value: "lost".into(),
            },
        ];
        let err = store.apply_batch(&ops).await.unwrap_err();
        assert!(
            matches!(&err, SecretsError::VersionLimit { name, .. } if name == "full"),
            "{err}"
        );
        assert!(store.exists("s", "other").await.unwrap());
        assert!(!store.exists("s", "new").await.unwrap());
        assert_eq!(
            store.get_secret("s", "full").await.unwrap().expose(),
            "kept"
        );
        assert_eq!(store.len(), 2);
    });
}

#[test]
fn debug_shows_counts_not_values() {
    block_on(async {
        let store = MemoryStore::new();
        assert!(store.is_empty());
        store
            .set_secret("s", "n", &"hunter2-debug-probe".into())
            .await
            .unwrap();
        let shown = format!("{store:?}");
        assert!(!shown.contains("hunter2-debug-probe"), "{shown}");
        assert!(shown.contains("secrets: 1"), "{shown}");
    });
}

/// A plain model of the store's version semantics, to compare `MemoryStore` against.
mod model {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    const SCOPES: [&str; 2] = ["s", "s:x"];
    const NAMES: [&str; 3] = ["a", "b", "x:a"];
    const RETENTION: usize = 3;

    #[derive(Debug, Clone)]
    enum Op {
        Set(usize, usize, u8),
        Delete(usize, usize),
        Rotate(usize, usize, u8),
        Rollback(usize, usize, u32),
        /// Sets and deletes; `true` adds an invalid operation at the end.
        Batch(Vec<(usize, usize, Option<u8>)>, bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        let s = 0..SCOPES.len();
        let n = 0..NAMES.len();
        prop_oneof![
            (s.clone(), n.clone(), any::<u8>()).prop_map(|(s, n, v)| Op::Set(s, n, v)),
            (s.clone(), n.clone()).prop_map(|(s, n)| Op::Delete(s, n)),
            (s.clone(), n.clone(), any::<u8>()).prop_map(|(s, n, v)| Op::Rotate(s, n, v)),
            (s.clone(), n.clone(), 0..8_u32).prop_map(|(s, n, v)| Op::Rollback(s, n, v)),
            (
                proptest::collection::vec((s, n, proptest::option::of(any::<u8>())), 0..5),
                any::<bool>()
            )
                .prop_map(|(ops, bad)| Op::Batch(ops, bad)),
        ]
    }

    /// (scope, name) -> retained (version, value), oldest first.
    type Model = BTreeMap<(usize, usize), Vec<(u32, String)>>;

    fn write(model: &mut Model, key: (usize, usize), value: String) -> (Option<u32>, u32) {
        let versions = model.entry(key).or_default();
        let previous = versions.last().map(|(v, _)| *v);
        let next = previous.map_or(1, |v| v + 1);
        versions.push((next, value));
        if versions.len() > RETENTION {
            versions.remove(0);
        }
        (previous, next)
    }

    fn value(v: u8) -> String {
        format!("value-{v}")
    }

    async fn apply(store: &MemoryStore, model: &mut Model, op: &Op) {
        match op {
            Op::Set(s, n, v) => {
                store
                    .set_secret(SCOPES[*s], NAMES[*n], &value(*v).into())
                    .await
                    .unwrap();
                write(model, (*s, *n), value(*v));
            }
            Op::Delete(s, n) => {
                let got = store.delete_secret(SCOPES[*s], NAMES[*n]).await;
                match model.remove(&(*s, *n)) {
                    Some(_) => got.unwrap(),
                    None => assert!(matches!(got, Err(SecretsError::NotFound { .. }))),
                }
            }
            Op::Rotate(s, n, v) => {
                let got = store
                    .rotate_secret(SCOPES[*s], NAMES[*n], &value(*v).into())
                    .await;
                if model.contains_key(&(*s, *n)) {
                    let (previous, next) = write(model, (*s, *n), value(*v));
                    let got = got.unwrap();
                    assert_eq!((got.previous_version, got.new_version), (previous, next));
                } else {
                    assert!(matches!(got, Err(SecretsError::NotFound { .. })));
                }
            }
            Op::Rollback(s, n, to) => {
                let got = store.rollback_secret(SCOPES[*s], NAMES[*n], *to).await;
                let old = model
                    .get(&(*s, *n))
                    .and_then(|vs| vs.iter().find(|(v, _)| v == to))
                    .map(|(_, value)| value.clone());
                match old {
                    Some(old) => {
                        let (previous, next) = write(model, (*s, *n), old);
                        let got = got.unwrap();
                        assert_eq!((got.previous_version, got.new_version), (previous, next));
                    }
                    None => assert!(matches!(got, Err(SecretsError::NotFound { .. }))),
                }
            }
            Op::Batch(ops, bad) => {
                let mut write_ops: Vec<WriteOp> = ops
                    .iter()
                    .map(|(s, n, v)| match v {
                        Some(v) => WriteOp::Set {
                            scope: SCOPES[*s].to_owned(),
                            name: NAMES[*n].to_owned(),
                            value: value(*v).into(),
                        },
                        None => WriteOp::Delete {
                            scope: SCOPES[*s].to_owned(),
                            name: NAMES[*n].to_owned(),
                        },
                    })
                    .collect();
                if *bad {
                    write_ops.push(WriteOp::Delete {
                        scope: "s".to_owned(),
                        name: "..".to_owned(),
                    });
                }
                let got = store.apply_batch(&write_ops).await;
                if *bad {
                    assert!(matches!(got, Err(SecretsError::InvalidName { .. })));
                    return;
                }
                got.unwrap();
                for (s, n, v) in ops {
                    match v {
                        Some(v) => {
                            write(model, (*s, *n), value(*v));
                        }
                        None => {
                            model.remove(&(*s, *n));
                        }
                    }
                }
            }
        }
    }

    async fn check(store: &MemoryStore, model: &Model) {
        for (si, scope) in SCOPES.iter().enumerate() {
            let listed = store.list_secrets(scope).await.unwrap();
            let mut expected: Vec<(String, u32)> = model
                .iter()
                .filter(|((s, _), _)| *s == si)
                .map(|((_, n), vs)| (NAMES[*n].to_owned(), vs.last().unwrap().0))
                .collect();
            expected.sort();
            let got: Vec<(String, u32)> = listed.into_iter().map(|m| (m.name, m.version)).collect();
            assert_eq!(got, expected, "scope {scope}");
        }
        for ((s, n), versions) in model {
            let (scope, name) = (SCOPES[*s], NAMES[*n]);
            let listed: Vec<u32> = store
                .list_versions(scope, name)
                .await
                .unwrap()
                .iter()
                .map(|v| v.version)
                .collect();
            assert_eq!(listed, versions.iter().map(|(v, _)| *v).collect::<Vec<_>>());
            for (version, value) in versions {
                let got = store
                    .get_secret_version(scope, name, *version)
                    .await
                    .unwrap();
                assert_eq!(got.expose(), value);
            }
            let current = store.get_secret(scope, name).await.unwrap();
            assert_eq!(current.expose(), versions.last().unwrap().1);
        }
        assert_eq!(store.len(), model.len());
    }

    proptest! {
        #[test]
        fn memory_store_matches_the_model(ops in proptest::collection::vec(op(), 1..40)) {
            block_on(async {
                let store = MemoryStore::with_retention(nz(RETENTION));
                let mut model = Model::new();
                for op in &ops {
                    apply(&store, &mut model, op).await;
                    check(&store, &model).await;
                }
            });
        }
    }
}
