//! The options of `audit`, `audit verify` and `audit prune`.

use clap::Subcommand;
use zlayer_secrets::audit::AuditAction;

use super::OutputArgs;
use crate::scope::ScopeArgs;

/// `audit`: the listing's filters, or one of the `audit` verbs.
#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    /// `verify` or `prune`; without one, the entries are listed.
    #[command(subcommand)]
    pub(crate) command: Option<AuditCommand>,
    /// Entries recorded at or after this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub(crate) since: Option<i64>,
    /// Entries recorded before this time.
    #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
    pub(crate) until: Option<i64>,
    /// Entries about this scope, written as listings show it (DEPLOYMENT,
    /// DEPLOYMENT/SERVICE, env:ENV, project:PROJECT:env:ENV, or a reserved scope such as
    /// `_zlayer/grants`), instead of the scope options.
    #[arg(
        long,
        value_name = "SCOPE",
        value_parser = parse_audit_scope,
        conflicts_with_all = ["env", "deployment"]
    )]
    pub(crate) scope: Option<String>,
    /// Entries about this environment's secrets (scope `env:NAME`).
    #[arg(long, value_name = "NAME", conflicts_with = "deployment")]
    pub(crate) env: Option<String>,
    /// With `--env`: the environment belongs to this project.
    #[arg(long, value_name = "NAME", requires = "env")]
    pub(crate) project: Option<String>,
    /// Entries about this deployment's secrets.
    #[arg(long, value_name = "NAME")]
    pub(crate) deployment: Option<String>,
    /// With `--deployment`: entries about this one service's secrets.
    #[arg(long, value_name = "NAME", requires = "deployment")]
    pub(crate) service: Option<String>,
    /// Entries about secrets of this name.
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Entries of this user (an OS user name, or an API key's subject).
    #[arg(long, value_name = "USER")]
    pub(crate) actor: Option<String>,
    /// Entries of this action (reveal, export, resolve, helper-get, create, set, rotate,
    /// rollback, delete, import, grant, revoke, api-key-create, api-key-delete,
    /// key-rotation, audit-enable, audit-disable, audit-prune).
    #[arg(long, value_name = "ACTION", value_parser = parse_audit_action)]
    pub(crate) action: Option<AuditAction>,
    /// At most this many entries: the newest of those that match.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) limit: Option<u32>,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

impl AuditArgs {
    /// The verb as typed: `audit`, `audit verify` or `audit prune`.
    pub(crate) fn verb(&self) -> &'static str {
        match self.command {
            None => "audit",
            Some(AuditCommand::Verify { .. }) => "audit verify",
            Some(AuditCommand::Prune { .. }) => "audit prune",
        }
    }

    /// A usage mistake found after parsing: a prune time in the future.
    pub(crate) fn usage_error(&self) -> Option<String> {
        match self.command {
            Some(AuditCommand::Prune { before }) if before > crate::commands::audit::now_ms() => {
                Some(
                    "--before is in the future: prune removes only entries already recorded \
                     (give a past time, such as 90d)"
                        .to_owned(),
                )
            }
            _ => None,
        }
    }

    /// The store scope the scope options select, if any.
    pub(crate) fn scope(&self) -> anyhow::Result<Option<String>> {
        if let Some(scope) = &self.scope {
            return Ok(Some(scope.clone()));
        }
        let deployment = match (&self.env, &self.deployment) {
            (None, None) => return Ok(None),
            (Some(_), _) => "default".to_owned(),
            (None, Some(d)) => d.clone(),
        };
        ScopeArgs {
            env: self.env.clone(),
            project: self.project.clone(),
            deployment,
            service: self.service.clone(),
        }
        .scope()
        .map(Some)
    }
}

/// The `audit` verbs beside the listing.
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Check that no entry was altered, removed or moved since it was recorded.
    ///
    /// Exits 0 and prints the range of entries and the head's fingerprint when the log is
    /// intact; exits 1 and names the first bad entry otherwise. Note the fingerprint: a later
    /// `verify` printing another one for the same last entry means the file was replaced.
    #[command(
        after_help = "Examples:\n  zlayer-secret audit verify\n  zlayer-secret audit verify --output json"
    )]
    Verify {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove the entries recorded before a time, leaving a signed checkpoint so that
    /// `audit verify` still passes; the prune itself is recorded.
    #[command(
        after_help = "Examples:\n  zlayer-secret audit prune --before 90d\n  zlayer-secret audit prune --before 2026-01-01"
    )]
    Prune {
        /// Remove the entries recorded before this time (a past TIME: RFC 3339, a date, or an
        /// age such as 90d).
        #[arg(long, value_name = "TIME", value_parser = parse_time_arg)]
        before: i64,
    },
}

/// `--since`, `--until`, `--before`: milliseconds since the Unix epoch.
fn parse_time_arg(text: &str) -> Result<i64, String> {
    crate::commands::audit::parse_time(text, crate::commands::audit::now_ms())
}

/// `--action`, by the library's names (its error lists them).
fn parse_audit_action(text: &str) -> Result<AuditAction, String> {
    text.parse()
        .map_err(|e: zlayer_secrets::SecretsError| e.to_string())
}

/// `audit --scope`: a written scope ([`crate::scope::parse_scope`]), or one of the reserved
/// scopes that zlayer-secrets keeps its own records in (grants, API keys, credentials).
fn parse_audit_scope(text: &str) -> Result<String, String> {
    if zlayer_secrets::is_reserved_scope(text) && zlayer_secrets::validate_scope(text).is_ok() {
        return Ok(text.to_owned());
    }
    crate::scope::parse_scope(text).map_err(|e| format!("{e:#}"))
}
