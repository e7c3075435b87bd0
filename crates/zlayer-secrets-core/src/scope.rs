//! Scopes: where a secret lives, and how environments map to scope strings.

use async_trait::async_trait;

use crate::{Result, SecretsError};

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
    fn local_env_scopes() {
        assert_eq!(LocalEnvScopes::scope_for(None, "prod"), "env:prod");
        assert_eq!(
            LocalEnvScopes::scope_for(Some("shop"), "prod"),
            "project:shop:env:prod"
        );
    }
}
