//! What remains with `default-features = false`: the traits, the grammar, the resolver and
//! `MemoryStore`.

use std::collections::HashMap;
use std::sync::Arc;

use zlayer_secrets::{
    EnvScopeProvider, LocalEnvScopes, MemoryStore, Secret, SecretRef, SecretsProvider,
    SecretsResolver, SecretsStore, reference,
};

#[tokio::test]
async fn resolve_from_memory() {
    let store: Arc<dyn SecretsStore> = Arc::new(MemoryStore::new());
    store
        .set_secret("app", "db", &Secret::new("pw"))
        .await
        .unwrap();
    store
        .set_secret("env:prod", "KEY", &Secret::new("k"))
        .await
        .unwrap();
    let env_scopes: Arc<dyn EnvScopeProvider> = Arc::new(LocalEnvScopes);
    let resolver = SecretsResolver::new(Arc::clone(&store), "app").with_env_resolver(env_scopes);
    let env = HashMap::from([
        ("A".to_owned(), "$S:db".to_owned()),
        ("B".to_owned(), "$S::prod/KEY".to_owned()),
    ]);
    let out = resolver.resolve_env(&env).await.unwrap();
    assert_eq!((out["A"].as_str(), out["B"].as_str()), ("pw", "k"));
    let provider: &dyn SecretsProvider = &*store;
    assert!(provider.exists("app", "db").await.unwrap());
    assert!(SecretRef::parse("$S:@svc/name/field").is_some());
    assert!(reference::SecretRef::try_parse("$S:@/x").is_err());
}
