//! The query of the secret routes: which scope a request is about.

use std::fmt;

use serde::{Deserialize, Serialize};
use zlayer_secrets_core::{LocalEnvScopes, is_reserved_scope, validate_scope, validate_scope_part};

/// The query string of the `/api/v1/secrets` routes, as in the original API: `scope=S`, or
/// `environment=E` with an optional `project=P`; neither means the scope `default`.
///
/// `reveal=true` adds the value to `GET /api/v1/secrets/{name}`; `exclusive=true` makes
/// `POST /api/v1/secrets` fail with 409 when the secret exists (ours beyond the original).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretQuery {
    /// A store scope written out (`shop`, `shop/api`, `env:prod`, `project:p:env:prod`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// An environment (scope `env:E`, or `project:P:env:E` with `project`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The project of `environment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Include the value (`GET /api/v1/secrets/{name}` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reveal: Option<bool>,
    /// Create only: 409 when the secret exists (`POST /api/v1/secrets` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclusive: Option<bool>,
}

/// Why a [`SecretQuery`] names no scope; the message is the response's error text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QueryError {}

/// The scope `DEFAULT_SCOPE` a query without `scope` and `environment` names.
pub const DEFAULT_SCOPE: &str = "default";

impl SecretQuery {
    /// A query naming `scope` exactly.
    #[must_use]
    pub fn for_scope(scope: &str) -> Self {
        Self {
            scope: Some(scope.to_owned()),
            ..Self::default()
        }
    }

    /// The store scope the query names: `scope`, else the environment's scope, else
    /// [`DEFAULT_SCOPE`]. `scope` and `environment` together, `project` without
    /// `environment`, invalid parts and the reserved scopes of zlayer-secrets' own records
    /// are refused.
    pub fn target_scope(&self) -> Result<String, QueryError> {
        let err = |text: String| Err(QueryError(text));
        match (&self.scope, &self.environment, &self.project) {
            (Some(_), Some(_), _) => {
                err("give either `scope` or `environment` (with `project`), not both".to_owned())
            }
            (_, None, Some(_)) => err("`project` needs `environment`".to_owned()),
            (Some(scope), None, None) => {
                if let Err(e) = validate_scope(scope) {
                    return err(format!("invalid scope: {e}"));
                }
                if is_reserved_scope(scope) {
                    return err(format!(
                        "scope `{}` is reserved for zlayer-secrets' own records",
                        scope.escape_debug()
                    ));
                }
                Ok(scope.clone())
            }
            (None, Some(env), project) => {
                if let Err(e) = validate_scope_part("environment", env) {
                    return err(e.to_string());
                }
                if let Some(p) = project
                    && let Err(e) = validate_scope_part("project", p)
                {
                    return err(e.to_string());
                }
                Ok(LocalEnvScopes::scope_for(project.as_deref(), env))
            }
            (None, None, None) => Ok(DEFAULT_SCOPE.to_owned()),
        }
    }

    /// Whether `reveal=true` was given.
    #[must_use]
    pub fn reveal(&self) -> bool {
        self.reveal == Some(true)
    }

    /// Whether `exclusive=true` was given.
    #[must_use]
    pub fn exclusive(&self) -> bool {
        self.exclusive == Some(true)
    }
}

/// Whether `scope` is an environment's scope (`env:E` or `project:P:env:E`), the scopes that
/// grants apply to.
#[must_use]
pub fn is_environment_scope(scope: &str) -> bool {
    if let Some(env) = scope.strip_prefix("env:") {
        return !env.is_empty() && !env.contains([':', '/']);
    }
    if let Some(rest) = scope.strip_prefix("project:")
        && let Some((project, env)) = rest.split_once(":env:")
    {
        return !project.is_empty()
            && !project.contains([':', '/'])
            && !env.is_empty()
            && !env.contains([':', '/']);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(scope: Option<&str>, env: Option<&str>, project: Option<&str>) -> SecretQuery {
        SecretQuery {
            scope: scope.map(str::to_owned),
            environment: env.map(str::to_owned),
            project: project.map(str::to_owned),
            ..SecretQuery::default()
        }
    }

    #[test]
    fn scopes() {
        assert_eq!(q(None, None, None).target_scope().unwrap(), "default");
        assert_eq!(
            q(Some("shop/api"), None, None).target_scope().unwrap(),
            "shop/api"
        );
        assert_eq!(
            q(None, Some("prod"), None).target_scope().unwrap(),
            "env:prod"
        );
        assert_eq!(
            q(None, Some("prod"), Some("shop")).target_scope().unwrap(),
            "project:shop:env:prod"
        );
        assert_eq!(
            q(Some("env:prod"), None, None).target_scope().unwrap(),
            "env:prod"
        );
    }

    #[test]
    fn bad_combinations_are_refused() {
        for bad in [
            q(Some("a"), Some("b"), None),
            q(None, None, Some("p")),
            q(Some("a"), None, Some("p")),
            q(Some("_zlayer/api_keys"), None, None),
            q(Some(""), None, None),
            q(None, Some("a:b"), None),
            q(None, Some(""), None),
            q(None, Some("e"), Some("x/y")),
        ] {
            assert!(bad.target_scope().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn environment_scopes() {
        for yes in ["env:prod", "project:shop:env:prod"] {
            assert!(is_environment_scope(yes), "{yes}");
        }
        for no in [
            "default",
            "shop/api",
            "env:",
            "env:a/b",
            "project:shop",
            "project::env:x",
            "_zlayer/grants",
        ] {
            assert!(!is_environment_scope(no), "{no}");
        }
    }
}
