//! Whole environments: every secret of a scope as a variable, layered over other
//! environments ([`SecretsResolver::plan_all`], [`SecretsResolver::resolve_all`]).

use std::collections::{BTreeMap, BTreeSet};

use zeroize::Zeroizing;

use crate::{Result, SecretsError, SecretsProvider, is_reserved_scope, validate_scope};

use super::SecretsResolver;

/// Which secret each variable of a whole environment comes from: names and scopes, never
/// values ([`SecretsResolver::plan_all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvPlan {
    /// Variable (the secret's name) to the scope it is read from.
    entries: BTreeMap<String, String>,
    /// Secrets whose names cannot be variable names, with their scopes.
    skipped: Vec<(String, String)>,
    /// The scopes, lowest layer first.
    layers: Vec<String>,
}

impl EnvPlan {
    /// Each variable, in name order, with the scope its secret is read from.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, s)| (n.as_str(), s.as_str()))
    }

    /// The scopes listed, lowest layer first (the deployment scope last).
    pub fn layers(&self) -> impl Iterator<Item = &str> {
        self.layers.iter().map(String::as_str)
    }

    /// How many variables the plan sets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the plan sets no variable.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes `name` out of the plan (its variable is then left as it is); the scope it
    /// would have been read from.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.entries.remove(name)
    }

    /// The secrets left out because their names are not variable names
    /// ([`is_variable_name`]), each with its scope, in name order.
    pub fn skipped(&self) -> impl Iterator<Item = (&str, &str)> {
        self.skipped.iter().map(|(n, s)| (n.as_str(), s.as_str()))
    }
}

/// Whether `name` can be an environment variable's name as shells write them: an ASCII
/// letter or `_`, then ASCII letters, digits and `_`.
#[must_use]
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl<P: SecretsProvider> SecretsResolver<P> {
    /// Plans a whole environment: every secret of the deployment scope as a variable of its
    /// name, over every secret of the environments `under` (each `(project, environment)`
    /// mapped by the [`EnvScopeProvider`](crate::EnvScopeProvider)). A later layer wins over
    /// an earlier one and the deployment scope over all.
    ///
    /// With `only`, just those names are planned; a name of `only` that no layer holds is
    /// [`SecretsError::NotFound`]. Secrets whose names cannot be variable names are left out
    /// and listed in [`EnvPlan::skipped`]. Each scope is listed once
    /// ([`list_secrets`](SecretsProvider::list_secrets)); no value is read.
    pub async fn plan_all(
        &self,
        under: &[(Option<&str>, &str)],
        only: Option<&BTreeSet<String>>,
    ) -> Result<EnvPlan> {
        let mut scopes = Vec::with_capacity(under.len() + 1);
        for (project, env) in under {
            let scope = match &self.env_resolver {
                Some(envs) => envs.resolve_project_env_scope(*project, env).await?,
                None => return Err(SecretsError::NoEnvResolver),
            };
            scopes.push(scope);
        }
        scopes.push(self.scope.clone());

        let mut entries: BTreeMap<String, String> = BTreeMap::new();
        let mut skipped: BTreeMap<String, String> = BTreeMap::new();
        for scope in &scopes {
            validate_scope(scope)?;
            if is_reserved_scope(scope) {
                return Err(SecretsError::ReservedScope {
                    scope: scope.clone(),
                });
            }
            tracing::debug!(scope = %scope, "listing the secrets of one layer");
            for meta in self.provider.list_secrets(scope).await? {
                if only.is_some_and(|only| !only.contains(&meta.name)) {
                    continue;
                }
                if is_variable_name(&meta.name) {
                    entries.insert(meta.name, scope.clone());
                } else {
                    skipped.insert(meta.name, scope.clone());
                }
            }
        }
        if let Some(only) = only
            && let Some(missing) = only.iter().find(|name| {
                !entries.contains_key(name.as_str()) && !skipped.contains_key(name.as_str())
            })
        {
            return Err(SecretsError::NotFound {
                name: format!("`{missing}` in {}", scopes.join(", ")),
            });
        }
        Ok(EnvPlan {
            entries,
            skipped: skipped.into_iter().collect(),
            layers: scopes,
        })
    }

    /// The values of `plan`, in name order: one
    /// [`get_secrets`](SecretsProvider::get_secrets) per scope, for the names that scope
    /// wins. A secret deleted since the plan was made is [`SecretsError::NotFound`].
    pub async fn resolve_all(&self, plan: &EnvPlan) -> Result<Vec<(String, Zeroizing<String>)>> {
        let mut by_scope: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, scope) in plan.entries() {
            by_scope.entry(scope).or_default().push(name);
        }
        let mut values: BTreeMap<&str, Zeroizing<String>> = BTreeMap::new();
        for (scope, names) in &by_scope {
            tracing::debug!(scope = %scope, names = names.len(), "reading one layer");
            let mut secrets = self.provider.get_secrets(scope, names).await?;
            for name in names {
                let secret = secrets
                    .remove(*name)
                    .ok_or_else(|| SecretsError::NotFound {
                        name: crate::label(scope, name),
                    })?;
                values.insert(name, Zeroizing::new(secret.expose().to_owned()));
            }
        }
        Ok(values
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::is_variable_name;

    #[test]
    fn variable_names() {
        for ok in ["A", "_", "DB_PASSWORD", "a1", "_x9"] {
            assert!(is_variable_name(ok), "{ok}");
        }
        for bad in ["", "1A", "db-password", "a.b", "É", "A B", "a=b"] {
            assert!(!is_variable_name(bad), "{bad}");
        }
    }
}
