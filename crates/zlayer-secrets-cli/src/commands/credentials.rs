//! `registry ls|rm` and `git ls|rm`: the credentials the docker and git helpers stored,
//! listed without their secrets, and removed by id.

use std::sync::Arc;

use serde_json::json;
use zlayer_secrets::{
    GitCredentialKind, GitCredentialStore, RegistryAuthType, RegistryCredentialStore, SecretsStore,
};

use crate::backend::{Access, Backend};
use crate::cli::{CredentialCommand, Output};
use crate::output::{self, note};

/// What the verb needs from the store: `ls` only reads.
pub(crate) fn access(verb: &CredentialCommand) -> Access {
    match verb {
        CredentialCommand::Ls { .. } => Access::Read,
        CredentialCommand::Rm { .. } => Access::Write,
    }
}

fn store(backend: &Backend) -> Arc<dyn SecretsStore> {
    backend.plain_store()
}

/// `registry ls` / `registry rm`.
pub(crate) async fn registry(backend: &Backend, verb: &CredentialCommand) -> anyhow::Result<()> {
    let registry = RegistryCredentialStore::new(store(backend));
    match verb {
        CredentialCommand::Ls { output } => {
            let mut list = registry.list().await?;
            list.sort_by(|a, b| (&a.registry, &a.username).cmp(&(&b.registry, &b.username)));
            let kind = |t: RegistryAuthType| match t {
                RegistryAuthType::Basic => "basic",
                RegistryAuthType::Token => "token",
            };
            match output.output {
                Output::Json => output::json(&json!({
                    "credentials": list.iter().map(|c| json!({
                        "id": c.id,
                        "registry": c.registry,
                        "username": c.username,
                        "auth_type": kind(c.auth_type),
                    })).collect::<Vec<_>>(),
                })),
                Output::Table => {
                    if list.is_empty() {
                        note!("no registry credentials");
                        return Ok(());
                    }
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|c| {
                            vec![
                                c.id.clone(),
                                c.registry.clone(),
                                c.username.clone(),
                                kind(c.auth_type).to_owned(),
                            ]
                        })
                        .collect();
                    output::table(&["ID", "REGISTRY", "USERNAME", "AUTH"], &rows)
                }
            }
        }
        CredentialCommand::Rm { ids } => {
            for id in ids {
                let Some(found) = registry.get(id).await? else {
                    return Err(missing("registry", id));
                };
                registry.delete(id).await?;
                note!(
                    "removed the registry credential {id} ({} for {})",
                    found.username,
                    found.registry
                );
            }
            Ok(())
        }
    }
}

/// `git ls` / `git rm`.
pub(crate) async fn git(backend: &Backend, verb: &CredentialCommand) -> anyhow::Result<()> {
    let git = GitCredentialStore::new(store(backend));
    match verb {
        CredentialCommand::Ls { output } => {
            let mut list = git.list_details().await?;
            list.sort_by(|a, b| (&a.host, &a.credential.name).cmp(&(&b.host, &b.credential.name)));
            let kind = |k: GitCredentialKind| match k {
                GitCredentialKind::Pat => "pat",
                GitCredentialKind::SshKey => "ssh-key",
            };
            match output.output {
                Output::Json => output::json(&json!({
                    "credentials": list.iter().map(|c| json!({
                        "id": c.credential.id,
                        "name": c.credential.name,
                        "kind": kind(c.credential.kind),
                        "host": c.host,
                        "username": c.username,
                    })).collect::<Vec<_>>(),
                })),
                Output::Table => {
                    if list.is_empty() {
                        note!("no Git credentials");
                        return Ok(());
                    }
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|c| {
                            vec![
                                c.credential.id.clone(),
                                c.host.clone().unwrap_or_else(|| "-".to_owned()),
                                c.username.clone().unwrap_or_else(|| "-".to_owned()),
                                kind(c.credential.kind).to_owned(),
                                c.credential.name.clone(),
                            ]
                        })
                        .collect();
                    output::table(&["ID", "HOST", "USERNAME", "KIND", "NAME"], &rows)
                }
            }
        }
        CredentialCommand::Rm { ids } => {
            for id in ids {
                let Some(found) = git.get(id).await? else {
                    return Err(missing("Git", id));
                };
                git.delete(id).await?;
                note!("removed the Git credential {id} ({})", found.name);
            }
            Ok(())
        }
    }
}

fn missing(what: &str, id: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "no {what} credential has the id `{id}` (`zlayer-secret {} ls` lists them); nothing \
         more was removed",
        what.to_lowercase()
    )
}
