//! What the resolver and the store log (at every level) never holds a secret value.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use zlayer_secrets_core::{LocalEnvScopes, MemoryStore, Secret, SecretsResolver, SecretsStore};

/// Records the text of every span and event field.
#[derive(Clone, Default)]
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next_id: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        write!(self.0, " {}={value:?}", field.name()).unwrap();
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        write!(self.0, " {}={value}", field.name()).unwrap();
    }
}

impl Capture {
    fn push(&self, metadata: &Metadata<'_>, record: impl FnOnce(&mut Fields<'_>)) {
        let mut line = format!("{} {}:", metadata.level(), metadata.target());
        record(&mut Fields(&mut line));
        self.lines.lock().unwrap().push(line);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        self.push(span.metadata(), |f| span.record(f));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = String::from("record:");
        values.record(&mut Fields(&mut line));
        self.lines.lock().unwrap().push(line);
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        self.push(event.metadata(), |f| event.record(f));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

const VALUES: &[&str] = &[
    "log-probe-deploy-6a2e",
    "log-probe-env-91d0",
    "log-probe-field-c3b7",
];

#[test]
fn resolving_logs_no_values() {
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), || {
        zlayer_secrets_testsupport::block_on(async {
            let store = MemoryStore::new();
            let set = |scope: &'static str, name: &'static str, value: String| {
                let store = &store;
                async move { store.set_secret(scope, name, &Secret::new(value)).await }
            };
            set("d", "pw", VALUES[0].to_owned()).await.unwrap();
            set("env:prod", "KEY", VALUES[1].to_owned()).await.unwrap();
            set("d", "json", format!(r#"{{"f":"{}"}}"#, VALUES[2]))
                .await
                .unwrap();
            let r = SecretsResolver::new(store, "d").with_env_resolver(Arc::new(LocalEnvScopes));
            let env: HashMap<String, String> = [
                ("A", "$S:pw"),
                ("B", "$secret://prod/KEY"),
                ("C", "$S:json/f"),
                ("D", "plain"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
            let resolved = r.resolve_env(&env).await.unwrap();
            assert_eq!(resolved["C"], VALUES[2]);
            r.resolve_value("$S:pw").await.unwrap();
            r.resolve_value("$S:json/missing").await.unwrap_err();
            r.resolve_value("$S:pw/f").await.unwrap_err();
        });
    });
    let lines = capture.lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("resolving secret references")),
        "the resolver logged nothing: {lines:?}"
    );
    for line in lines.iter() {
        for value in VALUES {
            assert!(!line.contains(value), "a log line holds a value: {line}");
        }
    }
}
