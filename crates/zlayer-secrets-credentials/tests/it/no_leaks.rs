//! No password, token, key, API secret or hash shows in `Debug`, `Display`, errors or logs.

use std::io::Write;
use std::sync::{Arc, Mutex};

use zlayer_secrets_core::{Secret, SecretsProvider};
use zlayer_secrets_credentials::scopes::{
    API_KEYS_SCOPE, GIT_CREDENTIALS_SCOPE, REGISTRY_CREDENTIALS_SCOPE,
};
use zlayer_secrets_credentials::{
    CredentialStore, GitCredentialKind, GitCredentialStore, GrantStore, PermissionLevel,
    RegistryAuthType, RegistryCredentialStore, Subject,
};

use crate::support::backends;

const API_SECRET: &str = "api-secret-LEAKCHECK-1";
const REGISTRY_PASSWORD: &str = "registry-pw-LEAKCHECK-2";
const GIT_TOKEN: &str = "ghp_LEAKCHECK-3";
const NEW_API_SECRET: &str = "api-secret-LEAKCHECK-4";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn assert_clean(what: &str, text: &str) {
    for needle in ["LEAKCHECK", "$argon2", "argon2id"] {
        assert!(!text.contains(needle), "{what} shows {needle:?}: {text}");
    }
}

// One scenario over every store, so that one capture of the logs covers all of them.
#[allow(clippy::too_many_lines)]
#[tokio::test]
async fn nothing_secret_in_debug_errors_or_logs() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    // Global, not per thread: tracing caches per call site whether anyone listens, and a
    // thread-local subscriber loses that race against tests running in parallel. Events of
    // other tests then land in the capture too, which only widens the check.
    tracing::subscriber::set_global_default(subscriber).unwrap();

    for b in backends().await {
        let mut shown = Vec::<String>::new();
        let creds = CredentialStore::new(b.store.clone());
        let reg = RegistryCredentialStore::new(b.store.clone());
        let git = GitCredentialStore::new(b.store.clone());
        let grants = GrantStore::new(b.store.clone());

        creds
            .create_api_key("ci", API_SECRET, &["admin"])
            .await
            .unwrap();
        shown.push(format!("{:?}", creds.validate("ci", API_SECRET).await));
        shown.push(format!("{:?}", creds.validate("ci", GIT_TOKEN).await));
        shown.push(format!("{:?}", creds.validate("missing", API_SECRET).await));
        shown.push(format!(
            "{:?}",
            creds.create_new_api_key("ci", API_SECRET, &[]).await
        ));
        shown.push(format!(
            "{:?}",
            creds.set_api_secret("ci", NEW_API_SECRET).await
        ));
        shown.push(format!("{:?}", creds.roles("ci").await));
        shown.push(format!("{:?}", creds.list_api_keys().await));
        shown.push(format!(
            "{:?}",
            creds.ensure_admin("admin", API_SECRET).await
        ));
        let (key, generated) = creds.create_generated_api_key(&[]).await.unwrap();
        shown.push(format!("{key:?} {generated:?}"));

        let r = reg
            .create("ghcr.io", "bot", REGISTRY_PASSWORD, RegistryAuthType::Basic)
            .await
            .unwrap();
        shown.push(format!("{r:?} {r:#?}"));
        shown.push(format!("{:?}", reg.get(&r.id).await));
        shown.push(format!("{:?}", reg.get_password(&r.id).await));
        shown.push(format!("{:?}", reg.list().await));
        shown.push(format!("{:?}", reg.find_by_registry("ghcr.io").await));

        let g = git
            .create_for_host(
                "gh",
                GIT_TOKEN,
                GitCredentialKind::Pat,
                "github.com",
                Some("me"),
            )
            .await
            .unwrap();
        shown.push(format!("{g:?}"));
        shown.push(format!("{:?}", git.get_details(&g.id).await));
        shown.push(format!("{:?}", git.get_value(&g.id).await));
        shown.push(format!("{:?}", git.list_details().await));
        shown.push(format!("{:?}", git.find_by_host("github.com").await));

        grants
            .grant(&Subject::user("ci"), "env:prod", PermissionLevel::Write)
            .await
            .unwrap();
        shown.push(format!("{:?}", grants.list().await));
        shown.push(format!("{creds:?} {reg:?} {git:?} {grants:?}"));

        // Corrupt records whose text holds the secrets: errors must not quote them.
        for (scope, name, text) in [
            (
                API_KEYS_SCOPE,
                "ci",
                format!("{{\"hash\": 1, \"roles\": \"{API_SECRET}\"}}"),
            ),
            (
                REGISTRY_CREDENTIALS_SCOPE,
                r.id.as_str(),
                format!("\"{REGISTRY_PASSWORD}\""),
            ),
            (
                GIT_CREDENTIALS_SCOPE,
                g.id.as_str(),
                format!("{{\"value\": {GIT_TOKEN}}}"),
            ),
        ] {
            b.store
                .set_secret(scope, name, &Secret::new(text))
                .await
                .unwrap();
        }
        for err in [
            creds.validate("ci", API_SECRET).await.unwrap_err(),
            reg.get(&r.id).await.unwrap_err(),
            reg.get_password(&r.id).await.unwrap_err(),
            git.get_value(&g.id).await.unwrap_err(),
            git.list().await.unwrap_err(),
        ] {
            shown.push(format!("{err} {err:?}"));
        }

        for text in &shown {
            assert_clean(b.name, text);
        }
        // The secrets really went through the store (the check above is not vacuous).
        assert!(
            b.store
                .get_secret(API_KEYS_SCOPE, "ci")
                .await
                .unwrap()
                .expose()
                .contains(API_SECRET)
        );
    }

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("created registry credential"),
        "logs were captured: {logs}"
    );
    assert_clean("logs", &logs);
}
