//! The audit log's vocabulary: who ([`Actor`]) did what ([`AuditAction`]) to which secret,
//! with what result ([`AuditOutcome`]), as recorded ([`AuditRecord`]) and as read back
//! ([`AuditEntry`]); how to select entries ([`AuditFilter`]) and what checking the chain
//! found ([`AuditVerification`]).
//!
//! An entry never holds a value or a token: only names, versions and outcomes. The stores
//! that keep a log implement [`AuditLog`]; the local store records its own operations in the
//! same transaction as the write they describe (see `zlayer-secrets-sqlite`).
//!
//! With the `audit-context` feature, [`scope`] runs a future with an [`AuditContext`] (the
//! actor of a request, the purpose of a command) that stores which record their operations
//! read with [`current`].

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::{
    API_KEYS_SCOPE, GIT_CREDENTIALS_SCOPE, GRANTS_SCOPE, REGISTRY_CREDENTIALS_SCOPE, Result,
    SecretsError,
};

/// What was done. Reads of a value are recorded by purpose (reveal, export, resolve, helper
/// get); reads of names or metadata are not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A value was read to be shown or used (`get --reveal`, an API read).
    Reveal,
    /// A value was read to be written out (`export`).
    Export,
    /// A value was read to be given to a process (`run`, `resolve`).
    Resolve,
    /// A credential was read by a Docker or Git credential helper.
    HelperGet,
    /// A secret was created (version 1, refused if it existed).
    Create,
    /// A new version was written.
    Set,
    /// A new version of an existing secret was written (rotation).
    Rotate,
    /// An old version was written again as a new one.
    Rollback,
    /// A secret and its history were deleted.
    Delete,
    /// Several secrets were written in one batch.
    Import,
    /// Access to an environment was granted (a grants record written).
    Grant,
    /// Access to an environment was revoked.
    Revoke,
    /// An API key was created or changed.
    ApiKeyCreate,
    /// An API key was removed.
    ApiKeyDelete,
    /// The store's keys were changed (re-key or re-encryption).
    KeyRotation,
    /// Auditing was turned on again.
    AuditEnable,
    /// Auditing was turned off (the entries after it until the next
    /// [`AuditEnable`](Self::AuditEnable) are missing on purpose).
    AuditDisable,
    /// Old entries were pruned, leaving a signed checkpoint.
    AuditPrune,
    /// The audit log was asked for through the server (`GET /api/v1/audit`, `.../verify`);
    /// recorded when the request was refused.
    AuditRead,
}

impl AuditAction {
    /// Every action, in the order above.
    pub const ALL: [AuditAction; 19] = [
        Self::Reveal,
        Self::Export,
        Self::Resolve,
        Self::HelperGet,
        Self::Create,
        Self::Set,
        Self::Rotate,
        Self::Rollback,
        Self::Delete,
        Self::Import,
        Self::Grant,
        Self::Revoke,
        Self::ApiKeyCreate,
        Self::ApiKeyDelete,
        Self::KeyRotation,
        Self::AuditEnable,
        Self::AuditDisable,
        Self::AuditPrune,
        Self::AuditRead,
    ];

    /// The action's name as stored and printed: `reveal`, `helper-get`, `api-key-create`, ...
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reveal => "reveal",
            Self::Export => "export",
            Self::Resolve => "resolve",
            Self::HelperGet => "helper-get",
            Self::Create => "create",
            Self::Set => "set",
            Self::Rotate => "rotate",
            Self::Rollback => "rollback",
            Self::Delete => "delete",
            Self::Import => "import",
            Self::Grant => "grant",
            Self::Revoke => "revoke",
            Self::ApiKeyCreate => "api-key-create",
            Self::ApiKeyDelete => "api-key-delete",
            Self::KeyRotation => "key-rotation",
            Self::AuditEnable => "audit-enable",
            Self::AuditDisable => "audit-disable",
            Self::AuditPrune => "audit-prune",
            Self::AuditRead => "audit-read",
        }
    }

    /// Whether the action reads a value (as opposed to changing something).
    #[must_use]
    pub fn is_read(self) -> bool {
        matches!(
            self,
            Self::Reveal | Self::Export | Self::Resolve | Self::HelperGet
        )
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditAction {
    type Err = SecretsError;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| SecretsError::InvalidInput {
                what: format!("audit action `{s}`"),
                reason: format!("it is none of {}", Self::ALL.map(Self::as_str).join(", ")),
            })
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditOutcome {
    /// Done.
    Ok,
    /// Refused: the caller may not do this.
    Denied,
    /// The secret (or version) does not exist.
    NotFound,
    /// Failed for another reason (the entry's detail says which kind).
    Error,
}

impl AuditOutcome {
    /// Every outcome.
    pub const ALL: [AuditOutcome; 4] = [Self::Ok, Self::Denied, Self::NotFound, Self::Error];

    /// The outcome's name as stored and printed: `ok`, `denied`, `not-found`, `error`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Denied => "denied",
            Self::NotFound => "not-found",
            Self::Error => "error",
        }
    }

    /// The outcome of an operation that ended with `result`.
    #[must_use]
    pub fn of<T>(result: &Result<T>) -> Self {
        match result {
            Ok(_) => Self::Ok,
            Err(e) => Self::of_error(e),
        }
    }

    /// The outcome of an operation that failed with `error`.
    #[must_use]
    pub fn of_error(error: &SecretsError) -> Self {
        if error.is_not_found() {
            Self::NotFound
        } else if error.is_access_denied() {
            Self::Denied
        } else {
            Self::Error
        }
    }
}

impl fmt::Display for AuditOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AuditOutcome {
    type Err = SecretsError;

    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| SecretsError::InvalidInput {
                what: format!("audit outcome `{s}`"),
                reason: "it is none of ok, denied, not-found, error".to_owned(),
            })
    }
}

/// Who did it: an operating-system user through a command, or an API key's subject through
/// the server.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The OS user name (commands) or the API key's subject (server).
    pub principal: String,
    /// The OS user id, for commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// The client's address, for the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Through what: the command's verb (`get`, `run`, `docker-credential-zlayer`), or
    /// `server`.
    pub via: String,
}

impl Actor {
    /// The user running this process, acting through `via` (a verb, a program name).
    #[must_use]
    pub fn os_user(via: impl Into<String>) -> Self {
        let (principal, uid) = os_user();
        Self {
            principal,
            uid,
            address: None,
            via: via.into(),
        }
    }

    /// The subject of an API key, calling from `address` through the server.
    #[must_use]
    pub fn subject(subject: impl Into<String>, address: Option<String>) -> Self {
        Self {
            principal: subject.into(),
            uid: None,
            address,
            via: "server".to_owned(),
        }
    }
}

impl Default for Actor {
    /// The user running this process, through the program's own name.
    fn default() -> Self {
        let via = std::env::args_os()
            .next()
            .and_then(|argv0| {
                std::path::Path::new(&argv0)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "library".to_owned());
        Self::os_user(via)
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.principal)?;
        if let Some(uid) = self.uid {
            write!(f, " (uid {uid})")?;
        }
        if let Some(address) = &self.address {
            write!(f, " from {address}")?;
        }
        write!(f, " via {}", self.via)
    }
}

/// The user name and id of this process: `USER` (or `LOGNAME`) and the real uid on Unix.
fn os_user() -> (String, Option<u32>) {
    #[cfg(unix)]
    let uid = Some(unix_uid());
    #[cfg(not(unix))]
    let uid = None;
    let name = ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.trim().is_empty()))
        .or_else(|| uid.map(|uid| format!("uid-{uid}")))
        .unwrap_or_else(|| "unknown".to_owned());
    (name, uid)
}

/// The real user id, read from `/proc/self/status` or, failing that, from the owner of
/// `/proc/self` (no libc binding needed).
#[cfg(unix)]
fn unix_uid() -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(uid) = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|real| real.parse().ok())
    {
        return uid;
    }
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

/// What one entry says, besides who and when: filled in by the store for its own operations,
/// or by a caller (the server, for a refused request) through [`AuditLog::record`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// What was done.
    pub action: AuditAction,
    /// The scope, when the action concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The secret's name, when the action concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The version read or written, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// A few words more (the kind of error, what a prune removed); never a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl AuditRecord {
    /// A record of `action` on `scope`/`name` that ended with `outcome`.
    #[must_use]
    pub fn new(action: AuditAction, scope: &str, name: &str, outcome: AuditOutcome) -> Self {
        Self {
            action,
            scope: Some(scope.to_owned()),
            name: Some(name.to_owned()),
            version: None,
            outcome,
            detail: None,
        }
    }

    /// The same record with `version`.
    #[must_use]
    pub fn with_version(mut self, version: Option<u32>) -> Self {
        self.version = version;
        self
    }

    /// The same record with `detail`.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The record of an operation that failed with `error`: its outcome, and as detail the
    /// kind of error (never its message, which could quote input).
    #[must_use]
    pub fn failed(action: AuditAction, scope: &str, name: &str, error: &SecretsError) -> Self {
        let outcome = AuditOutcome::of_error(error);
        let record = Self::new(action, scope, name, outcome);
        if outcome == AuditOutcome::Error {
            record.with_detail(error_kind(error))
        } else {
            record
        }
    }
}

/// A short name for the kind of `error`, safe to record.
#[must_use]
pub fn error_kind(error: &SecretsError) -> &'static str {
    match error.root_cause() {
        SecretsError::AlreadyExists { .. } => "already exists",
        SecretsError::InvalidName { .. } | SecretsError::InvalidInput { .. } => "invalid input",
        SecretsError::TooLarge { .. } => "too large",
        SecretsError::Tampered { .. } => "tampered record",
        SecretsError::Decryption(_) => "decryption failed",
        SecretsError::VersionLimit { .. } => "version limit",
        e if e.is_storage() => "storage failure",
        _ => "failed",
    }
}

/// One entry of the log, as read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Its place in the log: 1, 2, 3, ... without gaps (pruning removes a prefix).
    pub seq: u64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// Who.
    pub actor: Actor,
    /// What, on which secret, with what outcome.
    #[serde(flatten)]
    pub record: AuditRecord,
}

/// Which entries to list: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// At or after this time (milliseconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_ms: Option<i64>,
    /// Before this time (milliseconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
    /// Exactly this scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Exactly this secret name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Exactly this principal (OS user or API key subject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Exactly this action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<AuditAction>,
    /// At most this many entries (the newest ones when more match).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl AuditFilter {
    /// Whether `entry` passes.
    #[must_use]
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        self.since_ms.is_none_or(|t| entry.at_ms >= t)
            && self.until_ms.is_none_or(|t| entry.at_ms < t)
            && self
                .scope
                .as_ref()
                .is_none_or(|s| entry.record.scope.as_ref() == Some(s))
            && self
                .name
                .as_ref()
                .is_none_or(|n| entry.record.name.as_ref() == Some(n))
            && self
                .actor
                .as_ref()
                .is_none_or(|a| &entry.actor.principal == a)
            && self.action.is_none_or(|a| entry.record.action == a)
    }
}

/// What is wrong with a log that does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AuditDamage {
    /// The entry's content, or its place, is not what was recorded (edited, or moved from
    /// elsewhere in the log).
    Altered,
    /// The entry is missing: a later one exists, so it was removed.
    Removed,
    /// The log ends before its recorded head: this entry and those after it were removed.
    Truncated,
    /// The pruning checkpoint, or the recorded head, was altered.
    Anchor,
}

impl AuditDamage {
    /// A sentence part: "was altered or moved", "was removed", ...
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Altered => "was altered or moved",
            Self::Removed => "was removed",
            Self::Truncated => "and every entry after it were removed (the log was truncated)",
            Self::Anchor => "cannot be checked: the log's checkpoint or head record was altered",
        }
    }
}

/// The first bad entry of a log that does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditProblem {
    /// The first entry (by sequence number) that is wrong.
    pub seq: u64,
    /// What is wrong with it.
    pub damage: AuditDamage,
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {} {}", self.seq, self.damage.describe())
    }
}

/// What checking the log's chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditVerification {
    /// How many entries were checked.
    pub entries: u64,
    /// The sequence number the log starts at (1, or one after the pruning checkpoint).
    pub first_seq: u64,
    /// The last entry's sequence number (`first_seq - 1` for an empty log).
    pub last_seq: u64,
    /// A short fingerprint of the head of the chain (hex): note it, and a later `verify`
    /// that prints another fingerprint for the same `last_seq` shows the file was replaced.
    pub head: String,
    /// The first problem found; `None` when the chain is intact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<AuditProblem>,
}

impl AuditVerification {
    /// Whether the chain is intact.
    #[must_use]
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// What [`AuditLog::prune`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneReport {
    /// How many entries were removed.
    pub removed: u64,
    /// The sequence number of the checkpoint left behind (the last entry removed); 0 when
    /// nothing was removed and there was no checkpoint.
    pub checkpoint_seq: u64,
}

/// What kind of write an entry records, before the scope and the caller's purpose decide
/// its action ([`write_action`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WriteKind {
    /// A create (version 1, refused if the secret exists).
    Create,
    /// A write of a new version.
    Set,
    /// A rotation (a new version of an existing secret).
    Rotate,
    /// An old version written again.
    Rollback,
    /// A delete.
    Delete,
    /// A write of a batch (`apply_batch`).
    BatchSet,
}

/// The action of a write of `kind` to `scope`: the grants and API keys scopes have actions
/// of their own (a grants write is a revoke when the caller says so), every other scope the
/// write's own.
#[must_use]
pub fn write_action(kind: WriteKind, scope: &str, purpose: Option<AuditAction>) -> AuditAction {
    if scope == GRANTS_SCOPE {
        return if purpose == Some(AuditAction::Revoke) {
            AuditAction::Revoke
        } else {
            AuditAction::Grant
        };
    }
    if scope == API_KEYS_SCOPE {
        return if kind == WriteKind::Delete {
            AuditAction::ApiKeyDelete
        } else {
            AuditAction::ApiKeyCreate
        };
    }
    match kind {
        WriteKind::Create => AuditAction::Create,
        WriteKind::Set => AuditAction::Set,
        WriteKind::Rotate => AuditAction::Rotate,
        WriteKind::Rollback => AuditAction::Rollback,
        WriteKind::Delete => AuditAction::Delete,
        WriteKind::BatchSet => AuditAction::Import,
    }
}

/// The action of a read of a value in `scope`, or `None` for reads that are not recorded:
/// the lookups of API keys and grants that every authorisation does (they reveal nothing).
/// Credentials read by a helper are `helper-get`; other reads are what the caller's purpose
/// says, `reveal` by default. Reads whose purpose is [`AuditAction::Import`] are not recorded
/// either: an import reads the current values only to compare them with the ones it writes,
/// and its writes are recorded.
#[must_use]
pub fn read_action(scope: &str, purpose: Option<AuditAction>) -> Option<AuditAction> {
    if scope == API_KEYS_SCOPE || scope == GRANTS_SCOPE {
        return None;
    }
    if scope == REGISTRY_CREDENTIALS_SCOPE || scope == GIT_CREDENTIALS_SCOPE {
        return Some(AuditAction::HelperGet);
    }
    if purpose == Some(AuditAction::Import) {
        return None;
    }
    Some(
        purpose
            .filter(|p| p.is_read())
            .unwrap_or(AuditAction::Reveal),
    )
}

/// A store's audit log: entries appended by its operations and by [`record`](Self::record),
/// read back, verified and pruned.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends `records` as entries of `actor`, in one transaction, at the end of the chain.
    /// Nothing is recorded while auditing is off.
    async fn record(&self, actor: &Actor, records: Vec<AuditRecord>) -> Result<()>;

    /// The entries `filter` selects, oldest first.
    async fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;

    /// Checks every entry against the chain: the first entry that was altered, removed or
    /// moved, if any.
    async fn verify(&self) -> Result<AuditVerification>;

    /// Removes the entries recorded before `before_ms` (milliseconds since the epoch),
    /// leaving a checkpoint signed under the log's key so [`verify`](Self::verify) still
    /// passes, and records the prune itself as an entry of `actor`.
    async fn prune(&self, before_ms: i64, actor: &Actor) -> Result<PruneReport>;
}

/// Who is acting, and why they read values: what a store records its operations as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// Who.
    pub actor: Actor,
    /// What reads of values are for ([`AuditAction::Reveal`] unless set), and what a grants
    /// write is ([`AuditAction::Revoke`] for a revoke; a grant otherwise).
    pub purpose: Option<AuditAction>,
}

impl AuditContext {
    /// `actor`, reading values to reveal them.
    #[must_use]
    pub fn new(actor: Actor) -> Self {
        Self {
            actor,
            purpose: None,
        }
    }

    /// The same context with `purpose`.
    #[must_use]
    pub fn with_purpose(mut self, purpose: AuditAction) -> Self {
        self.purpose = Some(purpose);
        self
    }
}

#[cfg(feature = "audit-context")]
tokio::task_local! {
    static CONTEXT: AuditContext;
}

/// Runs `future` with `context` as the [`current`] audit context: the stores it calls record
/// their operations as `context` says.
#[cfg(feature = "audit-context")]
pub async fn scope<F: Future>(context: AuditContext, future: F) -> F::Output {
    CONTEXT.scope(context, future).await
}

/// The audit context of the running task, if it runs inside [`scope`].
#[cfg(feature = "audit-context")]
#[must_use]
pub fn current() -> Option<AuditContext> {
    CONTEXT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>().unwrap(), action);
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.as_str()));
        }
        for outcome in AuditOutcome::ALL {
            assert_eq!(outcome.as_str().parse::<AuditOutcome>().unwrap(), outcome);
        }
        let err = "peek".parse::<AuditAction>().unwrap_err().to_string();
        assert!(err.contains("peek") && err.contains("helper-get"), "{err}");
    }

    #[test]
    fn outcomes_of_errors() {
        let missing = SecretsError::NotFound { name: "a/b".into() };
        let denied = SecretsError::AccessDenied { name: "a/b".into() };
        assert_eq!(AuditOutcome::of_error(&missing), AuditOutcome::NotFound);
        assert_eq!(AuditOutcome::of_error(&denied), AuditOutcome::Denied);
        let record = AuditRecord::failed(
            AuditAction::Create,
            "a",
            "b",
            &SecretsError::AlreadyExists { name: "a/b".into() },
        );
        assert_eq!(record.outcome, AuditOutcome::Error);
        assert_eq!(record.detail.as_deref(), Some("already exists"));
    }

    #[test]
    fn filters_and_display() {
        let entry = AuditEntry {
            seq: 3,
            at_ms: 1_000,
            actor: Actor {
                principal: "alice".into(),
                uid: Some(1000),
                address: None,
                via: "get".into(),
            },
            record: AuditRecord::new(AuditAction::Reveal, "prod", "db", AuditOutcome::Ok),
        };
        assert_eq!(entry.actor.to_string(), "alice (uid 1000) via get");
        assert!(AuditFilter::default().matches(&entry));
        let f = AuditFilter {
            since_ms: Some(1_000),
            until_ms: Some(1_001),
            scope: Some("prod".into()),
            actor: Some("alice".into()),
            action: Some(AuditAction::Reveal),
            ..AuditFilter::default()
        };
        assert!(f.matches(&entry));
        for miss in [
            AuditFilter {
                until_ms: Some(1_000),
                ..AuditFilter::default()
            },
            AuditFilter {
                name: Some("other".into()),
                ..AuditFilter::default()
            },
            AuditFilter {
                actor: Some("bob".into()),
                ..AuditFilter::default()
            },
            AuditFilter {
                action: Some(AuditAction::Set),
                ..AuditFilter::default()
            },
        ] {
            assert!(!miss.matches(&entry), "{miss:?}");
        }
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["action"], "reveal");
        assert_eq!(json["outcome"], "ok");
        assert_eq!(json["actor"]["principal"], "alice");
        let back: AuditEntry = serde_json::from_value(json).unwrap();
        assert_eq!(back, entry);
    }

    #[test]
    fn actions_of_reads_and_writes() {
        assert_eq!(read_action("env:prod", None), Some(AuditAction::Reveal));
        assert_eq!(
            read_action("env:prod", Some(AuditAction::Resolve)),
            Some(AuditAction::Resolve)
        );
        assert_eq!(
            read_action("env:prod", Some(AuditAction::Set)),
            Some(AuditAction::Reveal)
        );
        assert_eq!(read_action("env:prod", Some(AuditAction::Import)), None);
        assert_eq!(read_action(API_KEYS_SCOPE, None), None);
        assert_eq!(read_action(GRANTS_SCOPE, None), None);
        assert_eq!(
            read_action(GIT_CREDENTIALS_SCOPE, Some(AuditAction::Resolve)),
            Some(AuditAction::HelperGet)
        );
        assert_eq!(
            write_action(WriteKind::Rotate, "shop", None),
            AuditAction::Rotate
        );
        assert_eq!(
            write_action(WriteKind::BatchSet, "shop", None),
            AuditAction::Import
        );
        assert_eq!(
            write_action(WriteKind::Set, GRANTS_SCOPE, None),
            AuditAction::Grant
        );
        assert_eq!(
            write_action(WriteKind::Delete, GRANTS_SCOPE, Some(AuditAction::Revoke)),
            AuditAction::Revoke
        );
        assert_eq!(
            write_action(WriteKind::Delete, API_KEYS_SCOPE, None),
            AuditAction::ApiKeyDelete
        );
        assert_eq!(
            write_action(WriteKind::Create, API_KEYS_SCOPE, None),
            AuditAction::ApiKeyCreate
        );
    }

    #[test]
    fn the_os_user_is_named() {
        let actor = Actor::os_user("get");
        assert!(!actor.principal.is_empty());
        #[cfg(unix)]
        assert!(actor.uid.is_some());
        assert_eq!(actor.via, "get");
    }
}
