//! `SecretsResolver` acceptance: every reference form, fields, errors and batching.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use zlayer_secrets_core::testkit::steps::put;
use zlayer_secrets_core::{
    EnvScopeProvider, LocalEnvScopes, MemoryStore, Result, Secret, SecretMetadata, SecretsError,
    SecretsProvider, SecretsResolver, SecretsStore,
};
use zlayer_secrets_testsupport::block_on;

const DB_JSON: &str = r#"{"user":"app","pass":"pw-in-json","port":5432,"ratio":1.5,"tls":true,"legacy":false,"none":null,"opts":{"a":1,"b":[true]},"hosts":["h1","h2"]}"#;

/// Every value stored by [`store`]; no error message may contain any of them.
const VALUES: &[&str] = &[
    "pw-deploy-4f1a",
    DB_JSON,
    "pw-in-json",
    "tok-service-77b2",
    "k-prod-9c3e",
    "k-project-0d5f",
    "not json at all 3e8a",
];

async fn store() -> MemoryStore {
    let store = MemoryStore::new();
    for (scope, name, value) in [
        ("shop", "db-password", "pw-deploy-4f1a"),
        ("shop", "db", DB_JSON),
        ("shop", "plain-text", "not json at all 3e8a"),
        ("shop/api", "token", "tok-service-77b2"),
        ("shop/api", "db", r#"{"user":"api-user"}"#),
        ("env:prod", "API_KEY", "k-prod-9c3e"),
        ("env:prod", "cfg", r#"{"region":"eu","replicas":3}"#),
        ("project:store:env:prod", "API_KEY", "k-project-0d5f"),
    ] {
        put(&store, scope, name, value).await;
    }
    store
}

async fn resolver() -> SecretsResolver<MemoryStore> {
    SecretsResolver::new(store().await, "shop").with_env_resolver(Arc::new(LocalEnvScopes))
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[track_caller]
fn assert_no_value(message: &str) {
    for value in VALUES {
        assert!(!message.contains(value), "message leaks a value: {message}");
    }
}

/// Resolves `reference` both ways (alone and in a map) and checks both give `expected`.
async fn check(r: &SecretsResolver<MemoryStore>, reference: &str, expected: &str) {
    let value = r
        .resolve_value(reference)
        .await
        .unwrap_or_else(|e| panic!("resolve_value({reference}): {e}"));
    assert_eq!(value, expected, "resolve_value({reference})");
    let resolved = r
        .resolve_env(&env(&[("VAR", reference)]))
        .await
        .unwrap_or_else(|e| panic!("resolve_env({reference}): {e}"));
    assert_eq!(resolved["VAR"], expected, "resolve_env({reference})");
}

/// The error `resolve_env` gives for the variables `pairs`; panics if it resolves them.
async fn env_err<P: SecretsProvider>(
    r: &SecretsResolver<P>,
    pairs: &[(&str, &str)],
) -> SecretsError {
    match r.resolve_env(&env(pairs)).await {
        Ok(_) => panic!("{pairs:?} resolved; expected an error"),
        Err(e) => e,
    }
}

/// Every reference form and a field of every JSON type, one row each (the reference and
/// its value); a failure names the reference of its row.
#[test]
fn every_reference_form_and_field_type_resolves() {
    block_on(async {
        let r = resolver().await;
        for (reference, expected) in [
            // The deployment's own scope.
            ("$S:db-password", "pw-deploy-4f1a"),
            // A service of the deployment, whole and a field.
            ("$S:@api/token", "tok-service-77b2"),
            ("$S:@api/db/user", "api-user"),
            // An environment without a project, whole and a field.
            ("$S::prod/API_KEY", "k-prod-9c3e"),
            ("$S::prod/cfg/region", "eu"),
            // An environment of a project.
            ("$S:store:prod/API_KEY", "k-project-0d5f"),
            // The URL form, whole and a field.
            ("$secret://prod/API_KEY", "k-prod-9c3e"),
            ("$secret://prod/cfg/replicas", "3"),
            // Fields of every JSON type, and the whole JSON value.
            ("$S:db/user", "app"),
            ("$S:db/port", "5432"),
            ("$S:db/ratio", "1.5"),
            ("$S:db/tls", "true"),
            ("$S:db/legacy", "false"),
            ("$S:db/none", ""),
            ("$S:db/opts", r#"{"a":1,"b":[true]}"#),
            ("$S:db/hosts", r#"["h1","h2"]"#),
            ("$S:db", DB_JSON),
        ] {
            check(&r, reference, expected).await;
        }
        assert_eq!(r.scope(), "shop");
        assert!(r.provider().exists("shop", "db").await.unwrap());
    });
}

#[test]
fn plain_values_pass_through() {
    block_on(async {
        let r = resolver().await;
        for plain in [
            "",
            "plain",
            "$s:lowercase-prefix",
            "S:db",
            " $S:db",
            "prefix $S:db",
            "$SECRET://prod/x",
            "$",
            "$S",
            "$secret:/prod/x",
        ] {
            check(&r, plain, plain).await;
        }
    });
}

#[test]
fn missing_secret_names_the_variable_and_reference() {
    block_on(async {
        let r = resolver().await;
        let vars = env(&[
            ("DB_PASSWORD", "$S:db-password"),
            ("MISSING_ONE", "$S:nope"),
        ]);
        let err = r.resolve_env(&vars).await.unwrap_err();
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("MISSING_ONE"), "{msg}");
        assert!(msg.contains("$S:nope"), "{msg}");
        assert!(msg.contains("shop"), "names the scope: {msg}");
        assert!(
            !msg.contains("DB_PASSWORD"),
            "names only the failing variable: {msg}"
        );
        assert_no_value(&msg);

        let err = r.resolve_value("$S:@api/nope").await.unwrap_err();
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains("$S:@api/nope"), "{err}");
        assert!(err.to_string().contains("shop/api"), "{err}");

        let err = r.resolve_value("$secret://prod/nope").await.unwrap_err();
        assert!(err.to_string().contains("env:prod"), "{err}");
    });
}

#[test]
fn missing_field_names_the_field_not_the_value() {
    block_on(async {
        let r = resolver().await;
        let err = env_err(&r, &[("DB_HOST", "$S:db/host")]).await;
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
        let msg = err.to_string();
        for part in ["DB_HOST", "field `host` of shop/db", "$S:db/host"] {
            assert!(msg.contains(part), "{part} missing from: {msg}");
        }
        assert_no_value(&msg);
        let err = r.resolve_value("$S:db/host").await.unwrap_err();
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err}");
    });
}

#[test]
fn field_of_a_value_that_is_not_a_json_object() {
    block_on(async {
        let r = resolver().await;
        for reference in ["$S:plain-text/f", "$S:db-password/f", "$S:@api/token/f"] {
            let err = env_err(&r, &[("FIELD_VAR", reference)]).await;
            assert!(
                matches!(
                    err.root_cause(),
                    SecretsError::FieldUnreadable { field, json_kind: None, .. } if field == "f"
                ),
                "{err}"
            );
            let msg = err.to_string();
            assert!(msg.contains("FIELD_VAR") && msg.contains("`f`"), "{msg}");
            assert!(msg.contains("not valid JSON"), "{msg}");
            assert_no_value(&msg);
        }
        let err = r.resolve_value("$S:db/hosts").await.unwrap();
        assert_eq!(err, r#"["h1","h2"]"#);
    });
}

#[test]
fn malformed_reference_is_an_error_naming_the_variable() {
    block_on(async {
        let r = resolver().await;
        for bad in [
            "$S:",
            "$S:@/x",
            "$S:db/",
            "$S:a:b:c/name",
            "$S:name/field/extra",
            "$secret://",
            "$secret:///KEY",
            "$secret://env/",
            "$S:pw-deploy-4f1a and more",
        ] {
            let err = env_err(&r, &[("OK", "$S:db-password"), ("BROKEN", bad)]).await;
            assert!(
                matches!(&err, SecretsError::InvalidReference { variable: Some(v), .. } if v == "BROKEN"),
                "{bad}: {err}"
            );
            let msg = err.to_string();
            assert!(msg.contains("BROKEN"), "{msg}");
            assert!(msg.contains("malformed secret reference"), "{msg}");
            assert_no_value(&msg);

            let err = r.resolve_value(bad).await.unwrap_err();
            assert!(
                matches!(err, SecretsError::InvalidReference { variable: None, .. }),
                "{bad}: {err}"
            );
        }
    });
}

#[test]
fn environment_references_need_an_env_resolver() {
    block_on(async {
        let r = SecretsResolver::new(store().await, "shop");
        for reference in [
            "$S::prod/API_KEY",
            "$S:store:prod/API_KEY",
            "$secret://prod/API_KEY",
        ] {
            let err = env_err(&r, &[("KEY", reference), ("PW", "$S:db-password")]).await;
            assert!(
                matches!(err.root_cause(), SecretsError::NoEnvResolver),
                "{err}"
            );
            let msg = err.to_string();
            assert!(
                msg.contains("KEY") && msg.contains("with_env_resolver"),
                "{msg}"
            );
            assert_no_value(&msg);
            let err = r.resolve_value(reference).await.unwrap_err();
            assert!(err.to_string().contains("no environment resolver"), "{err}");
        }
        // Everything else still resolves without one.
        check(&r, "$S:db-password", "pw-deploy-4f1a").await;
        check(&r, "$S:@api/token", "tok-service-77b2").await;
    });
}

#[test]
fn a_map_mixing_every_form() {
    block_on(async {
        let r = resolver().await;
        let vars = env(&[
            ("DEPLOY", "$S:db-password"),
            ("FIELD", "$S:db/user"),
            ("PORT", "$S:db/port"),
            ("SERVICE", "$S:@api/token"),
            ("SERVICE_FIELD", "$S:@api/db/user"),
            ("ENV", "$S::prod/API_KEY"),
            ("ENV_FIELD", "$S::prod/cfg/replicas"),
            ("PROJECT", "$S:store:prod/API_KEY"),
            ("URL", "$secret://prod/API_KEY"),
            ("URL_FIELD", "$secret://prod/cfg/region"),
            ("PLAIN", "just text"),
            ("EMPTY", ""),
            ("LOOKALIKE", "$s:db-password"),
        ]);
        let resolved = r.resolve_env(&vars).await.unwrap();
        let expected = env(&[
            ("DEPLOY", "pw-deploy-4f1a"),
            ("FIELD", "app"),
            ("PORT", "5432"),
            ("SERVICE", "tok-service-77b2"),
            ("SERVICE_FIELD", "api-user"),
            ("ENV", "k-prod-9c3e"),
            ("ENV_FIELD", "3"),
            ("PROJECT", "k-project-0d5f"),
            ("URL", "k-prod-9c3e"),
            ("URL_FIELD", "eu"),
            ("PLAIN", "just text"),
            ("EMPTY", ""),
            ("LOOKALIKE", "$s:db-password"),
        ]);
        assert_eq!(resolved, expected);
        assert!(r.resolve_env(&HashMap::new()).await.unwrap().is_empty());

        // One wrong entry fails the whole map.
        let mut broken = vars.clone();
        broken.insert("ZZ_MISSING".to_owned(), "$S::prod/absent".to_owned());
        let err = r.resolve_env(&broken).await.unwrap_err();
        assert!(err.to_string().contains("ZZ_MISSING"), "{err}");
        assert_no_value(&err.to_string());
    });
}

#[test]
fn the_first_wrong_variable_in_name_order_is_reported() {
    block_on(async {
        let r = resolver().await;
        let vars = env(&[
            ("C_MISSING", "$S:nope-c"),
            ("A_MISSING", "$S:nope-a"),
            ("B_BROKEN", "$S:@"),
            ("D_OK", "$S:db-password"),
        ]);
        // Malformed references are found before anything is read.
        let err = r.resolve_env(&vars).await.unwrap_err();
        assert!(err.to_string().contains("B_BROKEN"), "{err}");
        let vars = env(&[("C_MISSING", "$S:nope-c"), ("A_MISSING", "$S:nope-a")]);
        for _ in 0..5 {
            let err = r.resolve_env(&vars).await.unwrap_err();
            assert!(err.to_string().contains("A_MISSING"), "{err}");
        }
    });
}

/// An `EnvScopeProvider` that counts look-ups and knows only `prod` and `store:prod`.
#[derive(Default)]
struct CountingEnvs {
    calls: Mutex<Vec<(Option<String>, String)>>,
}

#[async_trait]
impl EnvScopeProvider for CountingEnvs {
    async fn resolve_env_scope(&self, name_or_id: &str) -> Result<String> {
        self.resolve_project_env_scope(None, name_or_id).await
    }

    async fn resolve_project_env_scope(&self, project: Option<&str>, env: &str) -> Result<String> {
        self.calls
            .lock()
            .unwrap()
            .push((project.map(str::to_owned), env.to_owned()));
        match (project, env) {
            (None | Some("store"), "prod") => Ok(LocalEnvScopes::scope_for(project, env)),
            (None, "") => Ok(String::new()),
            _ => Err(SecretsError::NotFound {
                name: format!("environment {env}"),
            }),
        }
    }
}

/// A provider that records every call and forwards it to a `MemoryStore`.
struct CountingProvider {
    inner: MemoryStore,
    get_secret_calls: AtomicUsize,
    get_secrets_calls: Mutex<Vec<(String, Vec<String>)>>,
    fail_scope: Option<String>,
}

impl CountingProvider {
    async fn new() -> Self {
        Self {
            inner: store().await,
            get_secret_calls: AtomicUsize::new(0),
            get_secrets_calls: Mutex::new(Vec::new()),
            fail_scope: None,
        }
    }
}

#[async_trait]
impl SecretsProvider for CountingProvider {
    async fn get_secret(&self, scope: &str, name: &str) -> Result<Secret> {
        self.get_secret_calls.fetch_add(1, Ordering::SeqCst);
        self.inner.get_secret(scope, name).await
    }

    async fn get_secrets(&self, scope: &str, names: &[&str]) -> Result<HashMap<String, Secret>> {
        self.get_secrets_calls.lock().unwrap().push((
            scope.to_owned(),
            names.iter().map(|n| (*n).to_owned()).collect(),
        ));
        if self.fail_scope.as_deref() == Some(scope) {
            return Err(SecretsError::Storage("backend unavailable".to_owned()));
        }
        self.inner.get_secrets(scope, names).await
    }

    async fn list_secrets(&self, scope: &str) -> Result<Vec<SecretMetadata>> {
        self.inner.list_secrets(scope).await
    }

    async fn exists(&self, scope: &str, name: &str) -> Result<bool> {
        self.inner.exists(scope, name).await
    }
}

#[test]
fn resolve_env_reads_each_scope_once_with_one_batch() {
    block_on(async {
        let envs = Arc::new(CountingEnvs::default());
        let r = SecretsResolver::new(CountingProvider::new().await, "shop")
            .with_env_resolver(Arc::clone(&envs) as Arc<dyn EnvScopeProvider>);
        let vars = env(&[
            ("D1", "$S:db-password"),
            ("D2", "$S:db/user"),
            ("D3", "$S:db/port"),
            ("D4", "$S:db-password"),
            ("S1", "$S:@api/token"),
            ("S2", "$S:@api/db/user"),
            ("E1", "$S::prod/API_KEY"),
            ("E2", "$secret://prod/API_KEY"),
            ("E3", "$secret://prod/cfg/region"),
            ("P1", "$S:store:prod/API_KEY"),
            ("PLAIN", "x"),
        ]);
        let resolved = r.resolve_env(&vars).await.unwrap();
        assert_eq!(resolved.len(), vars.len());
        assert_eq!(resolved["E3"], "eu");

        let provider = r.provider();
        assert_eq!(provider.get_secret_calls.load(Ordering::SeqCst), 0);
        let calls: BTreeMap<String, Vec<String>> = provider
            .get_secrets_calls
            .lock()
            .unwrap()
            .iter()
            .cloned()
            .collect();
        assert_eq!(
            provider.get_secrets_calls.lock().unwrap().len(),
            4,
            "one call per scope: {calls:?}"
        );
        let expected: BTreeMap<String, Vec<String>> = [
            ("env:prod", vec!["API_KEY", "cfg"]),
            ("project:store:env:prod", vec!["API_KEY"]),
            ("shop", vec!["db", "db-password"]),
            ("shop/api", vec!["db", "token"]),
        ]
        .into_iter()
        .map(|(s, names)| (s.to_owned(), names.into_iter().map(str::to_owned).collect()))
        .collect();
        assert_eq!(calls, expected);

        let env_calls = envs.calls.lock().unwrap().clone();
        assert_eq!(
            env_calls,
            [
                (None, "prod".to_owned()),
                (Some("store".to_owned()), "prod".to_owned())
            ],
            "each environment mapped once"
        );
    });
}

#[test]
fn env_resolver_failures_name_the_environment_and_variable() {
    block_on(async {
        let r = SecretsResolver::new(store().await, "shop")
            .with_env_resolver(Arc::new(CountingEnvs::default()));
        let err = env_err(&r, &[("STAGING_KEY", "$S::staging/API_KEY")]).await;
        assert!(err.is_not_found(), "{err}");
        assert!(matches!(err, SecretsError::Unresolved { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("STAGING_KEY") && msg.contains("`staging`"),
            "{msg}"
        );

        let err = r.resolve_value("$S:other:prod/API_KEY").await.unwrap_err();
        assert!(err.to_string().contains("project `other`"), "{err}");
    });
}

#[test]
fn provider_failures_name_the_scope_and_variables() {
    block_on(async {
        let mut provider = CountingProvider::new().await;
        provider.fail_scope = Some("shop/api".to_owned());
        let r = SecretsResolver::new(provider, "shop");
        let err = env_err(
            &r,
            &[
                ("TOKEN", "$S:@api/token"),
                ("DB", "$S:@api/db/user"),
                ("PW", "$S:db-password"),
            ],
        )
        .await;
        assert!(
            matches!(&err, SecretsError::ScopeFailed { scope, variables, .. }
                if scope == "shop/api" && *variables == ["DB", "TOKEN"]),
            "{err}"
        );
        assert!(
            matches!(err.root_cause(), SecretsError::Storage(_)),
            "{err}"
        );
        assert!(err.is_storage(), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("`shop/api`"), "{msg}");
        assert!(msg.contains("DB, TOKEN"), "{msg}");
        assert!(msg.contains("backend unavailable"), "{msg}");
        assert_no_value(&msg);
    });
}

#[test]
fn an_invalid_deployment_scope_is_reported_not_looked_up() {
    block_on(async {
        let r = SecretsResolver::new(store().await, "bad//scope");
        let err = r.resolve_value("$S:db-password").await.unwrap_err();
        assert!(
            matches!(err.root_cause(), SecretsError::InvalidName { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("$S:db-password"), "{err}");
        // Plain values need no scope.
        assert_eq!(r.resolve_value("plain").await.unwrap(), "plain");
    });
}

/// An `EnvScopeProvider` that maps every environment to one fixed scope.
struct FixedScope(&'static str);

#[async_trait]
impl EnvScopeProvider for FixedScope {
    async fn resolve_env_scope(&self, _: &str) -> Result<String> {
        Ok(self.0.to_owned())
    }

    async fn resolve_project_env_scope(&self, _: Option<&str>, _: &str) -> Result<String> {
        Ok(self.0.to_owned())
    }
}

#[test]
fn references_never_read_reserved_scopes() {
    block_on(async {
        const RECORD: &str = r#"{"hash":"$argon2id$v=19$stored-hash-5e1c","roles":["admin"]}"#;
        let store = Arc::new(MemoryStore::new());
        for (scope, name) in [
            ("_zlayer/api_keys", "zk_1"),
            ("_zlayer", "top"),
            ("_zlayer/grants", "prod"),
        ] {
            store
                .set_secret(scope, name, &Secret::new(RECORD))
                .await
                .unwrap();
        }
        let denied = |result: Result<String>, what: &str| match result {
            Err(err) if err.is_access_denied() => {
                assert!(
                    matches!(err.root_cause(), SecretsError::ReservedScope { scope } if scope.starts_with("_zlayer")),
                    "{what}: {err}"
                );
                let shown = err.to_string();
                assert!(shown.contains("reserved"), "{what}: {shown}");
                assert!(
                    !shown.contains("stored-hash"),
                    "{what}: no value in {shown}"
                );
            }
            other => panic!("{what}: expected a reserved scope, got {other:?}"),
        };

        // A deployment called `_zlayer`: its own and its services' scopes are reserved.
        let r = SecretsResolver::new(Arc::clone(&store), "_zlayer");
        denied(r.resolve_value("$S:@api_keys/zk_1").await, "service ref");
        denied(r.resolve_value("$S:top").await, "deployment ref");
        let err = env_err(&r, &[("K", "$S:@api_keys/zk_1/hash"), ("P", "plain")]).await;
        assert!(err.is_access_denied(), "{err}");
        assert!(
            matches!(&err, SecretsError::Unresolved { variable: Some(v), .. } if v == "K"),
            "names the variable: {err}"
        );

        // An environment mapped into a reserved scope.
        let r = SecretsResolver::new(Arc::clone(&store), "shop")
            .with_env_resolver(Arc::new(FixedScope("_zlayer/grants")));
        denied(r.resolve_value("$secret://prod/prod").await, "env ref");
        let err = env_err(&r, &[("G", "$S::prod/prod")]).await;
        assert!(err.is_access_denied(), "{err}");

        // Scopes that only look alike are ordinary.
        store
            .set_secret("_zlayerx", "n", &Secret::new("ordinary"))
            .await
            .unwrap();
        let r = SecretsResolver::new(store, "_zlayerx");
        assert_eq!(r.resolve_value("$S:n").await.unwrap(), "ordinary");
    });
}

#[test]
fn references_inside_strings_are_replaced() {
    block_on(async {
        let r = resolver().await;
        for (value, expected) in [
            (
                "postgres://app:{{ $S:db-password }}@db/app",
                "postgres://app:pw-deploy-4f1a@db/app",
            ),
            (
                "{{$S:db/user}}:{{ $S:db/pass }}@{{\t$secret://prod/cfg/region\t}}",
                "app:pw-in-json@eu",
            ),
            (
                "{{ $S:@api/token }} and {{ $S:store:prod/API_KEY }} {{ $S::prod/API_KEY }}",
                "tok-service-77b2 and k-project-0d5f k-prod-9c3e",
            ),
            ("twice {{ $S:db/port }}{{ $S:db/port }}", "twice 54325432"),
            (r"\{{ $S:db-password }}", "{{ $S:db-password }}"),
            (r"\{{ kept }} {{ $S:db/user }}", "{{ kept }} app"),
            ("{{ .Values.image }}", "{{ .Values.image }}"),
            ("{{ unterminated $S:db", "{{ unterminated $S:db"),
            ("{{ $S:db/user }}}", "app}"),
        ] {
            check(&r, value, expected).await;
        }
    });
}

#[test]
fn inserted_values_come_out_byte_for_byte() {
    block_on(async {
        let store = store().await;
        let tricky = "line one\nline \"two\" 'x' {{ $S:db-password }} }} \\{{ é✓ \u{1f512}\r\n";
        put(&store, "shop", "tricky", tricky).await;
        let r = SecretsResolver::new(store, "shop");
        check(&r, "<{{ $S:tricky }}>", &format!("<{tricky}>")).await;
        check(&r, "$S:tricky", tricky).await;
    });
}

#[test]
fn placeholders_are_fetched_with_one_batch_per_scope() {
    block_on(async {
        let r = SecretsResolver::new(CountingProvider::new().await, "shop")
            .with_env_resolver(Arc::new(LocalEnvScopes));
        let vars = env(&[
            ("URL", "postgres://{{ $S:db/user }}:{{ $S:db-password }}@db"),
            ("WHOLE", "$S:db-password"),
            ("MIXED", "{{ $S:@api/token }}/{{ $secret://prod/API_KEY }}"),
            ("PLAIN", "x"),
        ]);
        let resolved = r.resolve_env(&vars).await.unwrap();
        assert_eq!(resolved["URL"], "postgres://app:pw-deploy-4f1a@db");
        assert_eq!(resolved["WHOLE"], "pw-deploy-4f1a");
        assert_eq!(resolved["MIXED"], "tok-service-77b2/k-prod-9c3e");
        assert_eq!(resolved["PLAIN"], "x");
        let provider = r.provider();
        assert_eq!(provider.get_secret_calls.load(Ordering::SeqCst), 0);
        let calls: BTreeMap<String, Vec<String>> = provider
            .get_secrets_calls
            .lock()
            .unwrap()
            .iter()
            .cloned()
            .collect();
        let expected: BTreeMap<String, Vec<String>> = [
            ("env:prod", vec!["API_KEY"]),
            ("shop", vec!["db", "db-password"]),
            ("shop/api", vec!["token"]),
        ]
        .into_iter()
        .map(|(s, names)| (s.to_owned(), names.into_iter().map(str::to_owned).collect()))
        .collect();
        assert_eq!(calls, expected);
        assert_eq!(provider.get_secrets_calls.lock().unwrap().len(), 3);

        // One value with several placeholders of one scope: one batch too.
        provider.get_secrets_calls.lock().unwrap().clear();
        let value = r
            .resolve_value("{{ $S:db/user }} {{ $S:db-password }} {{ $S:db/port }}")
            .await
            .unwrap();
        assert_eq!(value, "app pw-deploy-4f1a 5432");
        assert_eq!(provider.get_secret_calls.load(Ordering::SeqCst), 0);
        assert_eq!(provider.get_secrets_calls.lock().unwrap().len(), 1);
    });
}

#[test]
fn a_malformed_placeholder_names_the_variable_and_position() {
    block_on(async {
        let r = resolver().await;
        let err = env_err(
            &r,
            &[("OK", "$S:db-password"), ("BROKEN", "a\nb {{ $S:db x }}")],
        )
        .await;
        assert!(
            matches!(
                &err,
                SecretsError::InvalidPlaceholder { variable: Some(v), error } if v == "BROKEN" && error.line() == 2
            ),
            "{err:?}"
        );
        let shown = err.to_string();
        assert!(
            shown.starts_with("environment variable `BROKEN`: placeholder at line 2, column "),
            "{shown}"
        );
        assert_no_value(&shown);
        let err = r.resolve_value("x {{ $S: }}").await.unwrap_err();
        assert!(
            matches!(err, SecretsError::InvalidPlaceholder { variable: None, .. }),
            "{err:?}"
        );
    });
}

#[test]
fn a_missing_secret_in_a_placeholder_fails_naming_the_variable() {
    block_on(async {
        let r = resolver().await;
        let err = env_err(
            &r,
            &[("URL", "postgres://app:{{ $S:db-password }}@{{ $S:nope }}")],
        )
        .await;
        assert!(matches!(err, SecretsError::NotFound { .. }), "{err:?}");
        let shown = err.to_string();
        assert!(shown.contains("`$S:nope`"), "{shown}");
        assert!(shown.contains("environment variable `URL`"), "{shown}");
        assert_no_value(&shown);
    });
}

/// Three layers: `env:base` under `env:staging` under the deployment scope `shop`.
async fn layered() -> SecretsResolver<CountingProvider> {
    let provider = CountingProvider::new().await;
    for (scope, name, value) in [
        ("env:base", "A", "base-a"),
        ("env:base", "B", "base-b"),
        ("env:base", "C", "base-c"),
        ("env:base", "not-a-variable", "base-x"),
        ("env:staging", "B", "staging-b"),
        ("env:staging", "C", "staging-c"),
        ("env:staging", "D", "staging-d"),
        ("shop", "C", "shop-c"),
        ("shop", "E", "shop-e"),
    ] {
        put(&provider.inner, scope, name, value).await;
    }
    SecretsResolver::new(provider, "shop").with_env_resolver(Arc::new(LocalEnvScopes))
}

#[test]
fn a_whole_environment_layers_later_over_earlier_and_the_primary_over_all() {
    block_on(async {
        let r = layered().await;
        let plan = r
            .plan_all(&[(None, "base"), (None, "staging")], None)
            .await
            .unwrap();
        let entries: Vec<(&str, &str)> = plan.entries().collect();
        // `shop` itself holds the test store's other secrets too: only the variables here.
        let wanted: Vec<(&str, &str)> = entries
            .iter()
            .copied()
            .filter(|(n, _)| n.len() == 1)
            .collect();
        assert_eq!(
            wanted,
            [
                ("A", "env:base"),
                ("B", "env:staging"),
                ("C", "shop"),
                ("D", "env:staging"),
                ("E", "shop"),
            ]
        );
        let skipped: Vec<(&str, &str)> = plan.skipped().collect();
        assert!(
            skipped.contains(&("not-a-variable", "env:base")),
            "{skipped:?}"
        );
        assert!(skipped.contains(&("db-password", "shop")), "{skipped:?}");
        // Planning reads no value.
        assert!(r.provider().get_secrets_calls.lock().unwrap().is_empty());

        let values: BTreeMap<String, String> = r
            .resolve_all(&plan)
            .await
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .filter(|(k, _)| k.len() == 1)
            .collect();
        let expected: BTreeMap<String, String> = [
            ("A", "base-a"),
            ("B", "staging-b"),
            ("C", "shop-c"),
            ("D", "staging-d"),
            ("E", "shop-e"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(values, expected);
        // One batch per scope, each with only the names that scope wins.
        let calls = r.provider().get_secrets_calls.lock().unwrap().clone();
        assert_eq!(calls.len(), 3, "{calls:?}");
        let base = calls.iter().find(|(s, _)| s == "env:base").unwrap();
        assert_eq!(base.1, ["A"]);

        // The order of the layers decides.
        let plan = r
            .plan_all(&[(None, "staging"), (None, "base")], None)
            .await
            .unwrap();
        let b = plan.entries().find(|(n, _)| *n == "B").unwrap();
        assert_eq!(b, ("B", "env:base"));
    });
}

#[test]
fn only_limits_a_whole_environment_and_a_missing_name_is_an_error() {
    block_on(async {
        let r = layered().await;
        let only = ["A".to_owned(), "C".to_owned()].into_iter().collect();
        let plan = r.plan_all(&[(None, "base")], Some(&only)).await.unwrap();
        assert_eq!(
            plan.entries().collect::<Vec<_>>(),
            [("A", "env:base"), ("C", "shop")]
        );
        let only = ["A".to_owned(), "NOPE".to_owned()].into_iter().collect();
        let err = r
            .plan_all(&[(None, "base")], Some(&only))
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{err:?}");
        assert!(err.to_string().contains("`NOPE`"), "{err}");
    });
}

#[test]
fn a_whole_environment_never_reads_a_reserved_scope() {
    block_on(async {
        let r = SecretsResolver::new(MemoryStore::new(), "_zlayer");
        let err = r.plan_all(&[], None).await.unwrap_err();
        assert!(err.is_access_denied(), "{err:?}");
        let r = SecretsResolver::new(MemoryStore::new(), "shop");
        let err = r.plan_all(&[(None, "prod")], None).await.unwrap_err();
        assert!(matches!(err, SecretsError::NoEnvResolver), "{err:?}");
    });
}

#[test]
fn locate_env_names_every_secret_without_reading_one() {
    block_on(async {
        let r = SecretsResolver::new(CountingProvider::new().await, "shop")
            .with_env_resolver(Arc::new(LocalEnvScopes));
        let vars = env(&[
            ("URL", "postgres://{{ $S:db/user }}:{{ $S:db-password }}@db"),
            ("TOKEN", "$S:@api/token"),
            ("KEY", "$secret://prod/API_KEY"),
            ("PLAIN", "x"),
            ("MISSING", "$S:not-there"),
        ]);
        let located: Vec<(String, String)> =
            r.locate_env(&vars).await.unwrap().into_iter().collect();
        let expected: Vec<(String, String)> = [
            ("env:prod", "API_KEY"),
            ("shop", "db"),
            ("shop", "db-password"),
            ("shop", "not-there"),
            ("shop/api", "token"),
        ]
        .into_iter()
        .map(|(s, n)| (s.to_owned(), n.to_owned()))
        .collect();
        assert_eq!(located, expected);
        let provider = r.provider();
        assert_eq!(provider.get_secret_calls.load(Ordering::SeqCst), 0);
        assert!(provider.get_secrets_calls.lock().unwrap().is_empty());
        let err = r.locate_env(&env(&[("BAD", "$S:@/x")])).await.unwrap_err();
        assert!(
            matches!(err, SecretsError::InvalidReference { .. }),
            "{err:?}"
        );
    });
}

#[test]
fn a_watch_set_sees_new_versions_deletions_and_additions() {
    use zlayer_secrets_core::WatchSet;
    block_on(async {
        let store = store().await;
        let mut watched = WatchSet::default();
        watched.secret("shop", "db-password");
        watched.secret("shop/api", "token");
        watched.scope("env:prod");
        let before = watched.versions(&store).await.unwrap();
        assert_eq!(before.get("shop", "db-password"), Some(1));
        assert_eq!(before.get("shop", "db"), None, "not watched");
        assert_eq!(before.changes(&before.clone()), []);

        // A secret that is not watched changes nothing.
        put(&store, "shop", "db", "{}").await;
        assert_eq!(before.changes(&watched.versions(&store).await.unwrap()), []);

        put(&store, "shop", "db-password", "new").await;
        store.delete_secret("shop/api", "token").await.unwrap();
        put(&store, "env:prod", "ADDED", "x").await;
        let after = watched.versions(&store).await.unwrap();
        let expected: Vec<(String, String)> = [
            ("env:prod", "ADDED"),
            ("shop", "db-password"),
            ("shop/api", "token"),
        ]
        .into_iter()
        .map(|(s, n)| (s.to_owned(), n.to_owned()))
        .collect();
        assert_eq!(before.changes(&after), expected);
    });
}
