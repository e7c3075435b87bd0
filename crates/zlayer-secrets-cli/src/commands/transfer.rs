//! `import` and `export`.

use std::collections::{BTreeMap, HashMap};
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde_json::json;
use zeroize::Zeroizing;
use zlayer_secrets::{Secret, SecretsError, WriteOp, validate_name};
use zlayer_secrets_formats::{Format, Place, dotenv, shell};

use crate::backend::Backend;
use crate::cli::Output;
use crate::formats::{self, ExportFormat, FormatArg, MAX_ENTRIES};
use crate::output;
use crate::output::note;
use crate::progress::Progress;
use crate::value::{read_limited_sized, unbuffered_stdin};

/// The largest file `import` and `run --env-file` read, in bytes (16 MiB): room for 16
/// values of the store's largest size (1 MiB), or for a few of them written with every
/// character escaped, and small enough that reading and parsing the file (a few times its
/// size in memory) stays cheap.
pub(crate) const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// Reads a text file (or stdin for `-`) of at most [`MAX_FILE_BYTES`] into memory that is
/// wiped afterwards. A file's buffer is allocated once, at its size.
pub(crate) fn read_text_file(path: &Path) -> anyhow::Result<Zeroizing<String>> {
    let shown = path.display().to_string();
    let bytes = if path == Path::new("-") {
        read_limited_sized(unbuffered_stdin()?, "standard input", MAX_FILE_BYTES, 0)?
    } else {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {shown}"))?;
        let size = file
            .metadata()
            .with_context(|| format!("cannot read the size of {shown}"))?
            .len();
        if size > MAX_FILE_BYTES as u64 {
            bail!(
                "{shown} is {size} bytes, more than the limit of {MAX_FILE_BYTES} bytes (16 MiB) for one file; split it"
            );
        }
        let size = usize::try_from(size).unwrap_or(MAX_FILE_BYTES);
        read_limited_sized(file, &shown, MAX_FILE_BYTES, size)?
    };
    let mut bytes = bytes;
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            let valid_up_to = e.utf8_error().valid_up_to();
            drop(Zeroizing::new(e.into_bytes()));
            bail!("{shown} is not UTF-8 text (invalid byte at offset {valid_up_to})")
        }
    }
}

/// What an import does to one name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Created,
    Updated,
    Unchanged,
}

impl Change {
    fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
        }
    }
}

/// `import FILE`.
pub(crate) async fn import(
    backend: &Backend,
    scope: &str,
    file: &Path,
    format: Option<FormatArg>,
    dry_run: bool,
    out: Output,
) -> anyhow::Result<()> {
    let shown = file.display().to_string();
    let text = read_text_file(file)?;
    let format = format.map_or_else(|| Format::detect(&text), Format::from);
    let read = zlayer_secrets_formats::read(&text, format, MAX_ENTRIES)
        .map_err(|e| formats::problems(&shown, &e))?;
    drop(text);
    for warning in &read.warnings {
        note!("warning: {shown}: {warning}");
    }

    // Every invalid name and every name given twice is reported, not only the first.
    let mut problems = Vec::new();
    let mut entries: BTreeMap<String, (Secret, Place)> = BTreeMap::new();
    for pair in read.pairs {
        if let Err(e) = validate_name(&pair.key) {
            problems.push(format!("{}: {e}", pair.place));
            continue;
        }
        if let Some((_, first)) = entries.get(&pair.key) {
            problems.push(format!(
                "{}: \"{}\" is defined again (first at {first})",
                pair.place,
                pair.key.escape_debug()
            ));
            continue;
        }
        entries.insert(pair.key, (pair.value, pair.place));
    }
    if !problems.is_empty() {
        return Err(formats::problems(&shown, &problems));
    }

    let names: Vec<&str> = entries.keys().map(String::as_str).collect();
    // A secret that holds no text (see `text_values`) is overwritten: it counts as updated.
    let (current, not_text) = text_values(backend, scope, &names).await?;
    let mut changes = Vec::with_capacity(entries.len());
    let mut ops = Vec::new();
    for (name, (value, _)) in entries {
        let change = match current.get(&name) {
            None if not_text.iter().any(|(n, _)| *n == name) => Change::Updated,
            None => Change::Created,
            Some(old) if old.expose() == value.expose() => Change::Unchanged,
            Some(_) => Change::Updated,
        };
        if change != Change::Unchanged {
            ops.push(WriteOp::Set {
                scope: scope.to_owned(),
                name: name.clone(),
                value,
            });
        }
        changes.push((name, change));
    }
    drop(current);

    if !dry_run && !ops.is_empty() {
        if !backend.batch.is_atomic() {
            note!("warning: this backend cannot apply an import all-or-nothing");
        }
        let progress = Progress::spinner(&format!("writing {} secrets", ops.len()));
        let result = backend.batch.apply_batch(&ops).await;
        progress.finish();
        result?;
    }

    let count = |c: Change| changes.iter().filter(|(_, x)| *x == c).count();
    let (created, updated, unchanged) = (
        count(Change::Created),
        count(Change::Updated),
        count(Change::Unchanged),
    );
    let verb = if dry_run { "would import" } else { "imported" };
    match out {
        Output::Json => output::json(&json!({
            "scope": scope,
            "dry_run": dry_run,
            "created": created,
            "updated": updated,
            "unchanged": unchanged,
            "secrets": changes.iter().map(|(n, c)| json!({"name": n, "change": c.as_str()})).collect::<Vec<_>>(),
        })),
        Output::Table => output::line(&format!(
            "{verb} {} into `{scope}`: {created} created, {updated} updated, {unchanged} unchanged",
            changes.len()
        )),
    }
}

/// `export`.
pub(crate) async fn export(
    backend: &Backend,
    scope: &str,
    format: ExportFormat,
    to: Option<&Path>,
) -> anyhow::Result<()> {
    let list = backend.store.list_secrets(scope).await?;
    let names: Vec<&str> = list.iter().map(|m| m.name.as_str()).collect();
    let (values, not_text) = text_values(backend, scope, &names).await?;
    for (name, found) in &not_text {
        note!(
            "warning: not exported: {} holds no text value (its `value` field is {found}, not \
             a string)",
            zlayer_secrets::label(scope, name)
        );
    }
    let mut entries = Vec::with_capacity(values.len());
    for meta in &list {
        // A secret deleted between the two calls is simply not exported.
        if let Some(v) = values.get(&meta.name) {
            entries.push((meta.name.clone(), v.clone()));
        }
    }
    drop(values);
    let text = match format {
        ExportFormat::Env => env_text(scope, &entries)?,
        ExportFormat::Json => zlayer_secrets_formats::json::write(&entries),
        ExportFormat::Shell => lines_text(scope, &entries, "shell", shell::write_shell_entry)?,
        ExportFormat::Docker => lines_text(scope, &entries, "docker", shell::write_docker_entry)?,
    };
    match to {
        None => output::stdout_bytes(text.as_bytes())?,
        Some(path) => write_new_private_file(path, text.as_bytes())?,
    }
    match entries.len() {
        1 => note!("exported 1 secret from `{scope}`"),
        n => note!("exported {n} secrets from `{scope}`"),
    }
    Ok(())
}

/// The dotenv text of `entries`, or (writing nothing) an error naming every secret that
/// cannot be written so that every common dotenv reader reads it back unchanged.
fn env_text(scope: &str, entries: &[(String, Secret)]) -> anyhow::Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::with_capacity(
        entries.iter().map(|(k, v)| k.len() + v.len() * 2 + 4).sum(),
    ));
    let mut refused = Vec::new();
    for (name, value) in entries {
        if let Err(why) = dotenv::write_entry(&mut text, name, value.expose()) {
            refused.push(format!("{}: {why}", zlayer_secrets::label(scope, name)));
        }
    }
    match refused.as_slice() {
        [] => Ok(text),
        [one] => bail!(
            "cannot export as dotenv so that every reader (python-dotenv, dotenvy, \
             zlayer-secret import) reads it back unchanged, nothing written: {one}; export \
             with --format json instead"
        ),
        many => bail!(
            "cannot export {} secrets as dotenv so that every reader (python-dotenv, dotenvy, \
             zlayer-secret import) reads them back unchanged, nothing written; export with \
             --format json instead:\n  {}",
            many.len(),
            many.join("\n  ")
        ),
    }
}

/// The text of `entries` written one by one with `write` (`--format shell` or `docker`), or
/// (writing nothing) an error naming every secret the format cannot hold.
fn lines_text(
    scope: &str,
    entries: &[(String, Secret)],
    format: &str,
    write: fn(&mut Zeroizing<String>, &str, &str) -> Result<(), shell::NotWritable>,
) -> anyhow::Result<Zeroizing<String>> {
    let mut text = Zeroizing::new(String::new());
    let mut refused = Vec::new();
    for (name, value) in entries {
        if let Err(why) = write(&mut text, name, value.expose()) {
            refused.push(format!("{}: {why}", zlayer_secrets::label(scope, name)));
        }
    }
    if refused.is_empty() {
        return Ok(text);
    }
    bail!(
        "cannot export as {format}, nothing written (export with --format json instead):\n  {}",
        refused.join("\n  ")
    )
}

/// The values of `names` in `scope`, like `get_secrets`, and apart from them the secrets
/// that exist but hold no text value (data another tool wrote to Vault, such as a `value`
/// field that is a number or `null`), each with what it holds instead.
async fn text_values(
    backend: &Backend,
    scope: &str,
    names: &[&str],
) -> anyhow::Result<(HashMap<String, Secret>, Vec<(String, &'static str)>)> {
    match backend.store.get_secrets(scope, names).await {
        Ok(values) => return Ok((values, Vec::new())),
        Err(SecretsError::NotText { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    // One of them holds no text: read them one by one to tell which.
    let mut values = HashMap::with_capacity(names.len());
    let mut not_text = Vec::new();
    for &name in names {
        match backend.store.get_secret(scope, name).await {
            Ok(value) => {
                values.insert(name.to_owned(), value);
            }
            Err(SecretsError::NotFound { .. }) => {}
            Err(SecretsError::NotText { found, .. }) => not_text.push((name.to_owned(), found)),
            Err(e) => return Err(e.into()),
        }
    }
    Ok((values, not_text))
}

/// Creates `path` (which must not exist) readable by its owner only, and writes `bytes`.
fn write_new_private_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {shown} (it must not exist yet)"))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {shown}"))
}
