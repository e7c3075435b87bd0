//! [`SecretsError`], the error type of every store and of the resolver, and the parts of its
//! variants (`details.rs`).

mod details;
#[cfg(test)]
mod tests;

use std::error::Error;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use zlayer_secrets_ref::ParseError;

pub use details::{FileProblem, StoreProblem, TamperedRecord, WrongKeyReason};

/// A cause kept by [`SecretsError`]: any error that may cross threads.
pub type BoxedCause = Box<dyn Error + Send + Sync + 'static>;

/// Everything that can go wrong while storing, reading or resolving secrets.
///
/// Variants carry the context a user needs as fields (which name, which scope, which file,
/// what was being done) and never a secret value; every message is one line. The first
/// eight variants are those of the original crate, with their shapes; match with a wildcard
/// arm, as more may be added.
///
/// A variant that wraps a cause (a SQLite or I/O error, or another `SecretsError`) keeps it
/// in a public `source` field and shows its message after its own, so that `to_string()`
/// says everything. [`Error::source`] then returns the cause's own cause, as
/// [`std::io::Error`] does for the error it wraps: a printer that walks the chain (anyhow's
/// `{:#}`) shows each message once. [`root_cause`](Self::root_cause) sees through the
/// wrappers, and [`is_not_found`](Self::is_not_found), [`is_storage`](Self::is_storage) and
/// [`is_access_denied`](Self::is_access_denied) ask about it.
#[derive(Debug)]
#[non_exhaustive]
pub enum SecretsError {
    /// The named secret (or version) does not exist.
    NotFound {
        /// Which secret, as `scope/name`, and where the resolver found it referenced.
        name: String,
    },
    /// The backend refused access.
    AccessDenied {
        /// Which secret or path.
        name: String,
    },
    /// Encrypting a value failed, or a key is malformed.
    Encryption(String),
    /// A stored value could not be decrypted: wrong key, or the data was altered.
    Decryption(String),
    /// The storage backend failed (the variant of backends outside this workspace; the
    /// workspace's own stores report [`Database`](Self::Database), [`File`](Self::File),
    /// [`FileRefused`](Self::FileRefused) and [`Store`](Self::Store)).
    Storage(String),
    /// A name or scope is not well-formed.
    InvalidName {
        /// The offending name and, where known, what is wrong with it.
        name: String,
    },
    /// The secret exists already.
    AlreadyExists {
        /// Which secret.
        name: String,
    },
    /// A remote provider (Vault) or an environment resolver failed.
    Provider(String),
    /// A concurrent writer changed the secret first (check-and-set lost).
    Conflict {
        /// The secret's scope.
        scope: String,
        /// The secret's name.
        name: String,
        /// The version this writer expected to replace.
        expected: u32,
    },
    /// The key offered does not open this store.
    WrongKey {
        /// The store's database file, when known.
        store: Option<PathBuf>,
        /// Where the key came from (`environment variable ZLAYER_SECRETS_KEY`, `key file
        /// ...`), when known.
        key: Option<String>,
        /// How the key was found wrong (boxed: it is the largest part of any variant, and
        /// every `Result` of the workspace carries the size of this enum).
        reason: Box<WrongKeyReason>,
    },
    /// A value given to an operation is not acceptable: an option, an environment
    /// variable, a role, a host, a permission level...
    InvalidInput {
        /// What was given, with the offending text where it is no secret (`role "x y"`).
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Something is larger than its limit (a value over
    /// [`MAX_VALUE_LEN`](crate::MAX_VALUE_LEN), an API secret...).
    TooLarge {
        /// What is too large (`the value of shop/db`).
        what: String,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes (inclusive).
        limit: usize,
    },
    /// The secret exists, but what the backend holds for it is not a text value (data
    /// that another tool wrote to Vault, such as a `value` field that is a number or
    /// `null`). The secret can still be listed, overwritten and deleted.
    NotText {
        /// The secret's scope.
        scope: String,
        /// The secret's name.
        name: String,
        /// The version read, if not the current one.
        version: Option<u32>,
        /// What the backend holds instead, as a JSON kind (`null`, `a number`), never the
        /// data itself.
        found: &'static str,
    },
    /// The store's own records of a secret fail their authentication: they were changed
    /// outside zlayer-secrets (for example its current version rolled back to an older
    /// one). Nothing is read or written through a record that fails.
    Tampered {
        /// The secret's scope.
        scope: String,
        /// The secret's name.
        name: String,
        /// Which record fails.
        record: TamperedRecord,
    },
    /// The secret has reached the highest version number a store can count to.
    VersionLimit {
        /// The secret's scope.
        scope: String,
        /// The secret's name.
        name: String,
    },
    /// The database of a store failed.
    Database {
        /// What the store was doing (`reading a secret`), read after "while".
        operation: String,
        /// The database file, when known.
        path: Option<PathBuf>,
        /// The database's error (for the SQLite store, a `rusqlite::Error`).
        source: BoxedCause,
    },
    /// A file or directory of a store or of its keys could not be used.
    File {
        /// What was being done to it (`open key file`), read after "cannot".
        operation: String,
        /// Which file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A file or directory is refused: it is not what it must be, or others could change
    /// it.
    FileRefused {
        /// What it is for (`key file`, `the directory of the secrets store`).
        what: String,
        /// Which file or directory.
        path: PathBuf,
        /// What is wrong with it.
        problem: FileProblem,
    },
    /// A store's database is not one this program can use, or its own records are
    /// incomplete.
    Store {
        /// The database file, when known.
        path: Option<PathBuf>,
        /// What is wrong with it.
        problem: StoreProblem,
    },
    /// Work run off the async worker threads panicked, or its runtime shut down first.
    Interrupted {
        /// What the work was (`the database task`).
        task: String,
        /// Why it did not complete (a tokio `JoinError`).
        source: BoxedCause,
    },
    /// No directory was given and the platform has no data directory (no home directory).
    NoDataDirectory {
        /// The environment variable that names a directory instead.
        variable: &'static str,
    },
    /// A store exists, but its key does not: a new key would not open it.
    KeyMissing {
        /// The store's database file.
        store: PathBuf,
        /// Where the key file should be.
        key_file: PathBuf,
        /// The environment variable that can give the key instead.
        variable: &'static str,
    },
    /// A key rotation was asked for where there is no store yet.
    NothingToRotate {
        /// The data directory.
        dir: PathBuf,
    },
    /// A key rotation was asked for while the key comes from an environment variable,
    /// which no rotation can change.
    KeyFromEnvironment {
        /// The variable that holds the key.
        variable: String,
    },
    /// A value starts like a reference (`$S:`, `$secret://`) but is not one.
    InvalidReference {
        /// The environment variable holding it, when resolving an environment.
        variable: Option<String>,
        /// Where and why the reference is malformed (it never repeats the input).
        error: ParseError,
    },
    /// A `{{ }}` placeholder of a value or template holds a malformed reference
    /// ([`Template`](crate::Template)).
    InvalidPlaceholder {
        /// The environment variable holding it, when resolving an environment.
        variable: Option<String>,
        /// Where and why (line, column, reason; it never repeats the text).
        error: crate::TemplateError,
    },
    /// An environment-scoped reference met a resolver without an
    /// [`EnvScopeProvider`](crate::EnvScopeProvider).
    NoEnvResolver,
    /// A reference leads to a scope reserved for zlayer-secrets' own records
    /// ([`is_reserved_scope`](crate::is_reserved_scope)).
    ReservedScope {
        /// The scope.
        scope: String,
    },
    /// A reference reads a field (`$S:name/field`) of a secret whose value is not a JSON
    /// object.
    FieldUnreadable {
        /// The secret's scope.
        scope: String,
        /// The secret's name.
        name: String,
        /// The field.
        field: String,
        /// The JSON kind the value is instead (`array`), `None` if it is not JSON.
        json_kind: Option<&'static str>,
    },
    /// A reference could not be resolved, for the reason in `source`.
    Unresolved {
        /// The reference as written (`$S:db/password`; a reference holds no value).
        reference: String,
        /// The environment variable holding it, when resolving an environment.
        variable: Option<String>,
        /// The scope it was read from, once known.
        scope: Option<String>,
        /// Why it could not be resolved.
        source: Box<SecretsError>,
    },
    /// Reading one scope for several references failed.
    ScopeFailed {
        /// The scope.
        scope: String,
        /// The environment variables whose references read it.
        variables: Vec<String>,
        /// Why it could not be read.
        source: Box<SecretsError>,
    },
    /// A batch on a store without transactions (Vault) failed part-way, and some of the
    /// operations before the failure could not be taken back: those secrets may hold the
    /// batch's values.
    BatchIncomplete {
        /// Which operation failed, counting from 1.
        failed_at: u32,
        /// How many operations the batch has.
        total: u32,
        /// The scope of the secret of the failed operation.
        scope: String,
        /// The name of the secret of the failed operation.
        name: String,
        /// Why it failed.
        source: Box<SecretsError>,
        /// The secrets (`scope/name`) whose operation could not be taken back, each with
        /// why.
        not_undone: Vec<(String, SecretsError)>,
    },
    /// A secrets server refused or failed a request: its status and its message, which
    /// says what was wrong (never a value). `is_access_denied` is true for 401 and 403,
    /// `is_not_found` for 404.
    Server {
        /// The HTTP status.
        status: u16,
        /// The server's error text.
        message: String,
    },
    /// A step of a larger operation failed, for the reason in `source`.
    Operation {
        /// What could not be done (`read the key of the store`), read after "cannot".
        operation: String,
        /// Why.
        source: Box<SecretsError>,
    },
}

impl SecretsError {
    /// `source` as the cause of the failure of `operation` (which reads after "cannot"):
    /// an [`Operation`](Self::Operation).
    #[must_use]
    pub fn during(operation: impl Into<String>, source: SecretsError) -> Self {
        Self::Operation {
            operation: operation.into(),
            source: Box::new(source),
        }
    }

    /// The error at the bottom of the wrappers ([`Unresolved`](Self::Unresolved),
    /// [`ScopeFailed`](Self::ScopeFailed), [`Operation`](Self::Operation)); `self` for any
    /// other variant.
    #[must_use]
    pub fn root_cause(&self) -> &SecretsError {
        let mut error = self;
        while let Self::Unresolved { source, .. }
        | Self::ScopeFailed { source, .. }
        | Self::Operation { source, .. } = error
        {
            error = source;
        }
        error
    }

    /// Whether a secret (or a version, field or record) does not exist: the
    /// [`root_cause`](Self::root_cause) is [`NotFound`](Self::NotFound).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.root_cause(),
            Self::NotFound { .. } | Self::Server { status: 404, .. }
        )
    }

    /// Whether storage failed: the [`root_cause`](Self::root_cause) is
    /// [`Storage`](Self::Storage), or how the workspace's own stores report it:
    /// [`Database`](Self::Database), [`File`](Self::File),
    /// [`FileRefused`](Self::FileRefused), [`Store`](Self::Store) or
    /// [`Interrupted`](Self::Interrupted).
    #[must_use]
    pub fn is_storage(&self) -> bool {
        matches!(
            self.root_cause(),
            Self::Storage(_)
                | Self::Database { .. }
                | Self::File { .. }
                | Self::FileRefused { .. }
                | Self::Store { .. }
                | Self::Interrupted { .. }
        )
    }

    /// Whether access was refused: the [`root_cause`](Self::root_cause) is
    /// [`AccessDenied`](Self::AccessDenied) or [`ReservedScope`](Self::ReservedScope).
    #[must_use]
    pub fn is_access_denied(&self) -> bool {
        matches!(
            self.root_cause(),
            Self::AccessDenied { .. }
                | Self::ReservedScope { .. }
                | Self::Server {
                    status: 401 | 403,
                    ..
                }
        )
    }
}

/// ` {path}` or nothing.
struct InPath<'a>(Option<&'a Path>);

impl fmt::Display for InPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, " {}", path.display()),
            None => Ok(()),
        }
    }
}

impl fmt::Display for SecretsError {
    #[allow(clippy::too_many_lines)] // one short arm per variant
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { name } => write!(f, "secret not found: {name}"),
            Self::AccessDenied { name } => write!(f, "access denied to secret: {name}"),
            Self::Encryption(m) => write!(f, "encryption error: {m}"),
            Self::Decryption(m) => write!(f, "decryption error: {m}"),
            Self::Storage(m) => write!(f, "storage error: {m}"),
            Self::InvalidName { name } => write!(f, "invalid secret name: {name}"),
            Self::AlreadyExists { name } => write!(f, "secret already exists: {name}"),
            Self::Provider(m) => write!(f, "provider error: {m}"),
            Self::Conflict {
                scope,
                name,
                expected,
            } => write!(
                f,
                "conflict on secret {scope}/{name}: it was changed concurrently (expected \
                 version {expected})"
            ),
            Self::WrongKey { store, key, reason } => {
                f.write_str("the key")?;
                if let Some(key) = key {
                    write!(f, " from the {key}")?;
                }
                write!(
                    f,
                    " does not open the store{}: {reason}",
                    InPath(store.as_deref())
                )
            }
            Self::InvalidInput { what, reason } => write!(f, "invalid {what}: {reason}"),
            Self::TooLarge { what, size, limit } => write!(
                f,
                "{what} is {size} bytes, more than the limit of {limit} bytes"
            ),
            Self::NotText {
                scope,
                name,
                version,
                found,
            } => {
                write!(f, "secret {scope}/{name}")?;
                if let Some(version) = version {
                    write!(f, " version {version}")?;
                }
                write!(
                    f,
                    " holds no text value: its `value` field is {found}, not a string"
                )
            }
            Self::Tampered {
                scope,
                name,
                record,
            } => {
                f.write_str("the store was tampered with: ")?;
                record.describe(f, scope, name)
            }
            Self::VersionLimit { scope, name } => write!(
                f,
                "{scope}/{name} has reached the highest version number ({})",
                u32::MAX
            ),
            Self::Database {
                operation,
                path,
                source,
            } => {
                f.write_str("database error")?;
                if let Some(path) = path {
                    write!(f, " in {}", path.display())?;
                }
                write!(f, " while {operation}: {source}")
            }
            Self::File {
                operation,
                path,
                source,
            } => write!(f, "cannot {operation} {}: {source}", path.display()),
            Self::FileRefused {
                what,
                path,
                problem,
            } => {
                write!(f, "{what} {} ", path.display())?;
                problem.describe(f, what)
            }
            Self::Store { path, problem } => {
                write!(f, "the secrets store{} {problem}", InPath(path.as_deref()))
            }
            Self::Interrupted { task, source } => {
                write!(f, "{task} did not complete: {source}")
            }
            Self::NoDataDirectory { variable } => write!(
                f,
                "there is no platform data directory (no home directory?); set {variable}"
            ),
            Self::KeyMissing {
                store,
                key_file,
                variable,
            } => write!(
                f,
                "the store {} exists but there is no key for it: restore the key file {} or \
                 set {variable} (a new key would not open the store)",
                store.display(),
                key_file.display()
            ),
            Self::NothingToRotate { dir } => write!(
                f,
                "there is no store in {} yet: nothing to rotate",
                dir.display()
            ),
            Self::KeyFromEnvironment { variable } => write!(
                f,
                "{variable} is set, so the key comes from the environment and not from a key \
                 file; to rotate, re-key the data with a new value and change {variable}"
            ),
            Self::InvalidReference { variable, error } => match variable {
                Some(variable) => write!(f, "environment variable `{variable}`: {error}"),
                None => write!(f, "{error}"),
            },
            Self::InvalidPlaceholder { variable, error } => match variable {
                Some(variable) => write!(f, "environment variable `{variable}`: {error}"),
                None => write!(f, "{error}"),
            },
            Self::NoEnvResolver => f.write_str(
                "the reference is environment-scoped, but this resolver has no environment \
                 resolver (set one with SecretsResolver::with_env_resolver)",
            ),
            Self::ReservedScope { scope } => write!(
                f,
                "scope `{scope}` is reserved for zlayer-secrets' own records (credentials and \
                 grants); references cannot read it"
            ),
            Self::FieldUnreadable {
                scope,
                name,
                field,
                json_kind,
            } => {
                write!(f, "field `{field}` of {scope}/{name} cannot be read: ")?;
                match json_kind {
                    Some(kind) => {
                        write!(f, "the secret's value is a JSON {kind}, not an object")
                    }
                    None => f.write_str("the secret's value is not valid JSON"),
                }
            }
            Self::Unresolved {
                reference,
                variable,
                scope,
                source,
            } => {
                write!(f, "`{reference}`")?;
                if let Some(variable) = variable {
                    write!(f, " (environment variable `{variable}`)")?;
                }
                if let Some(scope) = scope {
                    write!(f, " in scope `{scope}`")?;
                }
                write!(f, ": {source}")
            }
            Self::ScopeFailed {
                scope,
                variables,
                source,
            } => {
                let plural = if variables.len() == 1 { "" } else { "s" };
                write!(
                    f,
                    "reading scope `{scope}` for environment variable{plural} {}: {source}",
                    variables.join(", ")
                )
            }
            Self::BatchIncomplete {
                failed_at,
                total,
                scope,
                name,
                source,
                not_undone,
            } => {
                write!(
                    f,
                    "batch failed at operation {failed_at} of {total} ({scope}/{name}): \
                     {source}; the operations before it could not all be taken back, these \
                     secrets may hold the batch's values: "
                )?;
                for (i, (secret, why)) in not_undone.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{secret} ({why})")?;
                }
                Ok(())
            }
            Self::Server { message, .. } => f.write_str(message),
            Self::Operation { operation, source } => write!(f, "cannot {operation}: {source}"),
        }
    }
}

impl Error for SecretsError {
    /// The first cause whose message `Display` does not already show: the cause of the
    /// kept `source` (see [`SecretsError`]).
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Database { source, .. } | Self::Interrupted { source, .. } => source.source(),
            Self::File { source, .. } => source.source(),
            Self::Unresolved { source, .. }
            | Self::ScopeFailed { source, .. }
            | Self::BatchIncomplete { source, .. }
            | Self::Operation { source, .. } => source.source(),
            _ => None,
        }
    }
}

/// `Result` with [`SecretsError`].
pub type Result<T, E = SecretsError> = std::result::Result<T, E>;
