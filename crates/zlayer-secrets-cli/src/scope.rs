//! Which scope a command works on: an environment (`--env`, `--project`) or a deployment
//! (`--deployment`, `--service`).

use anyhow::bail;
use zlayer_secrets::{LocalEnvScopes, SecretScope, is_reserved_scope, validate_name};

/// Scope options shared by the verbs that address secrets.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ScopeArgs {
    /// Work on the secrets of this environment (scope `env:NAME`).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["deployment", "service"])]
    pub(crate) env: Option<String>,
    /// With `--env`: the environment belongs to this project (scope `project:P:env:NAME`).
    #[arg(long, value_name = "NAME", requires = "env")]
    pub(crate) project: Option<String>,
    /// Work on the secrets of this deployment.
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub(crate) deployment: String,
    /// With a deployment: the secrets of this one service (scope `DEPLOYMENT/SERVICE`).
    #[arg(long, value_name = "NAME")]
    pub(crate) service: Option<String>,
}

impl ScopeArgs {
    /// The store scope string these options select.
    pub(crate) fn scope(&self) -> anyhow::Result<String> {
        if let Some(env) = &self.env {
            check_part("environment", env)?;
            if let Some(project) = &self.project {
                check_part("project", project)?;
            }
            return Ok(LocalEnvScopes::scope_for(self.project.as_deref(), env));
        }
        check_part("deployment", &self.deployment)?;
        let scope = match &self.service {
            Some(service) => {
                check_part("service", service)?;
                SecretScope::service(&self.deployment, service)
            }
            None => SecretScope::deployment(&self.deployment),
        };
        let scope = scope.as_store_scope();
        if is_reserved_scope(&scope) {
            bail!(
                "the deployment name `{}` is reserved for zlayer-secrets' own records",
                self.deployment
            );
        }
        Ok(scope)
    }
}

/// A deployment, service, environment or project name: a valid secret name without `:`
/// (which separates the parts of environment scopes, so `env:x` can never be a deployment).
pub(crate) fn check_part(what: &str, value: &str) -> anyhow::Result<()> {
    if let Err(e) = validate_name(value) {
        bail!("invalid {what} name: {e}");
    }
    if value.contains(':') {
        bail!("invalid {what} name `{value}`: `:` is not allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        env: Option<&str>,
        project: Option<&str>,
        deployment: &str,
        service: Option<&str>,
    ) -> ScopeArgs {
        ScopeArgs {
            env: env.map(str::to_owned),
            project: project.map(str::to_owned),
            deployment: deployment.to_owned(),
            service: service.map(str::to_owned),
        }
    }

    #[test]
    fn scopes() {
        assert_eq!(
            args(None, None, "default", None).scope().unwrap(),
            "default"
        );
        assert_eq!(
            args(None, None, "shop", Some("api")).scope().unwrap(),
            "shop/api"
        );
        assert_eq!(
            args(Some("prod"), None, "default", None).scope().unwrap(),
            "env:prod"
        );
        assert_eq!(
            args(Some("prod"), Some("shop"), "default", None)
                .scope()
                .unwrap(),
            "project:shop:env:prod"
        );
    }

    #[test]
    fn bad_parts_are_refused() {
        assert!(args(None, None, "env:prod", None).scope().is_err());
        assert!(args(None, None, "_zlayer", None).scope().is_err());
        assert!(args(None, None, "a/b", None).scope().is_err());
        assert!(args(Some("a:b"), None, "default", None).scope().is_err());
        assert!(args(Some(""), None, "default", None).scope().is_err());
        assert!(args(None, None, "d", Some("x:y")).scope().is_err());
    }
}
