//! [`SecretsResolver`]: turns `$S:` and `$secret://` references into secret values.

mod field;
mod whole;

pub use field::{JsonFieldError, json_field};
pub use whole::{EnvPlan, is_variable_name};

use std::collections::{BTreeMap, BTreeSet, HashMap, btree_map};
use std::fmt;
use std::sync::Arc;

use zeroize::Zeroizing;
use zlayer_secrets_ref::ParseError;

use crate::{
    EnvScopeProvider, Result, SecretRef, SecretsError, SecretsProvider, Template,
    is_reserved_scope, label, validate_name, validate_scope,
};

/// Resolves secret references in configuration values and environment maps.
///
/// | reference | read from scope |
/// |---|---|
/// | `$S:name[/field]` | the deployment scope given to [`new`](Self::new) |
/// | `$S:@service/name[/field]` | `{scope}/{service}` |
/// | `$S::env/name[/field]`, `$secret://env/name[/field]` | the scope the [`EnvScopeProvider`] gives for `env` |
/// | `$S:project:env/name[/field]` | the scope the [`EnvScopeProvider`] gives for `project` and `env` |
///
/// Environment-scoped references need an [`EnvScopeProvider`]
/// ([`with_env_resolver`](Self::with_env_resolver)); without one they fail with a clear
/// error. With a `/field`, the secret's value must be a JSON object: strings come out as
/// they are, numbers and booleans as text, `null` as the empty string, objects and arrays
/// as compact JSON.
///
/// A reference never reads a reserved scope ([`is_reserved_scope`]: `_zlayer`, where
/// API-key hashes, registry and Git credentials and grants are kept): a deployment scope,
/// service scope or environment mapping that leads to one fails with
/// [`SecretsError::ReservedScope`] (in an [`Unresolved`](SecretsError::Unresolved); see
/// [`is_access_denied`](SecretsError::is_access_denied)) before anything is read.
///
/// A value that is exactly a reference becomes the secret's value. Inside a longer value,
/// references go in `{{ }}` placeholders (`postgres://app:{{ $S:pw }}@db`; syntax and the
/// `\{{` escape in [`Template`]); other values pass through unchanged. A value that starts
/// like a reference but is malformed is an error ([`SecretsError::InvalidReference`]), as
/// is a placeholder holding one ([`SecretsError::InvalidPlaceholder`]); neither is passed
/// through. A value mentioning `$S:` anywhere else passes through with a warning (`tracing`,
/// target `zlayer_secrets::stray_reference`, naming the variable). Errors name the environment variable and the reference, never a
/// value:
///
/// - a missing secret or field is [`SecretsError::NotFound`], whose `name` reads
///   ``shop/db (`$S:db`, environment variable `DB`)``;
/// - any other failure of one reference is [`SecretsError::Unresolved`] (the reference, the
///   variable, the scope once known, and the cause), and a failed read of a scope that
///   several references share is [`SecretsError::ScopeFailed`] (the scope, the variables,
///   and the cause); [`root_cause`](SecretsError::root_cause) is the cause.
///
/// Logs (`tracing`, at debug level) hold counts and scopes, never values.
///
/// ```
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// # block_on(async {
/// use std::collections::HashMap;
/// use std::sync::Arc;
/// use zlayer_secrets_core::{LocalEnvScopes, MemoryStore, Secret, SecretsResolver, SecretsStore};
///
/// let store = MemoryStore::new();
/// store.set_secret("shop", "db", &Secret::new(r#"{"user":"app","port":5432}"#)).await?;
/// store.set_secret("env:prod", "API_KEY", &Secret::new("k-123")).await?;
///
/// let resolver = SecretsResolver::new(store, "shop").with_env_resolver(Arc::new(LocalEnvScopes));
/// let env = HashMap::from([
///     ("DB_USER".to_owned(), "$S:db/user".to_owned()),
///     ("DB_PORT".to_owned(), "$S:db/port".to_owned()),
///     ("API_KEY".to_owned(), "$secret://prod/API_KEY".to_owned()),
///     ("LOG_LEVEL".to_owned(), "info".to_owned()),
/// ]);
/// let resolved = resolver.resolve_env(&env).await?;
/// assert_eq!(resolved["DB_USER"], "app");
/// assert_eq!(resolved["DB_PORT"], "5432");
/// assert_eq!(resolved["API_KEY"], "k-123");
/// assert_eq!(resolved["LOG_LEVEL"], "info");
/// # Ok::<(), zlayer_secrets_core::SecretsError>(())
/// # }).unwrap();
/// ```
pub struct SecretsResolver<P: SecretsProvider> {
    provider: P,
    scope: String,
    env_resolver: Option<Arc<dyn EnvScopeProvider>>,
}

impl<P: SecretsProvider> SecretsResolver<P> {
    /// A resolver reading from `provider`, with `scope` as the deployment scope.
    pub fn new(provider: P, scope: impl Into<String>) -> Self {
        Self {
            provider,
            scope: scope.into(),
            env_resolver: None,
        }
    }

    /// Maps environments to scopes with `env_resolver`, enabling `$S::env/...`,
    /// `$S:project:env/...` and `$secret://env/...` references.
    #[must_use]
    pub fn with_env_resolver(mut self, env_resolver: Arc<dyn EnvScopeProvider>) -> Self {
        self.env_resolver = Some(env_resolver);
        self
    }

    /// The provider secrets are read from.
    pub fn provider(&self) -> &P {
        &self.provider
    }

    /// The deployment scope.
    pub fn scope(&self) -> &str {
        &self.scope
    }

    /// Resolves one value: a reference becomes the secret's value (or field); `{{ }}`
    /// placeholders holding references ([`Template`]) are replaced by theirs (read with one
    /// [`get_secrets`](SecretsProvider::get_secrets) per scope); any other value comes
    /// back unchanged.
    pub async fn resolve_value(&self, value: &str) -> Result<String> {
        let reference = match classify(None, value)? {
            Value::Plain => return Ok(value.to_owned()),
            Value::Template(_) => {
                let mut resolved = self.resolve_entries(&[(None, value)]).await?;
                return Ok(resolved
                    .pop()
                    .map(|mut value| std::mem::take(&mut *value))
                    .unwrap_or_default());
            }
            Value::Whole(reference) => reference,
        };
        let site = Site {
            var: None,
            reference: &reference,
        };
        let scope = match env_key(&reference) {
            Some(key) => self.env_scope(&key, &site).await?,
            None => self.direct_scope(&reference, &site)?,
        };
        check_name(&reference, &site)?;
        tracing::debug!(scope = %scope, "resolving one secret reference");
        let secret = self
            .provider
            .get_secret(&scope, &reference.name)
            .await
            .map_err(|e| match e {
                SecretsError::NotFound { .. } => site.not_found(&label(&scope, &reference.name)),
                other => site.unresolved(Some(&scope), other),
            })?;
        Ok(std::mem::take(&mut *render(&secret, &scope, &site)?))
    }

    /// Resolves every value of an environment map (see [`resolve_value`](Self::resolve_value)):
    /// whole-value references and references in `{{ }}` placeholders alike.
    ///
    /// References are grouped by scope, and each scope is read once with one
    /// [`get_secrets`](SecretsProvider::get_secrets) call; each distinct environment is
    /// mapped to its scope once. Any malformed reference, missing secret or missing field
    /// fails the whole call; the error names the variable (the first one in name order when
    /// several are wrong) and its reference. A value that mentions `$S:` or `$secret://`
    /// but is neither a reference nor inside `{{ }}` passes through unchanged, with a
    /// warning (`tracing`) naming the variable.
    ///
    /// The empty key, which no environment variable can have, stands for a value of no
    /// variable: its errors name none, as those of [`resolve_value`](Self::resolve_value).
    pub async fn resolve_env(
        &self,
        env: &HashMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        let vars = entries_of(env);
        let resolved = self.resolve_entries(&vars).await?;
        Ok(vars
            .into_iter()
            .zip(resolved)
            .map(|((var, _), mut value)| {
                (
                    var.unwrap_or_default().to_owned(),
                    std::mem::take(&mut *value),
                )
            })
            .collect())
    }

    /// Resolves `entries` (variable, value), in order: one read per scope for all of them.
    async fn resolve_entries(
        &self,
        entries: &[(Option<&str>, &str)],
    ) -> Result<Vec<Zeroizing<String>>> {
        let values = classify_all(entries)?;
        let references = references_of(entries, &values);
        let (scopes, environments) = self.scopes_of(&references).await?;
        let mut wanted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for ((_, reference), scope) in references.iter().zip(&scopes) {
            wanted.entry(scope).or_default().insert(&reference.name);
        }
        tracing::debug!(
            variables = entries.len(),
            references = references.len(),
            scopes = wanted.len(),
            environments,
            "resolving secret references"
        );

        let mut fetched = HashMap::with_capacity(wanted.len());
        for (scope, names) in &wanted {
            let names: Vec<&str> = names.iter().copied().collect();
            tracing::debug!(scope = %scope, names = names.len(), "reading secrets of one scope");
            let secrets = self
                .provider
                .get_secrets(scope, &names)
                .await
                .map_err(|e| {
                    let mut variables: Vec<String> = references
                        .iter()
                        .zip(&scopes)
                        .filter(|(_, s)| s == scope)
                        .filter_map(|((var, _), _)| var.map(str::to_owned))
                        .collect();
                    variables.dedup();
                    SecretsError::ScopeFailed {
                        scope: (*scope).to_owned(),
                        variables,
                        source: Box::new(e),
                    }
                })?;
            fetched.insert(*scope, secrets);
        }

        // Each reference's value, in order; held in zeroizing buffers until every variable
        // has resolved, so that a failure part-way leaves no plaintext behind.
        let mut found: Vec<Zeroizing<String>> = Vec::with_capacity(references.len());
        for ((var, reference), scope) in references.iter().zip(&scopes) {
            let site = Site {
                var: *var,
                reference,
            };
            let secret = fetched
                .get(scope.as_str())
                .and_then(|secrets| secrets.get(&reference.name))
                .ok_or_else(|| site.not_found(&label(scope, &reference.name)))?;
            found.push(render(secret, scope, &site)?);
        }
        let mut found = found.into_iter();
        let mut resolved = Vec::with_capacity(entries.len());
        for ((_, text), value) in entries.iter().zip(&values) {
            resolved.push(match value {
                Value::Plain => Zeroizing::new((*text).to_owned()),
                Value::Whole(_) => found.next().unwrap_or_default(),
                Value::Template(template) => {
                    let parts: Vec<Zeroizing<String>> =
                        template.references().map_while(|_| found.next()).collect();
                    let mut parts = parts.iter();
                    template.render(|_| parts.next().map_or("", |p| p.as_str()))
                }
            });
        }
        Ok(resolved)
    }

    /// Where the secrets behind the references of `env` are kept: the scope and name of
    /// each, as [`resolve_env`](Self::resolve_env) would read them, without reading any
    /// value (environments are mapped to their scopes). What `zlayer-secret run --watch`
    /// polls the versions of.
    pub async fn locate_env(
        &self,
        env: &HashMap<String, String>,
    ) -> Result<BTreeSet<(String, String)>> {
        let entries = entries_of(env);
        let values = classify_all(&entries)?;
        let references = references_of(&entries, &values);
        let (scopes, _) = self.scopes_of(&references).await?;
        Ok(scopes
            .into_iter()
            .zip(&references)
            .map(|(scope, (_, reference))| (scope, reference.name.clone()))
            .collect())
    }

    /// The scope of each reference (and how many distinct environments were mapped): each
    /// environment is mapped once; a reserved scope or an invalid name is an error.
    async fn scopes_of(
        &self,
        references: &[(Option<&str>, &SecretRef)],
    ) -> Result<(Vec<String>, usize)> {
        let mut env_scopes: BTreeMap<EnvKey<'_>, String> = BTreeMap::new();
        for (var, reference) in references {
            if let Some(key) = env_key(reference)
                && let btree_map::Entry::Vacant(slot) = env_scopes.entry(key)
            {
                let site = Site {
                    var: *var,
                    reference,
                };
                slot.insert(self.env_scope(&key, &site).await?);
            }
        }
        let mut scopes: Vec<String> = Vec::with_capacity(references.len());
        for (var, reference) in references {
            let site = Site {
                var: *var,
                reference,
            };
            let scope = match env_key(reference).and_then(|key| env_scopes.get(&key)) {
                Some(scope) => scope.clone(),
                None => self.direct_scope(reference, &site)?,
            };
            check_name(reference, &site)?;
            scopes.push(scope);
        }
        Ok((scopes, env_scopes.len()))
    }

    /// The scope of a deployment- or service-level reference.
    fn direct_scope(&self, reference: &SecretRef, site: &Site<'_>) -> Result<String> {
        let scope = match &reference.service {
            Some(service) => format!("{}/{service}", self.scope),
            None => self.scope.clone(),
        };
        validate_scope(&scope).map_err(|e| site.unresolved(None, e))?;
        refuse_reserved(&scope, site)?;
        Ok(scope)
    }

    /// The scope of an environment, from the environment resolver.
    async fn env_scope(&self, key: &EnvKey<'_>, site: &Site<'_>) -> Result<String> {
        let Some(env_resolver) = &self.env_resolver else {
            return Err(site.unresolved(None, SecretsError::NoEnvResolver));
        };
        let (project, env) = *key;
        let mapping = |e| {
            let operation = match project {
                Some(project) => {
                    format!("map environment `{env}` of project `{project}` to a scope")
                }
                None => format!("map environment `{env}` to a scope"),
            };
            site.unresolved(None, SecretsError::during(operation, e))
        };
        let scope = env_resolver
            .resolve_project_env_scope(project, env)
            .await
            .map_err(mapping)?;
        validate_scope(&scope).map_err(mapping)?;
        refuse_reserved(&scope, site)?;
        tracing::debug!(scope = %scope, "mapped an environment to its scope");
        Ok(scope)
    }
}

impl<P: SecretsProvider + Clone> Clone for SecretsResolver<P> {
    fn clone(&self) -> Self {
        Self {
            provider: self.provider.clone(),
            scope: self.scope.clone(),
            env_resolver: self.env_resolver.clone(),
        }
    }
}

impl<P: SecretsProvider> fmt::Debug for SecretsResolver<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretsResolver")
            .field("scope", &self.scope)
            .field("env_resolver", &self.env_resolver.is_some())
            .finish_non_exhaustive()
    }
}

/// What a value is to the resolver.
enum Value<'a> {
    /// No reference: passes through.
    Plain,
    /// Exactly one reference.
    Whole(SecretRef),
    /// Text with `{{ }}` placeholders or escapes.
    Template(Template<'a>),
}

impl Value<'_> {
    fn references(&self) -> Box<dyn Iterator<Item = &SecretRef> + '_> {
        match self {
            Value::Plain => Box::new(std::iter::empty()),
            Value::Whole(reference) => Box::new(std::iter::once(reference)),
            Value::Template(template) => Box::new(template.references()),
        }
    }
}

/// The (variable, value) pairs of `env` in name order, so that the error reported when
/// several values are wrong does not depend on hashing; the empty key is no variable.
fn entries_of(env: &HashMap<String, String>) -> Vec<(Option<&str>, &str)> {
    let mut entries: Vec<(Option<&str>, &str)> = env
        .iter()
        .map(|(k, v)| ((!k.is_empty()).then_some(k.as_str()), v.as_str()))
        .collect();
    entries.sort_unstable_by_key(|(var, _)| *var);
    entries
}

/// Each value of `entries` classified ([`classify`]); the first malformed one is the error.
fn classify_all<'a>(entries: &[(Option<&str>, &'a str)]) -> Result<Vec<Value<'a>>> {
    entries
        .iter()
        .map(|(var, value)| classify(*var, value))
        .collect()
}

/// Every reference of `values`, with the variable it is in: a template may hold several.
fn references_of<'v>(
    entries: &[(Option<&'v str>, &str)],
    values: &'v [Value<'_>],
) -> Vec<(Option<&'v str>, &'v SecretRef)> {
    entries
        .iter()
        .zip(values)
        .flat_map(|((var, _), value)| value.references().map(move |r| (*var, r)))
        .collect()
}

/// Sorts `value` (of variable `var`, if any) into plain, reference or template; a
/// malformed reference is an error, a stray one a warning naming the variable.
fn classify<'a>(var: Option<&str>, value: &'a str) -> Result<Value<'a>> {
    if SecretRef::looks_like_reference(value) {
        return SecretRef::try_parse(value)
            .map(Value::Whole)
            .map_err(|e| malformed(var, e));
    }
    // Text without `{{` parses to itself: the one rule for a stray `$S:` serves both.
    let template = Template::parse(value).map_err(|error| SecretsError::InvalidPlaceholder {
        variable: var.map(str::to_owned),
        error,
    })?;
    if template.stray_reference() {
        warn_stray(var);
    }
    // Even without references: the escape `\{{` still becomes `{{`.
    Ok(if value.contains("{{") {
        Value::Template(template)
    } else {
        Value::Plain
    })
}

/// A value mentions a reference that will not be replaced: say which variable, never the
/// value.
fn warn_stray(var: Option<&str>) {
    if let Some(var) = var {
        tracing::warn!(
            target: "zlayer_secrets::stray_reference",
            variable = var,
            "the value of `{var}` contains `$S:` or `$secret://` but is neither a whole \
             reference nor inside `{{{{ }}}}`: it is passed through unchanged"
        );
    } else {
        tracing::warn!(
            target: "zlayer_secrets::stray_reference",
            "a value contains `$S:` or `$secret://` but is neither a whole reference nor \
             inside `{{{{ }}}}`: it is passed through unchanged"
        );
    }
}

/// An environment as the resolver looks it up: (project, environment).
type EnvKey<'a> = (Option<&'a str>, &'a str);

fn env_key(reference: &SecretRef) -> Option<EnvKey<'_>> {
    reference
        .environment
        .as_deref()
        .map(|env| (reference.project.as_deref(), env))
}

/// Where a reference came from, for error messages: never holds a value.
struct Site<'a> {
    var: Option<&'a str>,
    reference: &'a SecretRef,
}

impl Site<'_> {
    /// `source` as the reason this reference could not be resolved.
    fn unresolved(&self, scope: Option<&str>, source: SecretsError) -> SecretsError {
        SecretsError::Unresolved {
            reference: self.reference.to_string(),
            variable: self.var.map(str::to_owned),
            scope: scope.map(str::to_owned),
            source: Box::new(source),
        }
    }

    /// `what` (a secret's label, or a field of one) is missing: a `NotFound` that also says
    /// where the reference is.
    fn not_found(&self, what: &str) -> SecretsError {
        SecretsError::NotFound {
            name: format!("{what} ({self})"),
        }
    }
}

impl fmt::Display for Site<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.reference)?;
        if let Some(var) = self.var {
            write!(f, ", environment variable `{var}`")?;
        }
        Ok(())
    }
}

/// The parser's error gives the offset and the reason without repeating the input, which
/// could be a secret pasted where a reference was expected.
fn malformed(var: Option<&str>, error: ParseError) -> SecretsError {
    SecretsError::InvalidReference {
        variable: var.map(str::to_owned),
        error,
    }
}

/// Refuses a scope that holds zlayer-secrets' own records: no reference may read them.
fn refuse_reserved(scope: &str, site: &Site<'_>) -> Result<()> {
    if is_reserved_scope(scope) {
        return Err(site.unresolved(
            None,
            SecretsError::ReservedScope {
                scope: scope.to_owned(),
            },
        ));
    }
    Ok(())
}

fn check_name(reference: &SecretRef, site: &Site<'_>) -> Result<()> {
    validate_name(&reference.name).map_err(|e| site.unresolved(None, e))
}

/// The value a reference stands for: the whole secret, or one field of it. `scope` is the
/// scope the secret was read from.
fn render(secret: &crate::Secret, scope: &str, site: &Site<'_>) -> Result<Zeroizing<String>> {
    let Some(field) = &site.reference.field else {
        return Ok(Zeroizing::new(secret.expose().to_owned()));
    };
    let name = &site.reference.name;
    field::extract(secret.expose(), field).map_err(|e| {
        let json_kind = match e {
            field::FieldError::Missing => {
                return site.not_found(&format!("field `{field}` of {}", label(scope, name)));
            }
            field::FieldError::NotJson => None,
            field::FieldError::NotAnObject(kind) => Some(kind),
        };
        site.unresolved(
            None,
            SecretsError::FieldUnreadable {
                scope: scope.to_owned(),
                name: name.clone(),
                field: field.clone(),
                json_kind,
            },
        )
    })
}
