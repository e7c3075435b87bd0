//! Grants: which user or group may do what with an environment's secrets.
//!
//! A grant binds a [`Subject`] to an environment at a [`PermissionLevel`]. Levels are
//! ordered, each including the ones below it:
//!
//! | level | allows |
//! |---|---|
//! | `none` | nothing (the level of a subject without a grant) |
//! | `read` | list the environment's secrets and see their metadata (versions, times); never a value |
//! | `execute` | also obtain the values: resolve references to start a workload (`run`), reveal, export |
//! | `write` | also create, set, rotate, roll back, delete and import secrets |
//!
//! **`execute` gives access to the values.** Whatever injects a value into a process can
//! print it, so no level can run workloads with the secrets and yet keep their values from
//! the subject: `execute` is what a workload or a CI job needs, and it is a grant to read
//! the values. A subject that must not see values gets `read`.
//!
//! **Ask by operation.** A service that enforces grants should ask
//! [`GrantStore::allows`] / [`GrantStore::allows_member`] with the [`Operation`] it is about
//! to perform, rather than compare levels itself: [`Operation::required_level`] is the one
//! place that maps operations to levels.
//!
//! **Groups.** The store does not know who belongs to which group: the caller (which has
//! authenticated the user) passes the user's groups to [`GrantStore::check_member`] or
//! [`GrantStore::effective_level`]. A subject's effective level is the highest level
//! granted to the user or to any of the groups passed.
//!
//! **Environments** are opaque names (valid secret names: no `/`, no control characters);
//! the CLI passes the environment's scope string, e.g. `env:prod` or `project:shop:env:prod`.
//!
//! **Storage.** One record per environment in [`GRANTS_SCOPE`] (`_zlayer/grants`), named by
//! the environment, with value `{"environment": "env:prod", "grants": {"user:alice": "read",
//! "group:ops": "write"}}`. Granting or revoking rewrites that one record; revoking the last
//! grant deletes it. Writes of one [`GrantStore`] are serialised; two processes changing
//! grants of the same environment at the same instant can lose one change (the store traits
//! have no compare-and-set), so administer grants from one place.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use zlayer_secrets_credentials::grants::{GrantStore, Operation, PermissionLevel, Subject};
//!
//! let grants = GrantStore::new(zlayer_secrets_core::MemoryStore::new());
//! let ops: Subject = "group:ops".parse()?;
//! grants.grant(&ops, "env:prod", PermissionLevel::Execute).await?;
//! // A CI job in group `ops` may obtain the values to run a workload, but not change them.
//! assert!(grants.allows_member("ci", &["ops"], "env:prod", Operation::Resolve).await?);
//! assert!(grants.allows_member("ci", &["ops"], "env:prod", Operation::Reveal).await?);
//! assert!(!grants.allows_member("ci", &["ops"], "env:prod", Operation::Set).await?);
//!
//! // `read` lists names and metadata, never values.
//! let alice = Subject::user("alice");
//! grants.grant(&alice, "env:prod", PermissionLevel::Read).await?;
//! assert!(grants.allows(&alice, "env:prod", Operation::List).await?);
//! assert!(!grants.allows(&alice, "env:prod", Operation::Reveal).await?);
//! assert!(!grants.allows(&Subject::user("bob"), "env:prod", Operation::List).await?);
//! # Ok::<(), zlayer_secrets_core::SecretsError>(())
//! # }).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use zlayer_secrets_core::{Result, SecretsError, SecretsStore, validate_name};

use crate::record;
use crate::scopes::GRANTS_SCOPE;

/// What a subject may do with an environment; ordered `None < Read < Execute < Write`, each
/// level allowing everything the levels below it allow. Which operations need which level is
/// [`Operation::required_level`].
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PermissionLevel {
    /// No access.
    #[default]
    None,
    /// List the secrets' names and see their metadata (versions, creation and update
    /// times); never a value.
    Read,
    /// Also obtain the values: resolve references to start a workload, reveal, export. This
    /// is access to the values (whatever injects a value can print it); it is what a
    /// workload or a CI job needs.
    Execute,
    /// Also create, set, rotate, roll back, delete and import secrets.
    Write,
}

impl PermissionLevel {
    /// Every level, lowest first.
    pub const ALL: [Self; 4] = [Self::None, Self::Read, Self::Execute, Self::Write];

    /// The level's name: `none`, `read`, `execute` or `write`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Read => "read",
            Self::Execute => "execute",
            Self::Write => "write",
        }
    }

    /// Whether this level allows `operation` (it is at least
    /// [`operation.required_level()`](Operation::required_level)).
    #[must_use]
    pub fn allows(self, operation: Operation) -> bool {
        self >= operation.required_level()
    }
}

/// An operation on an environment's secrets, as a service enforcing grants asks about it
/// ([`GrantStore::allows`]). Each maps to the lowest [`PermissionLevel`] that allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// List the names of the secrets (`ls`). Needs [`PermissionLevel::Read`].
    List,
    /// See a secret's metadata or history: versions, creation and update times, never the
    /// value (`get` without `--reveal`, `history`). Needs [`PermissionLevel::Read`].
    Metadata,
    /// Resolve references into values to start a workload (`run`, a container's start).
    /// Needs [`PermissionLevel::Execute`].
    Resolve,
    /// Print or return a value, current or past (`get --reveal`). Needs
    /// [`PermissionLevel::Execute`].
    Reveal,
    /// Export values (`export`). Needs [`PermissionLevel::Execute`].
    Export,
    /// Create a new secret. Needs [`PermissionLevel::Write`].
    Create,
    /// Set a secret's value, creating it if needed. Needs [`PermissionLevel::Write`].
    Set,
    /// Give an existing secret a new value. Needs [`PermissionLevel::Write`].
    Rotate,
    /// Write an old version again as the current one. Needs [`PermissionLevel::Write`].
    Rollback,
    /// Delete a secret with its history. Needs [`PermissionLevel::Write`].
    Delete,
    /// Import many secrets at once. Needs [`PermissionLevel::Write`].
    Import,
}

impl Operation {
    /// Every operation, in the order of their required level.
    pub const ALL: [Self; 11] = [
        Self::List,
        Self::Metadata,
        Self::Resolve,
        Self::Reveal,
        Self::Export,
        Self::Create,
        Self::Set,
        Self::Rotate,
        Self::Rollback,
        Self::Delete,
        Self::Import,
    ];

    /// The lowest level that allows this operation: listing and metadata need `read`;
    /// anything that yields a value (resolve, reveal, export) needs `execute`; anything that
    /// changes secrets needs `write`.
    #[must_use]
    pub fn required_level(self) -> PermissionLevel {
        match self {
            Self::List | Self::Metadata => PermissionLevel::Read,
            Self::Resolve | Self::Reveal | Self::Export => PermissionLevel::Execute,
            Self::Create
            | Self::Set
            | Self::Rotate
            | Self::Rollback
            | Self::Delete
            | Self::Import => PermissionLevel::Write,
        }
    }

    /// The operation's name: `list`, `metadata`, `resolve`, `reveal`, `export`, `create`,
    /// `set`, `rotate`, `rollback`, `delete` or `import`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::List => "list",
            Self::Metadata => "metadata",
            Self::Resolve => "resolve",
            Self::Reveal => "reveal",
            Self::Export => "export",
            Self::Create => "create",
            Self::Set => "set",
            Self::Rotate => "rotate",
            Self::Rollback => "rollback",
            Self::Delete => "delete",
            Self::Import => "import",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for PermissionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PermissionLevel {
    type Err = SecretsError;

    /// Parses `none`, `read`, `execute` or `write`, ignoring ASCII case and surrounding
    /// whitespace.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        Self::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                let shown: String = t.chars().take(40).flat_map(char::escape_debug).collect();
                SecretsError::InvalidInput {
                    what: format!("permission level \"{shown}\""),
                    reason: "expected one of read, execute, write, none".to_owned(),
                }
            })
    }
}

/// Who a grant is for. Written `user:ID` or `group:ID`; a bare `ID` is a user.
///
/// Ordered users first, then groups, each by id. Serialises as its written form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// A user, by id (e.g. a login name or an API key).
    User(String),
    /// A group, by id.
    Group(String),
}

impl Subject {
    /// A user subject.
    pub fn user(id: impl Into<String>) -> Self {
        Self::User(id.into())
    }

    /// A group subject.
    pub fn group(id: impl Into<String>) -> Self {
        Self::Group(id.into())
    }

    /// The id without its kind.
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Self::User(id) | Self::Group(id) => id,
        }
    }

    /// `"user"` or `"group"`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::Group(_) => "group",
        }
    }

    /// Checks the id: 1 to 256 bytes, no control characters, no surrounding whitespace.
    pub fn validate(&self) -> Result<()> {
        let id = self.id();
        let why = if id.is_empty() {
            "the id is empty"
        } else if id.len() > 256 {
            "the id is longer than 256 bytes"
        } else if id.chars().any(char::is_control) {
            "control characters are not allowed"
        } else if id.trim() != id {
            "leading or trailing whitespace is not allowed"
        } else {
            return Ok(());
        };
        let shown: String = id.chars().take(64).flat_map(char::escape_debug).collect();
        Err(SecretsError::InvalidInput {
            what: format!("{} \"{shown}\"", self.kind()),
            reason: why.to_owned(),
        })
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

impl FromStr for Subject {
    type Err = SecretsError;

    /// Parses `user:ID`, `group:ID` (the kind ignoring ASCII case) or a bare `ID` (a user).
    /// A bare id may not contain `:`, so that a mistyped kind (`grup:ops`) is an error
    /// rather than a user named `grup:ops`.
    fn from_str(s: &str) -> Result<Self> {
        let subject = match s.split_once(':') {
            None => Self::User(s.to_owned()),
            Some((kind, id)) if kind.eq_ignore_ascii_case("user") => Self::User(id.to_owned()),
            Some((kind, id)) if kind.eq_ignore_ascii_case("group") => Self::Group(id.to_owned()),
            Some((kind, _)) => {
                let shown: String = kind.chars().take(40).flat_map(char::escape_debug).collect();
                return Err(SecretsError::InvalidInput {
                    what: format!("subject kind \"{shown}\""),
                    reason: "write user:ID, group:ID or a bare user ID".to_owned(),
                });
            }
        };
        subject.validate()?;
        Ok(subject)
    }
}

impl Serialize for Subject {
    fn serialize<Ser: serde::Serializer>(
        &self,
        s: Ser,
    ) -> std::result::Result<Ser::Ok, Ser::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// One grant: a subject's level on an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Who.
    pub subject: Subject,
    /// Which environment.
    pub environment: String,
    /// What they may do.
    pub level: PermissionLevel,
}

/// The stored grants of one environment.
#[derive(Debug, Serialize, Deserialize)]
struct EnvironmentGrants {
    environment: String,
    grants: BTreeMap<Subject, PermissionLevel>,
}

impl EnvironmentGrants {
    fn into_grants(self) -> impl Iterator<Item = Grant> {
        let environment = self.environment;
        self.grants.into_iter().map(move |(subject, level)| Grant {
            subject,
            environment: environment.clone(),
            level,
        })
    }
}

fn what(environment: &str) -> String {
    format!("grants of environment `{environment}`")
}

fn check_environment(environment: &str) -> Result<()> {
    validate_name(environment).map_err(|e| match e {
        SecretsError::InvalidName { name } => SecretsError::InvalidInput {
            what: "environment".to_owned(),
            reason: name,
        },
        other => other,
    })
}

/// Store of grants over any [`SecretsStore`]. See the [module docs](self).
pub struct GrantStore<S: SecretsStore> {
    store: S,
    writes: tokio::sync::Mutex<()>,
}

impl<S: SecretsStore> fmt::Debug for GrantStore<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantStore")
            .field("scope", &GRANTS_SCOPE)
            .finish_non_exhaustive()
    }
}

impl<S: SecretsStore> GrantStore<S> {
    /// A grant store keeping its records in `store`.
    pub fn new(store: S) -> Self {
        Self {
            store,
            writes: tokio::sync::Mutex::new(()),
        }
    }

    /// The underlying store.
    pub fn store(&self) -> &S {
        &self.store
    }

    async fn read(&self, environment: &str) -> Result<EnvironmentGrants> {
        match self.store.get_secret(GRANTS_SCOPE, environment).await {
            Ok(value) => {
                let rec: EnvironmentGrants = record::decode(&what(environment), &value)?;
                if rec.environment != environment {
                    return Err(record::corrupt(
                        &what(environment),
                        "it names another environment",
                    ));
                }
                Ok(rec)
            }
            Err(SecretsError::NotFound { .. }) => Ok(EnvironmentGrants {
                environment: environment.to_owned(),
                grants: BTreeMap::new(),
            }),
            Err(e) => Err(e),
        }
    }

    async fn write(&self, rec: &EnvironmentGrants) -> Result<()> {
        if rec.grants.is_empty() {
            return self
                .store
                .delete_secret(GRANTS_SCOPE, &rec.environment)
                .await;
        }
        let value = record::encode(&what(&rec.environment), rec)?;
        self.store
            .set_secret(GRANTS_SCOPE, &rec.environment, &value)
            .await
    }

    /// Grants `level` on `environment` to `subject`, replacing any level it had there (a
    /// re-grant changes the level; there are never two grants for one pair). Returns the
    /// previous level, `None` if there was no grant. Granting
    /// [`PermissionLevel::None`] is refused: use [`revoke`](Self::revoke).
    pub async fn grant(
        &self,
        subject: &Subject,
        environment: &str,
        level: PermissionLevel,
    ) -> Result<Option<PermissionLevel>> {
        subject.validate()?;
        check_environment(environment)?;
        if level == PermissionLevel::None {
            return Err(SecretsError::InvalidInput {
                what: "permission level `none`".to_owned(),
                reason: format!(
                    "granting it to {subject} on `{environment}` would be a revoke; use revoke"
                ),
            });
        }
        let _guard = self.writes.lock().await;
        let mut rec = self.read(environment).await?;
        let previous = rec.grants.insert(subject.clone(), level);
        if previous != Some(level) {
            self.write(&rec).await?;
        }
        tracing::info!(%subject, environment, %level, "granted");
        Ok(previous)
    }

    /// Removes the grant of `subject` on `environment` and returns the level it had;
    /// [`SecretsError::NotFound`] naming both if there is none.
    pub async fn revoke(&self, subject: &Subject, environment: &str) -> Result<PermissionLevel> {
        check_environment(environment)?;
        let _guard = self.writes.lock().await;
        let mut rec = self.read(environment).await?;
        let level = rec
            .grants
            .remove(subject)
            .ok_or_else(|| SecretsError::NotFound {
                name: format!("grant of {subject} on environment `{environment}`"),
            })?;
        self.write(&rec).await?;
        tracing::info!(%subject, environment, "revoked");
        Ok(level)
    }

    /// The level granted directly to `subject` on `environment`
    /// ([`PermissionLevel::None`] if none).
    pub async fn level(&self, subject: &Subject, environment: &str) -> Result<PermissionLevel> {
        check_environment(environment)?;
        Ok(self
            .read(environment)
            .await?
            .grants
            .get(subject)
            .copied()
            .unwrap_or_default())
    }

    /// The highest level granted on `environment` to any of `subjects` (a user and their
    /// groups); [`PermissionLevel::None`] if none.
    pub async fn effective_level(
        &self,
        subjects: &[Subject],
        environment: &str,
    ) -> Result<PermissionLevel> {
        check_environment(environment)?;
        let rec = self.read(environment).await?;
        Ok(subjects
            .iter()
            .filter_map(|s| rec.grants.get(s).copied())
            .max()
            .unwrap_or_default())
    }

    /// Whether `subject` has at least `needed` on `environment` by its own grant. Needing
    /// [`PermissionLevel::None`] is always satisfied.
    pub async fn check(
        &self,
        subject: &Subject,
        environment: &str,
        needed: PermissionLevel,
    ) -> Result<bool> {
        Ok(self.level(subject, environment).await? >= needed)
    }

    /// Whether user `user`, member of `groups` (as the caller knows them), has at least
    /// `needed` on `environment` through a grant to the user or to any of the groups.
    pub async fn check_member(
        &self,
        user: &str,
        groups: &[&str],
        environment: &str,
        needed: PermissionLevel,
    ) -> Result<bool> {
        let subjects: Vec<Subject> = std::iter::once(Subject::user(user))
            .chain(groups.iter().map(|g| Subject::group(*g)))
            .collect();
        Ok(self.effective_level(&subjects, environment).await? >= needed)
    }

    /// Whether `subject` may perform `operation` on `environment` by its own grant: its
    /// level is at least [`operation.required_level()`](Operation::required_level).
    pub async fn allows(
        &self,
        subject: &Subject,
        environment: &str,
        operation: Operation,
    ) -> Result<bool> {
        Ok(self.level(subject, environment).await?.allows(operation))
    }

    /// Whether user `user`, member of `groups` (as the caller knows them), may perform
    /// `operation` on `environment` through a grant to the user or to any of the groups.
    pub async fn allows_member(
        &self,
        user: &str,
        groups: &[&str],
        environment: &str,
        operation: Operation,
    ) -> Result<bool> {
        self.check_member(user, groups, environment, operation.required_level())
            .await
    }

    /// The grants on `environment`, ordered by subject (users, then groups, each by id).
    pub async fn list_for_environment(&self, environment: &str) -> Result<Vec<Grant>> {
        check_environment(environment)?;
        Ok(self.read(environment).await?.into_grants().collect())
    }

    /// Every grant, ordered by environment, then subject.
    pub async fn list(&self) -> Result<Vec<Grant>> {
        let names: Vec<String> = self
            .store
            .list_secrets(GRANTS_SCOPE)
            .await?
            .into_iter()
            .map(|m| m.name)
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut values = self.store.get_secrets(GRANTS_SCOPE, &refs).await?;
        let mut out = Vec::new();
        for name in &names {
            let Some(value) = values.remove(name) else {
                continue;
            };
            let rec: EnvironmentGrants = record::decode(&what(name), &value)?;
            if rec.environment != *name {
                return Err(record::corrupt(&what(name), "it names another environment"));
            }
            out.extend(rec.into_grants());
        }
        out.sort_by(|a, b| (&a.environment, &a.subject).cmp(&(&b.environment, &b.subject)));
        Ok(out)
    }

    /// The grants of `subject` (its own, not through groups), ordered by environment.
    pub async fn list_for_subject(&self, subject: &Subject) -> Result<Vec<Grant>> {
        Ok(self
            .list()
            .await?
            .into_iter()
            .filter(|g| g.subject == *subject)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered() {
        use PermissionLevel::*;
        assert!(None < Read && Read < Execute && Execute < Write);
        assert_eq!(PermissionLevel::default(), None);
    }

    #[test]
    fn operations_map_to_the_lowest_level_that_allows_them() {
        use Operation::*;
        use PermissionLevel as L;
        let expected = [
            (List, L::Read),
            (Metadata, L::Read),
            (Resolve, L::Execute),
            (Reveal, L::Execute),
            (Export, L::Execute),
            (Create, L::Write),
            (Set, L::Write),
            (Rotate, L::Write),
            (Rollback, L::Write),
            (Delete, L::Write),
            (Import, L::Write),
        ];
        assert_eq!(expected.len(), Operation::ALL.len());
        for (op, level) in expected {
            assert_eq!(op.required_level(), level, "{op}");
            for granted in PermissionLevel::ALL {
                assert_eq!(granted.allows(op), granted >= level, "{granted} {op}");
            }
        }
        // The promise the levels make: `read` never yields a value, and every operation
        // that yields one needs `execute`.
        for op in [Resolve, Reveal, Export] {
            assert!(!L::Read.allows(op), "{op}");
            assert!(L::Execute.allows(op), "{op}");
        }
        assert!(!L::None.allows(List));
        assert!(!L::Execute.allows(Set));
    }

    #[test]
    fn levels_parse_and_print() {
        for level in PermissionLevel::ALL {
            assert_eq!(level.to_string().parse::<PermissionLevel>().unwrap(), level);
            assert_eq!(
                serde_json::to_string(&level).unwrap(),
                format!("\"{level}\"")
            );
        }
        assert_eq!(
            " WRITE ".parse::<PermissionLevel>().unwrap(),
            PermissionLevel::Write
        );
        let msg = "admin".parse::<PermissionLevel>().unwrap_err().to_string();
        assert!(msg.contains("invalid permission level \"admin\""), "{msg}");
        assert!(msg.contains("read, execute, write, none"), "{msg}");
        assert!("".parse::<PermissionLevel>().is_err());
    }

    #[test]
    fn subjects_parse_and_print() {
        assert_eq!("alice".parse::<Subject>().unwrap(), Subject::user("alice"));
        assert_eq!(
            "user:alice".parse::<Subject>().unwrap(),
            Subject::user("alice")
        );
        assert_eq!(
            "group:ops".parse::<Subject>().unwrap(),
            Subject::group("ops")
        );
        assert_eq!(
            "GROUP:ops".parse::<Subject>().unwrap(),
            Subject::group("ops")
        );
        assert_eq!(
            "user:ldap:alice".parse::<Subject>().unwrap(),
            Subject::user("ldap:alice")
        );
        for s in [
            Subject::user("alice"),
            Subject::group("ops"),
            Subject::user("a:b"),
        ] {
            assert_eq!(s.to_string().parse::<Subject>().unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(serde_json::from_str::<Subject>(&json).unwrap(), s);
        }
        for (bad, why) in [
            ("team:x", "invalid subject kind \"team\": write user:ID"),
            ("", "invalid user \"\": the id is empty"),
            ("group:", "invalid group \"\": the id is empty"),
            ("user: alice", "whitespace"),
            ("al\nice", "control"),
        ] {
            let msg = bad.parse::<Subject>().unwrap_err().to_string();
            assert!(msg.contains(why), "{bad:?}: {msg}");
        }
        assert!(Subject::user("z") < Subject::group("a"), "users first");
    }
}
