//! `inject` and `read`: templates rendered with their secrets, one reference's value.
//!
//! Both resolve as `run` does: the local store (or Vault) through a [`SecretsResolver`], a
//! server in one request (which, for `inject`, holds the template's text: the server
//! renders it).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;
use zlayer_secrets::crypto::ownership::write_private_file;
use zlayer_secrets::{SecretRef, SecretsProvider, SecretsResolver, Template};

use crate::backend::Backend;
use crate::commands::transfer::read_text_file;
use crate::output::stdout_bytes;

/// Resolves the values of `env` (variable to value: references, templates, plain values)
/// with `resolver` (over `backend`'s store); a server does it in one request, with the
/// caller's rights.
pub(crate) async fn resolve(
    backend: &Backend,
    resolver: &SecretsResolver<Arc<dyn SecretsProvider>>,
    env: &HashMap<String, String>,
) -> zlayer_secrets::Result<Vec<(String, Zeroizing<String>)>> {
    let values = match &backend.remote {
        Some(remote) => remote.resolve_env(resolver.scope(), env).await?,
        None => resolver.resolve_env(env).await?,
    };
    Ok(values
        .into_iter()
        .map(|(k, v)| (k, Zeroizing::new(v)))
        .collect())
}

/// Resolves one value (a reference, or text with placeholders) against `backend`, as
/// [`SecretsResolver::resolve_value`] does: locally, or by a server in one request (under
/// the empty key, which stands for no variable, so that the errors are the same).
async fn resolve_one(
    backend: &Backend,
    scope: &str,
    value: &str,
) -> anyhow::Result<Zeroizing<String>> {
    let Some(remote) = &backend.remote else {
        return Ok(Zeroizing::new(
            backend.resolver(scope).resolve_value(value).await?,
        ));
    };
    let env = HashMap::from([(String::new(), value.to_owned())]);
    let mut values = remote.resolve_env(scope, &env).await?;
    Ok(Zeroizing::new(values.remove("").unwrap_or_default()))
}

/// `inject -i TEMPLATE [-o OUT]`: every placeholder resolved before anything is written;
/// OUT created 0600 and replaced atomically, or stdout.
pub(crate) async fn inject(
    backend: Backend,
    scope: &str,
    input: &Path,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let shown = if input == Path::new("-") {
        "standard input".to_owned()
    } else {
        input.display().to_string()
    };
    let text = read_text_file(input)?;
    // Parsed first, so that a malformed placeholder is reported as the template's.
    Template::parse(&text).with_context(|| format!("{shown} is not a valid template"))?;
    let rendered = resolve_one(&backend, scope, &text)
        .await
        .with_context(|| format!("cannot render {shown}; nothing was written"))?;
    drop((backend, text));
    match output {
        Some(path) => write_private_file(path, rendered.as_bytes(), "output file")
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => stdout_bytes(rendered.as_bytes())?,
    }
    Ok(())
}

/// `read REF`: the value of one reference (a field of it, with `/field`), with a newline
/// unless `no_newline`.
pub(crate) async fn read(
    backend: Backend,
    scope: &str,
    reference: &str,
    no_newline: bool,
) -> anyhow::Result<()> {
    // The argument is not repeated: it may be a value pasted where a reference belongs.
    if !SecretRef::looks_like_reference(reference) {
        bail!(
            "the argument is not a secret reference: one starts with `$S:` or `$secret://` \
             (in single quotes, so that the shell leaves `$S` alone)"
        );
    }
    SecretRef::try_parse(reference).map_err(|e| anyhow::anyhow!("{e}"))?;
    let value = resolve_one(&backend, scope, reference).await?;
    drop(backend);
    let mut out = Zeroizing::new(Vec::with_capacity(value.len() + 1));
    out.extend_from_slice(value.as_bytes());
    if !no_newline {
        out.push(b'\n');
    }
    stdout_bytes(&out)
}
