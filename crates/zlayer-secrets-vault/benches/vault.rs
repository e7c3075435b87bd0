//! Benchmarks of `VaultSecretsProvider` against a local OpenBao server: one `get_secret`,
//! one `set_secret`, 40 reads one at a time, one batched `get_secrets` of 40 names (8
//! requests in flight), and `resolve_env` of an environment with 40 references.
//!
//! Needs `ZLAYER_TEST_VAULT_ADDR` and `ZLAYER_TEST_VAULT_TOKEN` (as for the integration
//! tests); without them it says so and measures nothing.

use std::collections::HashMap;

use criterion::Criterion;
use zlayer_secrets_core::{Secret, SecretsProvider, SecretsResolver, SecretsStore};
use zlayer_secrets_vault::VaultSecretsProvider;

const REFERENCES: usize = 40;

fn main() {
    let (Some(address), Some(token)) = (
        std::env::var("ZLAYER_TEST_VAULT_ADDR")
            .ok()
            .filter(|v| !v.is_empty()),
        std::env::var("ZLAYER_TEST_VAULT_TOKEN")
            .ok()
            .filter(|v| !v.is_empty()),
    ) else {
        eprintln!(
            "skipping the Vault benchmarks: set ZLAYER_TEST_VAULT_ADDR and \
             ZLAYER_TEST_VAULT_TOKEN to a local OpenBao server (bao server -dev) to run them"
        );
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let vault = VaultSecretsProvider::new(&address, &token, "secret")
        .expect("ZLAYER_TEST_VAULT_ADDR is a valid address");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let scope = format!("bench-{}-{nanos:x}", std::process::id());
    let names: Vec<String> = (0..REFERENCES).map(|i| format!("SECRET_{i:02}")).collect();
    runtime.block_on(async {
        for name in &names {
            vault
                .set_secret(&scope, name, &Secret::new(format!("value of {name}")))
                .await
                .expect("the benchmark's secrets can be written");
        }
    });

    let mut c = Criterion::default().sample_size(30).configure_from_args();
    c.bench_function("vault/get_secret", |b| {
        b.iter(|| {
            runtime
                .block_on(vault.get_secret(&scope, &names[0]))
                .expect("the secret is there")
        });
    });
    let value = Secret::new("x".repeat(64));
    c.bench_function("vault/set_secret (64 B)", |b| {
        b.iter(|| {
            runtime
                .block_on(vault.set_secret(&scope, "written", &value))
                .expect("the write succeeds");
        });
    });
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    // The baseline for the two batched reads below: the same 40 reads one after another.
    c.bench_function("vault/get_secret x 40, one at a time", |b| {
        b.iter(|| {
            runtime.block_on(async {
                for name in &refs {
                    vault
                        .get_secret(&scope, name)
                        .await
                        .expect("the secret is there");
                }
            });
        });
    });
    c.bench_function("vault/get_secrets (40 names)", |b| {
        b.iter(|| {
            runtime
                .block_on(vault.get_secrets(&scope, &refs))
                .expect("the secrets are there")
        });
    });
    let resolver = SecretsResolver::new(vault.clone(), scope.clone());
    let env: HashMap<String, String> = names
        .iter()
        .map(|name| (name.clone(), format!("$S:{name}")))
        .chain([("PLAIN".to_owned(), "not a reference".to_owned())])
        .collect();
    c.bench_function("vault/resolve_env (40 references)", |b| {
        b.iter(|| {
            runtime
                .block_on(resolver.resolve_env(&env))
                .expect("every reference resolves")
        });
    });
    c.final_summary();

    runtime.block_on(async {
        for name in names.iter().map(String::as_str).chain(["written"]) {
            let _ = vault.delete_secret(&scope, name).await;
        }
    });
}
