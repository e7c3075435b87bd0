//! Resolving arbitrary environment maps against a MemoryStore never panics, agrees with resolve_value variable by variable, passes plain values through, and no error carries a stored value.
#![no_main]

use std::collections::HashMap;
use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use zlayer_secrets_core::{
    LocalEnvScopes, MemoryStore, Secret, SecretRef, SecretsResolver, SecretsStore,
};
use zlayer_secrets_fuzz::{block_on, marked};

/// Where a stored secret lives.
#[derive(Debug, Arbitrary)]
enum Place {
    Deployment,
    Service(String),
    Env(String),
    ProjectEnv(String, String),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Leaf {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    List(Vec<String>),
}

#[derive(Debug, Arbitrary)]
enum StoredValue {
    /// Marked text (checked for leaks).
    Marked(String),
    /// Any text, for the JSON parser's sake (not checked: it may be anything).
    Text(String),
    /// A JSON object with marked strings.
    Object(Vec<(String, Leaf)>),
}

#[derive(Debug, Arbitrary)]
struct Stored {
    place: Place,
    name: String,
    value: StoredValue,
}

#[derive(Debug, Arbitrary)]
enum EnvValue {
    Plain(String),
    /// A reference to one of the stored secrets (index modulo their number).
    ToStored {
        index: u8,
        field: Option<String>,
        url: bool,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    deployment: Option<String>,
    env_resolver: bool,
    stored: Vec<Stored>,
    env: Vec<(String, EnvValue)>,
}

fn json_leaf(leaf: &Leaf, secrets: &mut Vec<String>) -> serde_json::Value {
    use serde_json::Value;
    match leaf {
        Leaf::Str(s) => {
            secrets.push(marked(s));
            Value::String(marked(s))
        }
        Leaf::Int(n) => Value::from(*n),
        Leaf::Float(x) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        Leaf::Bool(b) => Value::Bool(*b),
        Leaf::Null => Value::Null,
        Leaf::List(items) => Value::Array(
            items
                .iter()
                .map(|s| {
                    secrets.push(marked(s));
                    Value::String(marked(s))
                })
                .collect(),
        ),
    }
}

fn scope_of(place: &Place, deployment: &str) -> String {
    match place {
        Place::Deployment => deployment.to_owned(),
        Place::Service(service) => format!("{deployment}/{service}"),
        Place::Env(env) => LocalEnvScopes::scope_for(None, env),
        Place::ProjectEnv(project, env) => LocalEnvScopes::scope_for(Some(project), env),
        Place::Raw(scope) => scope.clone(),
    }
}

fn reference_to(stored: &Stored, field: Option<&String>, url: bool) -> String {
    let name = &stored.name;
    let mut text = match &stored.place {
        Place::Deployment | Place::Raw(_) => format!("$S:{name}"),
        Place::Service(service) => format!("$S:@{service}/{name}"),
        Place::Env(env) if url => format!("$secret://{env}/{name}"),
        Place::Env(env) => format!("$S::{env}/{name}"),
        Place::ProjectEnv(project, env) => format!("$S:{project}:{env}/{name}"),
    };
    if let Some(field) = field {
        text.push('/');
        text.push_str(field);
    }
    text
}

/// Whether `text` parses to a reference to exactly `stored`'s place and name (parts holding
/// `/`, `:` or `@` make text that reads as some other reference).
fn reads_back(text: &str, stored: &Stored) -> bool {
    let Some(r) = SecretRef::parse(text) else {
        return false;
    };
    let place = match &stored.place {
        Place::Deployment | Place::Raw(_) => (None, None, None),
        Place::Service(service) => (Some(service.as_str()), None, None),
        Place::Env(env) => (None, None, Some(env.as_str())),
        Place::ProjectEnv(project, env) => (None, Some(project.as_str()), Some(env.as_str())),
    };
    r.name == stored.name
        && r.field.is_none()
        && (
            r.service.as_deref(),
            r.project.as_deref(),
            r.environment.as_deref(),
        ) == place
}

/// No marked secret string appears in `message`, unless it is part of text the caller
/// supplied in the clear (a variable, a reference, a name or a scope).
fn assert_no_leak(message: &str, secrets: &[String], public: &[String]) {
    for secret in secrets {
        if message.contains(secret.as_str()) && !public.iter().any(|p| p.contains(secret.as_str()))
        {
            panic!("an error carries a stored value: {message}");
        }
    }
}

fuzz_target!(|input: Input| {
    let deployment = input.deployment.unwrap_or_else(|| "app".to_owned());
    let store = Arc::new(MemoryStore::new());
    let mut secrets = Vec::new();
    let mut public = vec![deployment.clone()];
    let mut model: HashMap<(String, String), String> = HashMap::new();
    for stored in &input.stored {
        let value = match &stored.value {
            StoredValue::Marked(s) => {
                secrets.push(marked(s));
                marked(s)
            }
            StoredValue::Text(s) => s.clone(),
            StoredValue::Object(pairs) => {
                let object: serde_json::Map<String, serde_json::Value> = pairs
                    .iter()
                    .map(|(k, leaf)| (k.clone(), json_leaf(leaf, &mut secrets)))
                    .collect();
                serde_json::Value::Object(object).to_string()
            }
        };
        let scope = scope_of(&stored.place, &deployment);
        public.push(scope.clone());
        public.push(stored.name.clone());
        let written = block_on(store.set_secret(&scope, &stored.name, &Secret::new(value.clone())));
        if let Err(e) = written {
            assert_no_leak(&e.to_string(), &secrets, &public);
            assert_no_leak(&format!("{e:?}"), &secrets, &public);
        } else {
            model.insert((scope, stored.name.clone()), value);
        }
    }

    let mut env: HashMap<String, String> = HashMap::new();
    let mut unfielded: HashMap<String, (String, String)> = HashMap::new();
    for (var, value) in &input.env {
        let text = match value {
            EnvValue::Plain(text) => text.clone(),
            EnvValue::ToStored { .. } if input.stored.is_empty() => continue,
            EnvValue::ToStored { index, field, url } => {
                let stored = &input.stored[usize::from(*index) % input.stored.len()];
                let text = reference_to(stored, field.as_ref(), *url);
                if field.is_none() && reads_back(&text, stored) {
                    let scope = scope_of(&stored.place, &deployment);
                    unfielded.insert(var.clone(), (scope, stored.name.clone()));
                } else {
                    unfielded.remove(var);
                }
                text
            }
        };
        if matches!(value, EnvValue::Plain(_)) {
            unfielded.remove(var);
        }
        public.push(var.clone());
        public.push(text.clone());
        env.insert(var.clone(), text);
    }

    let mut resolver = SecretsResolver::new(Arc::clone(&store), deployment.clone());
    if input.env_resolver {
        resolver = resolver.with_env_resolver(Arc::new(LocalEnvScopes));
    }
    let all = block_on(resolver.resolve_env(&env));
    let each: HashMap<&String, _> = env
        .iter()
        .map(|(var, value)| (var, block_on(resolver.resolve_value(value))))
        .collect();

    for result in each.values() {
        if let Err(e) = result {
            assert_no_leak(&e.to_string(), &secrets, &public);
            assert_no_leak(&format!("{e:?}"), &secrets, &public);
        }
    }
    match all {
        Ok(resolved) => {
            assert_eq!(resolved.len(), env.len(), "variables were added or lost");
            for (var, value) in &env {
                let out = &resolved[var];
                match &each[var] {
                    Ok(one) => assert_eq!(out, one, "resolve_env and resolve_value disagree"),
                    Err(e) => panic!("resolve_env succeeded where resolve_value failed: {e}"),
                }
                if !SecretRef::looks_like_reference(value) {
                    assert_eq!(out, value, "a plain value was changed");
                }
                if let Some(key) = unfielded.get(var) {
                    if let Some(stored) = model.get(key) {
                        assert_eq!(out, stored, "a reference resolved to another value");
                    }
                }
            }
        }
        Err(e) => {
            assert!(
                each.values().any(Result::is_err),
                "resolve_env failed where every resolve_value succeeded: {e}"
            );
            assert_no_leak(&e.to_string(), &secrets, &public);
            assert_no_leak(&format!("{e:?}"), &secrets, &public);
        }
    }
});
