//! Scopes: where a secret lives, and how environments map to scope strings.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{Result, SecretsError};

/// The deployment / service scope of a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SecretScope {
    /// Shared by every service of a deployment.
    Deployment(String),
    /// Visible to one service of a deployment.
    Service {
        /// The deployment the service belongs to.
        deployment: String,
        /// The service.
        service: String,
    },
}

impl SecretScope {
    /// A deployment scope.
    pub fn deployment(name: impl Into<String>) -> Self {
        Self::Deployment(name.into())
    }

    /// A service scope.
    pub fn service(deployment: impl Into<String>, service: impl Into<String>) -> Self {
        Self::Service {
            deployment: deployment.into(),
            service: service.into(),
        }
    }

    /// A path-like key prefix for hierarchical stores:
    /// `deployments/{d}/secrets` or `deployments/{d}/services/{s}/secrets`.
    #[must_use]
    pub fn to_key_prefix(&self) -> String {
        match self {
            Self::Deployment(d) => format!("deployments/{d}/secrets"),
            Self::Service {
                deployment,
                service,
            } => {
                format!("deployments/{deployment}/services/{service}/secrets")
            }
        }
    }

    /// The scope string the resolver and the stores use: `deployment` or
    /// `deployment/service`.
    #[must_use]
    pub fn as_store_scope(&self) -> String {
        match self {
            Self::Deployment(d) => d.clone(),
            Self::Service {
                deployment,
                service,
            } => format!("{deployment}/{service}"),
        }
    }

    /// The deployment this scope belongs to.
    #[must_use]
    pub fn deployment_name(&self) -> &str {
        match self {
            Self::Deployment(d) => d,
            Self::Service { deployment, .. } => deployment,
        }
    }

    /// The service, for a service scope.
    #[must_use]
    pub fn service_name(&self) -> Option<&str> {
        match self {
            Self::Deployment(_) => None,
            Self::Service { service, .. } => Some(service),
        }
    }
}

/// Maps an environment (by name or id, optionally within a project) to the scope string of
/// the backing store. Used by the resolver for `$S::env/...`, `$S:project:env/...` and
/// `$secret://env/...` references.
#[async_trait]
pub trait EnvScopeProvider: Send + Sync {
    /// The scope of an environment that belongs to no project.
    async fn resolve_env_scope(&self, name_or_id: &str) -> Result<String>;

    /// The scope of an environment within a project (`None`: no project). The default
    /// handles `None` with [`resolve_env_scope`](Self::resolve_env_scope) and refuses
    /// projects.
    async fn resolve_project_env_scope(&self, project: Option<&str>, env: &str) -> Result<String> {
        match project {
            None => self.resolve_env_scope(env).await,
            Some(p) => Err(SecretsError::Provider(format!(
                "this environment resolver does not know projects (project `{p}`, environment `{env}`)"
            ))),
        }
    }
}

/// The plain local mapping: environment `e` is scope `env:e`, and environment `e` of
/// project `p` is scope `project:p:env:e`. The CLI uses it.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalEnvScopes;

impl LocalEnvScopes {
    /// The scope string for an environment, without going through async.
    #[must_use]
    pub fn scope_for(project: Option<&str>, env: &str) -> String {
        match project {
            Some(p) => format!("project:{p}:env:{env}"),
            None => format!("env:{env}"),
        }
    }
}

#[async_trait]
impl EnvScopeProvider for LocalEnvScopes {
    async fn resolve_env_scope(&self, name_or_id: &str) -> Result<String> {
        Ok(Self::scope_for(None, name_or_id))
    }

    async fn resolve_project_env_scope(&self, project: Option<&str>, env: &str) -> Result<String> {
        Ok(Self::scope_for(project, env))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_prefixes() {
        assert_eq!(
            SecretScope::deployment("d").to_key_prefix(),
            "deployments/d/secrets"
        );
        let s = SecretScope::service("d", "api");
        assert_eq!(s.to_key_prefix(), "deployments/d/services/api/secrets");
        assert_eq!(s.as_store_scope(), "d/api");
        assert_eq!(s.deployment_name(), "d");
        assert_eq!(s.service_name(), Some("api"));
    }

    #[test]
    fn local_env_scopes() {
        assert_eq!(LocalEnvScopes::scope_for(None, "prod"), "env:prod");
        assert_eq!(
            LocalEnvScopes::scope_for(Some("shop"), "prod"),
            "project:shop:env:prod"
        );
    }
}
