//! `grant`, `revoke`, `permissions`: who may use an environment's secrets.
//!
//! Locally the grants are records of the store (`GrantStore`); against a secrets server
//! they are the server's grant routes (role admin), with the same input checks first and
//! the same output.

use serde_json::json;
use zlayer_secrets::grants::{GrantStore, PermissionLevel, Subject};
use zlayer_secrets::{LocalEnvScopes, SecretsStore};

use crate::backend::Backend;
use crate::cli::{EnvArgs, Level, Output};
use crate::output;
use crate::output::note;
use crate::scope::check_part;

fn environment(env: &EnvArgs) -> anyhow::Result<String> {
    check_part("environment", &env.env)?;
    if let Some(p) = &env.project {
        check_part("project", p)?;
    }
    Ok(LocalEnvScopes::scope_for(env.project.as_deref(), &env.env))
}

fn grants(backend: &Backend) -> GrantStore<std::sync::Arc<dyn SecretsStore>> {
    GrantStore::new(backend.plain_store())
}

fn level(level: Level) -> PermissionLevel {
    match level {
        Level::Read => PermissionLevel::Read,
        Level::Execute => PermissionLevel::Execute,
        Level::Write => PermissionLevel::Write,
    }
}

/// `grant USER --env E --level L`.
pub(crate) async fn grant(
    backend: &Backend,
    user: &str,
    env: &EnvArgs,
    l: Level,
) -> anyhow::Result<()> {
    let environment = environment(env)?;
    let subject: Subject = user.parse()?;
    let l = level(l);
    let previous = match &backend.remote {
        Some(remote) => remote
            .grant(
                &subject.to_string(),
                &env.env,
                env.project.as_deref(),
                l.as_str(),
            )
            .await?
            .previous
            .map(|p| p.parse::<PermissionLevel>())
            .transpose()?,
        None => grants(backend).grant(&subject, &environment, l).await?,
    };
    match previous {
        Some(p) if p == l => note!("{subject} already had {l} on `{environment}`"),
        Some(p) => note!("{subject}: {p} → {l} on `{environment}`"),
        None => note!("granted {l} on `{environment}` to {subject}"),
    }
    Ok(())
}

/// `revoke USER --env E`.
pub(crate) async fn revoke(backend: &Backend, user: &str, env: &EnvArgs) -> anyhow::Result<()> {
    let environment = environment(env)?;
    let subject: Subject = user.parse()?;
    let revoked = match &backend.remote {
        Some(remote) => remote
            .revoke(&subject.to_string(), &env.env, env.project.as_deref())
            .await
            .map(|answer| answer.revoked),
        None => grants(backend)
            .revoke(&subject, &environment)
            .await
            .map(|level| level.to_string()),
    };
    let was: PermissionLevel = match revoked {
        Err(e) if e.is_not_found() => {
            anyhow::bail!("{subject} has no grant on `{environment}`: nothing to revoke")
        }
        other => other?.parse()?,
    };
    note!("revoked {was} on `{environment}` from {subject}");
    Ok(())
}

/// `permissions --env E`.
pub(crate) async fn permissions(
    backend: &Backend,
    env: &EnvArgs,
    out: Output,
) -> anyhow::Result<()> {
    let environment = environment(env)?;
    // (subject, level), users first, then groups, each by name.
    let list: Vec<(String, String)> = match &backend.remote {
        Some(remote) => remote
            .grants(&env.env, env.project.as_deref())
            .await?
            .grants
            .into_iter()
            .map(|g| (g.subject, g.level))
            .collect(),
        None => grants(backend)
            .list_for_environment(&environment)
            .await?
            .into_iter()
            .map(|g| (g.subject.to_string(), g.level.as_str().to_owned()))
            .collect(),
    };
    match out {
        Output::Json => output::json(&json!({
            "scope": environment,
            "grants": list.iter().map(|(subject, level)| json!({
                "subject": subject,
                "level": level,
            })).collect::<Vec<_>>(),
        })),
        Output::Table => {
            if list.is_empty() {
                note!("no grants on `{environment}`");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .into_iter()
                .map(|(subject, level)| vec![subject, level])
                .collect();
            output::table(&["SUBJECT", "LEVEL"], &rows)
        }
    }
}
