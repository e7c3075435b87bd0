//! No public type that holds a secret shows it through `Debug`.

use std::sync::Arc;

use zlayer_secrets_core::{
    LocalEnvScopes, MemoryStore, Secret, SecretsResolver, SecretsStore, WriteOp,
};

const VALUE: &str = "hunter2-redaction-probe-51c9";

#[track_caller]
fn assert_hidden(what: &str, shown: &str) {
    assert!(!shown.contains(VALUE), "{what} shows the value: {shown}");
    assert!(
        !shown.contains("hunter2"),
        "{what} shows part of the value: {shown}"
    );
}

#[test]
fn debug_never_shows_values() {
    let secret = Secret::new(VALUE);
    assert_hidden("Secret", &format!("{secret:?}"));
    assert_hidden("Secret (alternate)", &format!("{secret:#?}"));
    assert_hidden("Option<Secret>", &format!("{:?}", Some(secret.clone())));

    let op = WriteOp::Set {
        scope: "s".to_owned(),
        name: "n".to_owned(),
        value: secret.clone(),
    };
    assert_hidden("WriteOp", &format!("{op:?}"));
    assert_hidden("WriteOp (alternate)", &format!("{op:#?}"));
    assert!(format!("{op:?}").contains("REDACTED"));

    let store = MemoryStore::new();
    zlayer_secrets_testsupport::block_on(async {
        store.set_secret("s", "n", &secret).await.unwrap();
        store
            .set_secret("s", "n", &Secret::new("second"))
            .await
            .unwrap();
    });
    assert_hidden("MemoryStore", &format!("{store:?}"));
    assert_hidden("MemoryStore (alternate)", &format!("{store:#?}"));

    let store = Arc::new(store);
    let resolver =
        SecretsResolver::new(Arc::clone(&store), "s").with_env_resolver(Arc::new(LocalEnvScopes));
    let shown = format!("{resolver:#?}");
    assert_hidden("SecretsResolver", &shown);
    assert!(shown.contains("SecretsResolver"), "{shown}");
}
