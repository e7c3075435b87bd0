//! `api-key create|ls|rm`: the API keys of the server, kept in the store.

use serde_json::json;
use zlayer_secrets::CredentialStore;
use zlayer_secrets::SecretsStore;

use crate::backend::Backend;
use crate::cli::Output;
use crate::output;
use crate::output::note;

fn creds(backend: &Backend) -> CredentialStore<std::sync::Arc<dyn SecretsStore>> {
    CredentialStore::new(backend.plain_store())
}

fn joined(list: &[String]) -> String {
    if list.is_empty() {
        "-".to_owned()
    } else {
        list.join(",")
    }
}

/// `api-key create NAME [--role R]... [--group G]...`: prints the key and its secret once.
pub(crate) async fn create(
    backend: &Backend,
    subject: &str,
    roles: &[String],
    groups: &[String],
    out: Output,
) -> anyhow::Result<()> {
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
    let (identity, secret) = creds(backend)
        .create_user_api_key(subject, &roles, &groups)
        .await?;
    match out {
        Output::Json => output::json(&json!({
            "api_key": identity.api_key,
            "api_secret": secret.expose(),
            "subject": identity.subject,
            "roles": identity.roles,
            "groups": identity.groups,
        }))?,
        Output::Table => {
            output::line(&format!("api_key     {}", identity.api_key))?;
            output::line(&format!("api_secret  {}", secret.expose()))?;
            note!(
                "created an API key for user {} (roles: {}; groups: {}); the secret is shown \
                 only now",
                identity.subject,
                joined(&identity.roles),
                joined(&identity.groups)
            );
        }
    }
    Ok(())
}

/// `api-key ls`: keys with their subjects, roles and groups; never a secret.
pub(crate) async fn ls(backend: &Backend, out: Output) -> anyhow::Result<()> {
    let list = creds(backend).list_identities().await?;
    match out {
        Output::Json => output::json(&json!(
            list.iter()
                .map(|k| json!({
                    "api_key": k.api_key,
                    "subject": k.subject,
                    "roles": k.roles,
                    "groups": k.groups,
                }))
                .collect::<Vec<_>>()
        )),
        Output::Table => {
            if list.is_empty() {
                note!("no API keys");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|k| {
                    vec![
                        k.api_key.clone(),
                        k.subject.clone(),
                        joined(&k.roles),
                        joined(&k.groups),
                    ]
                })
                .collect();
            output::table(&["API KEY", "SUBJECT", "ROLES", "GROUPS"], &rows)
        }
    }
}

/// `api-key rm ID...`: its tokens stop working at the server's next request.
pub(crate) async fn rm(backend: &Backend, ids: &[String]) -> anyhow::Result<()> {
    let creds = creds(backend);
    for id in ids {
        creds.delete_api_key(id).await?;
        note!("deleted API key {id}");
    }
    Ok(())
}
