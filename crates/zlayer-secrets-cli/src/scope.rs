//! Which scope a command works on: an environment (`--env`, `--project`) or a deployment
//! (`--deployment`, `--service`).

use anyhow::{Context as _, bail};
use zlayer_secrets::{
    LocalEnvScopes, SecretScope, SecretsError, is_reserved_scope, validate_scope_part,
};

/// Scope options shared by the verbs that address secrets.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ScopeArgs {
    /// Work on the secrets of this environment (scope `env:NAME`).
    #[arg(short = 'e', long, value_name = "NAME", conflicts_with_all = ["deployment", "service"])]
    pub(crate) env: Option<String>,
    /// With `--env`: the environment belongs to this project (scope `project:P:env:NAME`).
    #[arg(short = 'p', long, value_name = "NAME", requires = "env")]
    pub(crate) project: Option<String>,
    /// Work on the secrets of this deployment.
    #[arg(short = 'd', long, value_name = "NAME", default_value = "default")]
    pub(crate) deployment: String,
    /// With a deployment: the secrets of this one service (scope `DEPLOYMENT/SERVICE`).
    #[arg(short = 's', long, value_name = "NAME")]
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

/// A scope written out as messages and listings show it, such as `ls SCOPE` takes:
/// `DEPLOYMENT`, `DEPLOYMENT/SERVICE`, `env:ENV` or `project:PROJECT:env:ENV`. Each part
/// follows the rules of the options that select it.
pub(crate) fn parse_scope(text: &str) -> anyhow::Result<String> {
    let args = |env: Option<&str>, project: Option<&str>, deployment: &str, service| ScopeArgs {
        env: env.map(str::to_owned),
        project: project.map(str::to_owned),
        deployment: deployment.to_owned(),
        service,
    };
    let parsed = if let Some(rest) = text.strip_prefix("project:") {
        match rest.split_once(":env:") {
            Some((project, env)) => args(Some(env), Some(project), "default", None).scope(),
            None => Err(anyhow::anyhow!(
                "a project scope is written project:PROJECT:env:ENV"
            )),
        }
    } else if let Some(env) = text.strip_prefix("env:") {
        args(Some(env), None, "default", None).scope()
    } else {
        match text.split_once('/') {
            Some((deployment, service)) => {
                args(None, None, deployment, Some(service.to_owned())).scope()
            }
            None => args(None, None, text, None).scope(),
        }
    };
    parsed.with_context(|| {
        format!(
            "invalid scope `{}` (expected DEPLOYMENT, DEPLOYMENT/SERVICE, env:ENV or \
             project:PROJECT:env:ENV)",
            text.escape_debug()
        )
    })
}

/// A deployment, service, environment or project name, by the one rule of the library
/// ([`validate_scope_part`]: what a part of a reference may hold, so no `:` and `env:x` can
/// never be a deployment).
pub(crate) fn check_part(what: &str, value: &str) -> anyhow::Result<()> {
    match validate_scope_part(what, value) {
        Ok(()) => Ok(()),
        Err(SecretsError::InvalidName { name }) => bail!("invalid {name}"),
        Err(e) => Err(e.into()),
    }
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
    fn written_scopes_parse_to_what_the_options_select() {
        for (text, options) in [
            ("default", args(None, None, "default", None)),
            ("shop", args(None, None, "shop", None)),
            ("shop/api", args(None, None, "shop", Some("api"))),
            ("env:prod", args(Some("prod"), None, "default", None)),
            (
                "project:shop:env:prod",
                args(Some("prod"), Some("shop"), "default", None),
            ),
        ] {
            assert_eq!(
                parse_scope(text).unwrap(),
                options.scope().unwrap(),
                "{text}"
            );
            assert_eq!(parse_scope(text).unwrap(), text);
        }
    }

    #[test]
    fn bad_written_scopes_are_refused_and_named() {
        for bad in [
            "",
            "_zlayer",
            "_zlayer/x",
            "a/b/c",
            "shop/",
            "/api",
            "env:",
            "env:a:b",
            "env:a/b",
            "project:shop",
            "project:shop:prod",
            "project::env:prod",
            "x:y",
        ] {
            let err = format!("{:#}", parse_scope(bad).unwrap_err());
            assert!(err.starts_with("invalid scope `"), "{bad}: {err}");
        }
    }

    #[test]
    fn bad_parts_are_refused() {
        assert!(args(None, None, "env:prod", None).scope().is_err());
        assert!(args(None, None, "_zlayer", None).scope().is_err());
        assert!(args(None, None, "a/b", None).scope().is_err());
        assert!(args(Some("a:b"), None, "default", None).scope().is_err());
        assert!(args(Some(""), None, "default", None).scope().is_err());
        assert!(args(None, None, "d", Some("x:y")).scope().is_err());
        // What a reference could not name is refused too.
        assert!(args(Some("my env"), None, "default", None).scope().is_err());
        assert!(args(None, None, "d", Some("@svc")).scope().is_err());
        let err = args(Some("a:b"), None, "default", None)
            .scope()
            .unwrap_err()
            .to_string();
        assert_eq!(err, "invalid environment name `a:b`: `:` is not allowed");
    }
}
