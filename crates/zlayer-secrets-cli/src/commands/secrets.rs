//! The verbs on single secrets: `ls`, `create`, `get`, `set`, `rm`, `unset`, `rotate`,
//! `history`, `rollback`.

use anyhow::bail;
use serde_json::json;
use zlayer_secrets::{SecretsError, VersionState, label, validate_name};

use crate::backend::Backend;
use crate::cli::Output;
use crate::output;
use crate::output::note;
use crate::suggest;
use crate::value::ValueArgs;

/// `ls`.
pub(crate) async fn ls(backend: &Backend, scope: &str, out: Output) -> anyhow::Result<()> {
    let list = backend.store.list_secrets(scope).await?;
    match out {
        Output::Json => output::json(&json!({
            "scope": scope,
            "secrets": list.iter().map(|m| json!({
                "name": m.name,
                "version": m.version,
                "created_at": m.created_at,
                "updated_at": m.updated_at,
            })).collect::<Vec<_>>(),
        })),
        Output::Table => {
            if list.is_empty() {
                note!("no secrets in scope `{scope}`");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|m| {
                    vec![
                        m.name.clone(),
                        format!("v{}", m.version),
                        output::time(m.updated_at),
                        output::time(m.created_at),
                    ]
                })
                .collect();
            output::table(&["NAME", "VERSION", "UPDATED", "CREATED"], &rows)
        }
    }
}

/// The result of a write, for `--output json`: the stable keys `scope`, `name`, `version`
/// (now current) and `previous_version` (`null` for a new secret), and `changed`.
fn written(
    scope: &str,
    name: &str,
    version: u32,
    previous: Option<u32>,
    changed: bool,
) -> anyhow::Result<()> {
    output::json(&json!({
        "scope": scope,
        "name": name,
        "version": version,
        "previous_version": previous,
        "changed": changed,
    }))
}

/// `create`: fails if the secret exists, atomically (the store's `create_secret`: of
/// several processes creating one name at once exactly one succeeds).
pub(crate) async fn create(
    backend: &Backend,
    scope: &str,
    name: &str,
    value: &ValueArgs,
    out: Output,
) -> anyhow::Result<()> {
    validate_name(name)?;
    let secret = value.read()?;
    // Not always v1: on Vault, a secret whose current version was deleted with Vault's
    // tools does not exist, but its version numbers go on.
    let version = backend.store.create_secret(scope, name, &secret).await?;
    note!("created {} (v{version})", label(scope, name));
    if out == Output::Json {
        return written(scope, name, version, None, true);
    }
    Ok(())
}

/// How `set` writes: the value, `--force`, `--output`.
pub(crate) struct Write<'a> {
    pub(crate) value: &'a ValueArgs,
    pub(crate) force: bool,
    pub(crate) out: Output,
}

/// `set`: create or update; a value equal to the current one adds no version unless
/// `--force` (a `--random` value is always new).
pub(crate) async fn set(
    backend: &Backend,
    scope: &str,
    name: &str,
    write: &Write<'_>,
) -> anyhow::Result<()> {
    validate_name(name)?;
    let secret = write.value.read()?;
    // What cannot be read for the comparison (a key that may write but not read the
    // metadata, ...) is no reason not to try the write, which decides.
    let current = match backend.store.get_metadata(scope, name).await {
        Ok(meta) => Some(meta.version),
        Err(e) => {
            tracing::debug!(error = %e, "no current version to compare with");
            None
        }
    };
    if let Some(version) = current
        && !write.force
        && !write.value.is_random()
    {
        // The comparison reads exactly the current version; a value that is no text
        // (written by another tool to Vault) is simply different.
        match backend.store.get_secret_version(scope, name, version).await {
            Ok(old) if old.expose() == secret.expose() => {
                note!(
                    "{} unchanged (v{version}); --force writes a new version anyway",
                    label(scope, name)
                );
                if write.out == Output::Json {
                    return written(scope, name, version, Some(version), false);
                }
                return Ok(());
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "cannot compare with the current value"),
        }
    }
    let version = backend.store.write_secret(scope, name, &secret).await?;
    note!("stored {} (v{version})", label(scope, name));
    if write.out == Output::Json {
        return written(scope, name, version, current, true);
    }
    Ok(())
}

/// `get`: metadata, or the value with `--reveal`.
pub(crate) async fn get(
    backend: &Backend,
    scope: &str,
    name: &str,
    reveal: bool,
    version: Option<u32>,
    out: Output,
) -> anyhow::Result<()> {
    let result = get_unhinted(backend, scope, name, reveal, version, out).await;
    suggest::hinted(backend, scope, name, result).await
}

/// `get` itself; [`get`] adds the nearest name to a "not found".
async fn get_unhinted(
    backend: &Backend,
    scope: &str,
    name: &str,
    reveal: bool,
    version: Option<u32>,
    out: Output,
) -> anyhow::Result<()> {
    validate_name(name)?;
    if reveal && out == Output::Json {
        let (version, secret) = read_pinned(backend, scope, name, version).await?;
        return output::stdout_bytes(
            revealed_json(scope, name, version, secret.expose())?.as_bytes(),
        );
    }
    if reveal {
        let secret = match version {
            Some(v) => backend.store.get_secret_version(scope, name, v).await?,
            None => backend.store.get_secret(scope, name).await?,
        };
        return output::stdout_bytes(secret.expose().as_bytes());
    }
    let meta = backend.store.get_metadata(scope, name).await?;
    let version_info = match version {
        Some(v) => {
            let versions = backend.store.list_versions(scope, name).await?;
            let Some(found) = versions.into_iter().find(|x| x.version == v) else {
                return Err(SecretsError::NotFound {
                    name: format!("{} version {v}", label(scope, name)),
                }
                .into());
            };
            Some(found)
        }
        None => None,
    };
    match out {
        Output::Json => {
            let mut doc = json!({
                "scope": scope,
                "name": meta.name,
                "version": meta.version,
                "created_at": meta.created_at,
                "updated_at": meta.updated_at,
            });
            if let Some(v) = version_info {
                doc["requested_version"] =
                    json!({"version": v.version, "created_at": v.created_at});
            }
            output::json(&doc)
        }
        Output::Table => {
            let mut rows = vec![
                vec!["scope".to_owned(), scope.to_owned()],
                vec!["name".to_owned(), meta.name.clone()],
                vec!["version".to_owned(), format!("v{}", meta.version)],
                vec!["created".to_owned(), output::time(meta.created_at)],
                vec!["updated".to_owned(), output::time(meta.updated_at)],
            ];
            if let Some(v) = version_info {
                rows.push(vec![
                    "requested".to_owned(),
                    format!("v{} written {}", v.version, output::time(v.created_at)),
                ]);
            }
            output::table(&["FIELD", "VALUE"], &rows)
        }
    }
}

/// `get NAME --field PATH`: one field of a JSON value, printed as `--reveal` prints a value
/// (with `--output json`, as the object of `--reveal --output json`).
pub(crate) async fn get_field(
    backend: &Backend,
    scope: &str,
    name: &str,
    path: &str,
    version: Option<u32>,
    out: Output,
) -> anyhow::Result<()> {
    validate_name(name)?;
    let read = read_pinned(backend, scope, name, version)
        .await
        .map_err(Into::into);
    let (version, secret) = suggest::hinted(backend, scope, name, read).await?;
    let value = zlayer_secrets::json_field(secret.expose(), path)
        .map_err(|e| anyhow::anyhow!("{}: {e}", label(scope, name)))?;
    drop(secret);
    if out == Output::Json {
        return output::stdout_bytes(revealed_json(scope, name, version, &value)?.as_bytes());
    }
    output::stdout_bytes(value.as_bytes())
}

/// Version `version` of the secret (the current one if `None`) and that version's value:
/// the version is read first, then exactly its value, so that the pair belongs together.
async fn read_pinned(
    backend: &Backend,
    scope: &str,
    name: &str,
    version: Option<u32>,
) -> Result<(u32, zlayer_secrets::Secret), SecretsError> {
    let version = match version {
        Some(v) => v,
        None => backend.store.get_metadata(scope, name).await?.version,
    };
    let secret = backend
        .store
        .get_secret_version(scope, name, version)
        .await?;
    Ok((version, secret))
}

/// `get NAME --reveal --output json`: `{"name", "scope", "value", "version"}` and a newline,
/// in a buffer that is wiped when dropped (the value is escaped into it, never into a
/// `serde_json::Value`).
fn revealed_json(
    scope: &str,
    name: &str,
    version: u32,
    value: &str,
) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let value = zeroize::Zeroizing::new(serde_json::to_string(value)?);
    let mut text = zeroize::Zeroizing::new(String::with_capacity(value.len() + 128));
    text.push_str("{\n  \"name\": ");
    text.push_str(&serde_json::to_string(name)?);
    text.push_str(",\n  \"scope\": ");
    text.push_str(&serde_json::to_string(scope)?);
    text.push_str(",\n  \"value\": ");
    text.push_str(&value);
    text.push_str(",\n  \"version\": ");
    text.push_str(&version.to_string());
    text.push_str("\n}\n");
    Ok(text)
}

/// The names once each, in the order given (`rm a a` deletes and reports `a` once).
fn distinct(names: &[String]) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    names
        .iter()
        .filter(|name| seen.insert(name.as_str()))
        .cloned()
        .collect()
}

/// `rm`: every name must exist. Deletes nothing if one does not.
pub(crate) async fn rm(backend: &Backend, scope: &str, names: &[String]) -> anyhow::Result<()> {
    for name in names {
        validate_name(name)?;
    }
    let names = &distinct(names)[..];
    let mut missing = Vec::new();
    for name in names {
        if !backend.store.exists(scope, name).await? {
            missing.push(label(scope, name));
        }
    }
    if !missing.is_empty() {
        return Err(SecretsError::NotFound {
            name: missing.join(", "),
        }
        .into());
    }
    delete_all(backend, scope, names).await?;
    for name in names {
        note!("deleted {}", label(scope, name));
    }
    Ok(())
}

/// `unset`: deletes the names that exist; the others are fine.
pub(crate) async fn unset(backend: &Backend, scope: &str, names: &[String]) -> anyhow::Result<()> {
    for name in names {
        validate_name(name)?;
    }
    let names = &distinct(names)[..];
    let mut present = Vec::new();
    for name in names {
        if backend.store.exists(scope, name).await? {
            present.push(name.clone());
        } else {
            note!("{} was not set", label(scope, name));
        }
    }
    delete_all(backend, scope, &present).await?;
    for name in &present {
        note!("deleted {}", label(scope, name));
    }
    Ok(())
}

async fn delete_all(backend: &Backend, scope: &str, names: &[String]) -> anyhow::Result<()> {
    match names {
        [] => Ok(()),
        [one] => Ok(backend.store.delete_secret(scope, one).await?),
        many => {
            let ops: Vec<_> = many
                .iter()
                .map(|name| zlayer_secrets::WriteOp::Delete {
                    scope: scope.to_owned(),
                    name: name.clone(),
                })
                .collect();
            Ok(backend.batch.apply_batch(&ops).await?)
        }
    }
}

/// `rotate`: `NotFound` if absent.
pub(crate) async fn rotate(
    backend: &Backend,
    scope: &str,
    name: &str,
    value: &ValueArgs,
    out: Output,
) -> anyhow::Result<()> {
    let result = rotate_unhinted(backend, scope, name, value, out).await;
    suggest::hinted(backend, scope, name, result).await
}

/// `rotate` itself; [`rotate`] adds the nearest name to a "not found".
async fn rotate_unhinted(
    backend: &Backend,
    scope: &str,
    name: &str,
    value: &ValueArgs,
    out: Output,
) -> anyhow::Result<()> {
    validate_name(name)?;
    if !backend.store.exists(scope, name).await? {
        return Err(SecretsError::NotFound {
            name: label(scope, name),
        }
        .into());
    }
    let secret = value.read()?;
    let result = backend.store.rotate_secret(scope, name, &secret).await?;
    let Some(previous) = result.previous_version else {
        bail!(
            "the store created {} instead of rotating it",
            label(scope, name)
        );
    };
    note!("rotated {}", label(scope, name));
    if out == Output::Json {
        return written(scope, name, result.new_version, Some(previous), true);
    }
    output::line(&format!(
        "v{previous} {} v{}",
        output::arrow(),
        result.new_version
    ))
}

/// `history`: the readable versions, newest first, and the current one even when it was
/// deleted or destroyed with Vault's own tools (marked so).
pub(crate) async fn history(
    backend: &Backend,
    scope: &str,
    name: &str,
    out: Output,
) -> anyhow::Result<()> {
    let result = history_unhinted(backend, scope, name, out).await;
    suggest::hinted(backend, scope, name, result).await
}

/// `history` itself; [`history`] adds the nearest name to a "not found".
async fn history_unhinted(
    backend: &Backend,
    scope: &str,
    name: &str,
    out: Output,
) -> anyhow::Result<()> {
    validate_name(name)?;
    let history = backend.store.version_history(scope, name).await?;
    let current = history.current.version;
    let state = history.current_state;
    match out {
        Output::Json => output::json(&json!({
            "scope": scope,
            "name": name,
            "current": current,
            "current_state": state.as_str(),
            "versions": history.versions.iter().rev().map(|v| json!({
                "version": v.version,
                "created_at": v.created_at,
            })).collect::<Vec<_>>(),
        })),
        Output::Table => {
            let mut rows = Vec::with_capacity(history.versions.len() + 1);
            if state != VersionState::Live {
                rows.push(vec![
                    format!("v{current}"),
                    output::time(history.current.created_at),
                    format!("current ({})", state.as_str()),
                ]);
            }
            rows.extend(history.versions.iter().rev().map(|v| {
                vec![
                    format!("v{}", v.version),
                    output::time(v.created_at),
                    if v.version == current {
                        "current".to_owned()
                    } else {
                        String::new()
                    },
                ]
            }));
            output::table(&["VERSION", "WRITTEN", ""], &rows)
        }
    }
}

/// `rollback --to N`.
pub(crate) async fn rollback(
    backend: &Backend,
    scope: &str,
    name: &str,
    to: u32,
    out: Output,
) -> anyhow::Result<()> {
    let result = rollback_unhinted(backend, scope, name, to, out).await;
    suggest::hinted(backend, scope, name, result).await
}

/// `rollback` itself; [`rollback`] adds the nearest name to a "not found".
async fn rollback_unhinted(
    backend: &Backend,
    scope: &str,
    name: &str,
    to: u32,
    out: Output,
) -> anyhow::Result<()> {
    validate_name(name)?;
    let result = backend.store.rollback_secret(scope, name, to).await?;
    note!("rolled {} back to the value of v{to}", label(scope, name));
    if out == Output::Json {
        return written(
            scope,
            name,
            result.new_version,
            result.previous_version,
            true,
        );
    }
    let previous = result
        .previous_version
        .map_or_else(|| "none".to_owned(), |v| format!("v{v}"));
    output::line(&format!(
        "{previous} {} v{}",
        output::arrow(),
        result.new_version
    ))
}
