//! The command line: every verb, its options and its help text.

mod audit;

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use zlayer_secrets::audit::AuditAction;

pub(crate) use self::audit::{AuditArgs, AuditCommand};
use crate::formats::FormatArg;
use crate::own_credentials::{CREDENTIAL_VARIABLES, is_credential_variable};
use crate::scope::ScopeArgs;
use crate::value::ValueArgs;

/// Manage secrets stored encrypted on this machine, and start programs with them.
///
/// Secrets live in one encrypted SQLite store per data directory (`--data-dir`, else
/// `ZLAYER_SECRETS_DIR`, else the platform data directory). Its key comes from
/// `ZLAYER_SECRETS_KEY` (64 hex digits), else `ZLAYER_SECRETS_PASSWORD`, else the key file
/// `secrets_default.key` in the data directory, created on first write.
///
/// Values are printed only by `get --reveal`, `export` and the program started by `run`.
/// Machine-readable output goes to stdout, messages to stderr. Exit codes: 0 success,
/// 1 failure, 2 usage error (`run` exits with the program's code).
#[derive(Debug, Parser)]
#[command(name = "zlayer-secret", version, max_term_width = 100)]
pub struct Cli {
    /// Print no notes or warnings on stderr, only errors.
    #[arg(short = 'q', long, global = true, help_heading = GLOBAL)]
    pub(crate) quiet: bool,

    /// Directory of the store and its key file.
    #[arg(long, global = true, value_name = "DIR", env = "ZLAYER_SECRETS_DIR", help_heading = GLOBAL)]
    pub(crate) data_dir: Option<PathBuf>,

    /// Where the secrets are kept: the local encrypted store, or a Vault / OpenBao KV v2
    /// mount (configured by `VAULT_ADDR`, `VAULT_TOKEN`, `VAULT_MOUNT`, `VAULT_NAMESPACE`,
    /// `VAULT_CACERT`).
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_enum,
        env = "ZLAYER_SECRETS_BACKEND",
        default_value_t = BackendKind::Local
    )]
    pub(crate) backend: BackendKind,

    /// Work against the secrets server at this URL (`zlayer-secret serve` on another host)
    /// instead of a local store, with the API key in `ZLAYER_SECRETS_API_KEY` and
    /// `ZLAYER_SECRETS_API_SECRET`.
    #[arg(long, global = true, value_name = "URL", env = "ZLAYER_SECRETS_SERVER", help_heading = GLOBAL)]
    pub(crate) server: Option<String>,

    /// A PEM file of CA certificates to trust for the server's TLS certificate (with
    /// `--server https://...`).
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_name = "PEM",
        env = "ZLAYER_SECRETS_SERVER_CA"
    )]
    pub(crate) server_ca: Option<PathBuf>,

    /// Do not record this command's operations in the store's audit log. Turning auditing
    /// off is itself recorded (an `audit-disable` entry naming you and the verb), and the
    /// next command without it records `audit-enable`.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        env = "ZLAYER_SECRETS_NO_AUDIT",
        value_parser = clap::builder::FalseyValueParser::new()
    )]
    pub(crate) no_audit: bool,

    /// The verb.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// A secret's name as an argument: refused by clap (exit 2, one sentence: what is wrong
/// with it) when the store would refuse it.
fn secret_name(text: &str) -> Result<String, String> {
    match zlayer_secrets::validate_name(text) {
        Ok(()) => Ok(text.to_owned()),
        // The rule's message without the "invalid secret name: name ...:" that clap's own
        // "invalid value ... for <NAME>" already says.
        Err(zlayer_secrets::SecretsError::InvalidName { name }) => Err(name
            .split_once("\": ")
            .map_or(name.clone(), |(_, why)| why.to_owned())),
        Err(e) => Err(e.to_string()),
    }
}

/// The help heading of the options every verb takes, listed apart from the verb's own.
const GLOBAL: &str = "Global options";

/// Where the secrets are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum BackendKind {
    /// The encrypted SQLite store of the data directory.
    #[default]
    Local,
    /// A Vault or OpenBao server's KV v2 mount; keys are managed by Vault.
    Vault,
}

/// Table for people or JSON for programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum Output {
    /// Aligned columns.
    #[default]
    Table,
    /// One JSON document.
    Json,
}

/// Output options of the listing verbs.
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct OutputArgs {
    /// How to print the result.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,
}

/// What a grant allows. Each level includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Level {
    /// List the environment's secrets and see their metadata (versions, times); never a
    /// value.
    Read,
    /// Also obtain the values (resolve them for `run`, reveal, export), as a workload or CI
    /// job needs. This gives access to the values: whatever injects a value can print it.
    Execute,
    /// Also create, set, rotate, roll back, delete and import secrets.
    Write,
}

/// An environment, for the grant verbs.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct EnvArgs {
    /// The environment.
    #[arg(short = 'e', long, value_name = "NAME")]
    pub(crate) env: String,
    /// The project the environment belongs to, if any.
    #[arg(short = 'p', long, value_name = "NAME")]
    pub(crate) project: Option<String>,
}

/// Every verb.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the secrets of a scope (names, versions, times; never values).
    #[command(
        after_help = "Examples:\n  zlayer-secret ls\n  zlayer-secret ls shop/api\n  zlayer-secret ls env:prod --output json\n  zlayer-secret ls --deployment shop --service api"
    )]
    Ls {
        /// The scope, written as listings show it: DEPLOYMENT, DEPLOYMENT/SERVICE, env:ENV
        /// or project:PROJECT:env:ENV (instead of the scope options).
        #[arg(
            value_name = "SCOPE",
            conflicts_with_all = ["env", "project", "deployment", "service"]
        )]
        scope_name: Option<String>,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// Create a new secret; fails if it exists already.
    #[command(
        after_help = "Examples:\n  zlayer-secret create db-password --from-stdin < password.txt\n  zlayer-secret create api-token --random --length 48 --env prod"
    )]
    Create {
        /// Name of the secret.
        #[arg(value_parser = secret_name)]
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        value: ValueArgs,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// Show a secret's metadata; with --reveal, print its value.
    #[command(
        after_help = "Examples:\n  zlayer-secret get db-password\n  zlayer-secret get db-password --reveal\n  zlayer-secret get db-password --version 2 --reveal --env prod"
    )]
    Get {
        /// Name of the secret.
        #[arg(value_parser = secret_name)]
        name: String,
        /// Print the value itself (to stdout, with no trailing newline added).
        #[arg(long)]
        reveal: bool,
        /// Print one field of a JSON value (`a.b` or `/a/b`; a number indexes an array),
        /// as `--reveal` prints a value: strings as they are, other JSON as compact JSON.
        #[arg(long, value_name = "PATH")]
        field: Option<String>,
        /// A past version instead of the current one.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        version: Option<u32>,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// Create a secret, or write a new version of it.
    #[command(
        after_help = "Examples:\n  zlayer-secret set db-password --from-file ./password.txt\n  printf %s \"$TOKEN\" | zlayer-secret set api-token --from-stdin --env prod"
    )]
    Set {
        /// Name of the secret.
        #[arg(value_parser = secret_name)]
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        value: ValueArgs,
        /// Write a new version even when the value is the current one (by default an
        /// unchanged value adds no version, as `import` skips unchanged entries).
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// Delete secrets and all their versions; fails on a name that does not exist.
    #[command(
        after_help = "Examples:\n  zlayer-secret rm old-token\n  zlayer-secret rm a b c --env staging"
    )]
    Rm {
        /// Names of the secrets.
        #[arg(required = true, value_parser = secret_name)]
        names: Vec<String>,
        #[command(flatten)]
        scope: ScopeArgs,
    },

    /// Delete secrets if they exist (succeeds for names that do not).
    #[command(after_help = "Examples:\n  zlayer-secret unset OLD_API_KEY --env prod")]
    Unset {
        /// Names of the secrets.
        #[arg(required = true, value_parser = secret_name)]
        names: Vec<String>,
        #[command(flatten)]
        scope: ScopeArgs,
    },

    /// Write a new value of an existing secret; prints `vN -> vN+1`.
    #[command(
        after_help = "Examples:\n  zlayer-secret rotate api-token --random\n  zlayer-secret rotate db-password --from-stdin --env prod"
    )]
    Rotate {
        /// Name of the secret.
        #[arg(value_parser = secret_name)]
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        value: ValueArgs,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// List the retained versions of a secret.
    #[command(
        after_help = "Examples:\n  zlayer-secret history db-password\n  zlayer-secret history db-password --output json"
    )]
    History {
        /// Name of the secret.
        #[arg(value_parser = secret_name)]
        name: String,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// Write the value of an old version again, as a new version.
    #[command(after_help = "Examples:\n  zlayer-secret rollback db-password --to 3")]
    Rollback {
        /// Name of the secret.
        #[arg(value_parser = secret_name)]
        name: String,
        /// The version whose value to restore.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        to: u32,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// Store every entry of a dotenv or JSON file, all or nothing (on Vault: one by one).
    #[command(
        after_help = "The format is detected from the content (a file starting with `{` is JSON) unless\n--format is given. FILE `-` reads standard input. Prints how many secrets were created,\nupdated and left unchanged.\n\nWith --backend vault the import is not atomic: Vault has no multi-secret transaction,\nso the entries are written one by one; when one fails, those written before it are taken\nback (the error names any that could not be). A crash or a lost connection part-way\nleaves them in place; running the import again finishes it.\n\nExamples:\n  zlayer-secret import .env --env staging --dry-run\n  zlayer-secret import secrets.json --deployment shop"
    )]
    Import {
        /// The file (`-` for standard input).
        file: PathBuf,
        /// The file's format (default: detected).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Check the file and report what would change, without writing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        scope: ScopeArgs,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// Print every secret of a scope with its value, as dotenv or JSON.
    #[command(
        after_help = "The output reads back with `import` to the identical values.\n\nExamples:\n  zlayer-secret export --format env --env prod > prod.env\n  zlayer-secret export --format json --to backup.json"
    )]
    Export {
        /// The format (`--output` is the same option).
        #[arg(long, visible_alias = "output", value_enum, default_value = "env")]
        format: crate::formats::ExportFormat,
        /// Write to this new file (created with mode 0600) instead of stdout.
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
        #[command(flatten)]
        scope: ScopeArgs,
    },

    /// Give a user or group access to an environment at a level.
    ///
    /// `read` lists names and metadata, never values; `execute` also obtains the values
    /// (for `run`, `get --reveal`, `export`): it gives access to the values, since whatever
    /// injects a value can print it; `write` also changes secrets. The CLI records grants;
    /// services that authenticate users enforce them.
    #[command(
        after_help = "Examples:\n  zlayer-secret grant alice --env prod --level read\n  zlayer-secret grant ci-bot --env prod --project shop --level execute"
    )]
    Grant {
        /// The user or group.
        user: String,
        #[command(flatten)]
        env: EnvArgs,
        /// What the grant allows.
        #[arg(long, value_enum)]
        level: Level,
    },

    /// Take away a user's or group's access to an environment.
    #[command(after_help = "Examples:\n  zlayer-secret revoke alice --env prod")]
    Revoke {
        /// The user or group.
        user: String,
        #[command(flatten)]
        env: EnvArgs,
    },

    /// List who has access to an environment.
    #[command(
        after_help = "Examples:\n  zlayer-secret permissions --env prod\n  zlayer-secret permissions --env prod --output json"
    )]
    Permissions {
        #[command(flatten)]
        env: EnvArgs,
        #[command(flatten)]
        output: OutputArgs,
    },

    /// Start a program with the secret references in its environment resolved.
    ///
    /// Every variable whose value is a reference (`$S:name`, `$S:@service/name`,
    /// `$S::env/name`, `$S:project:env/name`, `$secret://env/NAME`, each with an optional
    /// `/field` of a JSON secret) is replaced by the secret's value; inside a longer value,
    /// a reference in `{{ }}` is replaced (`postgres://app:{{ $S:pw }}@db`; `\{{` is a
    /// literal `{{`). A value that mentions `$S:` anywhere else is passed on unchanged, with
    /// a warning. Variables come from this
    /// process's environment, without this tool's own credentials (`ZLAYER_SECRETS_KEY`,
    /// `ZLAYER_SECRETS_PASSWORD`, `VAULT_TOKEN`, API keys; see `--keep-env`), and from
    /// `--env-file` (which wins). `$S:name` reads the
    /// deployment scope (`--deployment`, `--service`), or with `--env` that environment.
    ///
    /// By default the program's stdout and stderr pass through a filter that prints
    /// `<concealed>` in place of any resolved value; `--no-masking` starts the program
    /// directly on this terminal instead. Exits with the program's exit code (128 + signal
    /// if it was killed; 127 if it does not exist, 126 if it cannot be executed); every
    /// catchable signal that would end this process (SIGHUP,
    /// SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, ...) is forwarded to it.
    #[command(
        after_help = "Examples:\n  DB_PASSWORD='$S:db-password' zlayer-secret run -- ./server\n  DATABASE_URL='postgres://app:{{ $S:db-password }}@db/app' zlayer-secret run -- ./server\n  zlayer-secret run --env prod --env-file prod.env -- ./migrate --all\n  zlayer-secret run --all --env prod --merge base -- ./server\n  zlayer-secret run --all --env prod --dry-run\n  zlayer-secret run --watch --interval 30s --env prod --all -- ./server"
    )]
    Run {
        #[command(flatten)]
        scope: ScopeArgs,
        /// A dotenv file of extra variables (references allowed); wins over inherited ones.
        /// Repeatable: a later file wins over an earlier one. A key defined twice in one
        /// file is an error.
        #[arg(long = "env-file", value_name = "FILE")]
        env_files: Vec<PathBuf>,
        /// Also give the program every secret of the scope as a variable of its name
        /// (names that cannot be variable names are skipped, with a warning). A secret
        /// wins over an inherited variable of the same name unless `--preserve-env`.
        #[arg(long)]
        all: bool,
        /// With `--all`: layer environment ENV (of `--project`, if given) under the scope
        /// (repeatable: a later `--merge` wins over an earlier one; the scope wins over all).
        #[arg(long = "merge", value_name = "ENV", requires = "all")]
        merge: Vec<String>,
        /// With `--all`: only these secrets (comma-separated or repeated); a name no layer
        /// holds is an error.
        #[arg(long, value_name = "NAMES", value_delimiter = ',', requires = "all")]
        only: Vec<String>,
        /// With `--all`: an inherited variable of one of these names wins over the secret
        /// (comma-separated or repeated).
        #[arg(
            long = "preserve-env",
            value_name = "NAMES",
            value_delimiter = ',',
            requires = "all"
        )]
        preserve_env: Vec<String>,
        /// Print each variable `run` would set from a secret and where it comes from (never
        /// a value), and start nothing.
        #[arg(long)]
        dry_run: bool,
        /// Restart the program when a secret it was given changes (a new version, a
        /// deletion, with `--all` a secret added): SIGTERM, SIGKILL after `--grace`, then
        /// start it again with the new values. A burst of changes causes one restart.
        #[arg(long, conflicts_with = "mount_dir")]
        watch: bool,
        /// With `--watch`: how often to look for changes.
        #[arg(long, value_name = "DURATION", default_value = "5s", requires = "watch", value_parser = crate::commands::serve::parse_duration)]
        interval: std::time::Duration,
        /// With `--watch`: how long the program may take to end after SIGTERM.
        #[arg(long, value_name = "DURATION", default_value = "10s", requires = "watch", value_parser = crate::commands::serve::parse_duration)]
        grace: std::time::Duration,
        /// Do not filter the program's output; run it directly.
        #[arg(long)]
        no_masking: bool,
        /// Give each resolved secret `NAME` to the program as the file `DIR/NAME` (mode
        /// 0400, in a 0700 directory removed afterwards) named by the variable `NAME_FILE`,
        /// instead of the variable `NAME`. `DIR` must be new or an empty directory; prefer
        /// a tmpfs such as a new directory under `/dev/shm`.
        #[arg(long, value_name = "DIR")]
        mount_dir: Option<PathBuf>,
        /// Pass this credential of `zlayer-secret` on to the program (repeatable). By
        /// default `ZLAYER_SECRETS_KEY`, `ZLAYER_SECRETS_PASSWORD`, `VAULT_TOKEN`,
        /// `ZLAYER_SECRETS_API_KEY` and `ZLAYER_SECRETS_API_SECRET` are removed from its
        /// environment.
        #[arg(long = "keep-env", value_name = "NAME")]
        keep_env: Vec<String>,
        /// The program and its arguments, after `--`.
        #[arg(required_unless_present = "dry_run", last = true, value_name = "CMD")]
        command: Vec<OsString>,
    },

    /// Render a template file with the secrets its `{{ reference }}` placeholders name.
    ///
    /// Each placeholder, `{{ $S:name }}` or `{{ $secret://env/NAME }}` (spaces inside the
    /// braces optional, `/field` allowed), is replaced by the secret's value, byte for byte;
    /// everything else comes out as it is. `\{{` is a literal `{{`, and `{{ ... }}` holding
    /// no reference (another template language's) is left alone. Every reference is
    /// resolved before anything is written: if one fails, the command exits 1 and writes
    /// nothing. `--out FILE` is created with mode 0600 and replaced atomically (a temporary
    /// file renamed over it); without it the result goes to stdout.
    #[command(
        after_help = "Examples:\n  zlayer-secret inject -i config.tpl.yaml -o config.yaml\n  zlayer-secret inject --env prod -i app.env.tpl > app.env\n  echo 'url: postgres://app:{{ $S:db-password }}@db' | zlayer-secret inject -i -"
    )]
    Inject {
        /// The template (`-` for standard input).
        #[arg(short = 'i', long = "in-file", value_name = "TEMPLATE")]
        input: PathBuf,
        /// Where to write the result (mode 0600, replaced atomically); stdout if absent.
        #[arg(short = 'o', long = "out-file", value_name = "OUT")]
        output: Option<PathBuf>,
        #[command(flatten)]
        scope: ScopeArgs,
    },

    /// Print the value of one secret reference (a field of it, with `/field`).
    ///
    /// The reference is read as `run` and `inject` read it: `$S:name` from the deployment
    /// scope (or with `--env` that environment), `$S:@service/name`, `$S::env/name`,
    /// `$S:project:env/name`, `$secret://env/NAME`. The value is followed by a newline
    /// unless `--no-newline`. Quote the reference in single quotes so the shell leaves `$S`
    /// alone.
    #[command(
        after_help = "Examples:\n  zlayer-secret read '$S:db-password'\n  zlayer-secret read '$secret://prod/db/password' -n > password.txt"
    )]
    Read {
        /// The reference.
        reference: String,
        /// Print no newline after the value.
        #[arg(short = 'n', long)]
        no_newline: bool,
        #[command(flatten)]
        scope: ScopeArgs,
    },

    /// Serve the store over HTTP to clients with API keys, enforcing their grants.
    ///
    /// The server keeps the store (this data directory's, or Vault with `--backend vault`)
    /// and its key; clients authenticate with an API key (`api-key create`) at `POST
    /// /auth/token` and call `/api/v1/secrets` with the bearer token. Role `admin` may do
    /// everything; other keys act on environments by the grants of their user and groups.
    /// Until some key has role admin, every `/api/v1` request is refused. Plain HTTP only on
    /// a loopback address unless `--insecure-http`. Stops on SIGTERM or SIGINT after the
    /// requests in flight finish. See docs/server.md.
    #[command(
        after_help = "Examples:\n  zlayer-secret api-key create admin --role admin\n  zlayer-secret serve\n  zlayer-secret serve --listen 0.0.0.0:8790 --tls-cert cert.pem --tls-key key.pem"
    )]
    Serve {
        /// The address to listen on.
        #[arg(long, value_name = "ADDR", default_value = zlayer_secrets_server::DEFAULT_LISTEN)]
        listen: std::net::SocketAddr,
        /// The TLS certificate chain (PEM); with --tls-key the server speaks HTTPS only.
        #[arg(long, value_name = "PEM", requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The TLS private key (PEM).
        #[arg(long, value_name = "PEM", requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Allow plain HTTP on an address that is not loopback (behind a TLS proxy).
        #[arg(long)]
        insecure_http: bool,
        /// How long a bearer token is valid (90s, 15m, 1h, 1d).
        #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = crate::commands::serve::parse_duration)]
        token_lifetime: std::time::Duration,
    },

    /// Manage the API keys clients of `serve` authenticate with.
    #[command(subcommand)]
    ApiKey(ApiKeyCommand),

    /// List or remove the registry credentials the docker helper stored (never a password).
    #[command(subcommand)]
    Registry(CredentialCommand),

    /// List or remove the Git credentials the git helper stored (never a value).
    #[command(subcommand)]
    Git(CredentialCommand),

    /// Inspect or change the key that protects the store.
    #[command(subcommand)]
    Key(KeyCommand),

    /// List the audit log: who read or changed which secret, and when (never a value).
    ///
    /// Every read of a value and every write is recorded in the store, with the user and
    /// the verb; `audit verify` checks that no entry was altered, removed or moved, `audit
    /// prune` removes old entries. Entries are listed oldest first. TIME is an RFC 3339 time (`2026-12-01T10:00:00Z`),
    /// a date (`2026-12-01`, midnight UTC) or an age meaning that long ago (`90s`, `15m`,
    /// `1h`, `7d`).
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  zlayer-secret audit --since 1d\n  zlayer-secret audit --env prod --action reveal --output json\n  zlayer-secret audit verify\n  zlayer-secret audit prune --before 90d"
    )]
    Audit(AuditArgs),

    /// A git credential helper: keeps git's passwords and tokens in the store.
    ///
    /// git runs it with the operation (`get`, `store` or `erase`) and the request as
    /// `key=value` lines on stdin; `get` answers with `username=` and `password=` lines, or
    /// nothing when no credential matches. Other operations are ignored. Credentials are
    /// kept per protocol (`https`, `smtp` for `git send-email`, ...), host and port; of
    /// several users of one host, the one stored last is given first.
    #[command(
        after_help = "Configure git with:\n  git config --global credential.helper '!zlayer-secret --data-dir /path/to/dir git-credential'"
    )]
    GitCredential {
        /// The operation git asks for: get, store or erase.
        operation: String,
    },
}

impl Command {
    /// A usage mistake found after parsing (reported like clap's own, exit code 2).
    pub(crate) fn usage_error(&self) -> Option<String> {
        match self {
            Self::Create { value, .. } | Self::Set { value, .. } | Self::Rotate { value, .. } => {
                value.usage_error().map(str::to_owned)
            }
            Self::Run { keep_env, .. } => keep_env
                .iter()
                .find(|name| !is_credential_variable(name.as_ref()))
                .map(|name| {
                    format!(
                        "--keep-env {name}: only the credentials run removes can be kept ({})",
                        CREDENTIAL_VARIABLES.join(", ")
                    )
                }),
            Self::Audit(args) => args.usage_error(),
            _ => None,
        }
    }

    /// The verb as typed (`get`, `key rotate`, `api-key create`, ...): what the audit log
    /// records the command's operations as done through.
    pub(crate) fn verb(&self) -> &'static str {
        match self {
            Self::Ls { .. } => "ls",
            Self::Create { .. } => "create",
            Self::Get { .. } => "get",
            Self::Set { .. } => "set",
            Self::Rm { .. } => "rm",
            Self::Unset { .. } => "unset",
            Self::Rotate { .. } => "rotate",
            Self::History { .. } => "history",
            Self::Rollback { .. } => "rollback",
            Self::Import { .. } => "import",
            Self::Export { .. } => "export",
            Self::Grant { .. } => "grant",
            Self::Revoke { .. } => "revoke",
            Self::Permissions { .. } => "permissions",
            Self::Run { .. } => "run",
            Self::Inject { .. } => "inject",
            Self::Read { .. } => "read",
            Self::Serve { .. } => "serve",
            Self::ApiKey(ApiKeyCommand::Create { .. }) => "api-key create",
            Self::ApiKey(ApiKeyCommand::Ls { .. }) => "api-key ls",
            Self::ApiKey(ApiKeyCommand::Rm { .. }) => "api-key rm",
            Self::Registry(CredentialCommand::Ls { .. }) => "registry ls",
            Self::Registry(CredentialCommand::Rm { .. }) => "registry rm",
            Self::Git(CredentialCommand::Ls { .. }) => "git ls",
            Self::Git(CredentialCommand::Rm { .. }) => "git rm",
            Self::Key(KeyCommand::Status { .. }) => "key status",
            Self::Key(KeyCommand::Rotate { .. }) => "key rotate",
            Self::Audit(args) => args.verb(),
            Self::GitCredential { .. } => "git-credential",
        }
    }

    /// What the command reads values for, as the audit log records it: `export` exports,
    /// `run` and `inject` resolve references for a program or a file, `revoke` revokes (its grants write is no
    /// grant), the git credential helper reads credentials; other reads reveal.
    pub(crate) fn audit_purpose(&self) -> Option<AuditAction> {
        match self {
            Self::Export { .. } => Some(AuditAction::Export),
            // Their reads only compare values with the file's (`set`: with the new value,
            // to skip an unchanged one); their writes are recorded.
            Self::Import { .. } | Self::Set { .. } => Some(AuditAction::Import),
            Self::Run { .. } | Self::Inject { .. } => Some(AuditAction::Resolve),
            Self::Revoke { .. } => Some(AuditAction::Revoke),
            Self::GitCredential { .. } => Some(AuditAction::HelperGet),
            _ => None,
        }
    }
}

/// The `api-key` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum ApiKeyCommand {
    /// Make an API key for user NAME and print its id and secret (shown only now).
    ///
    /// Grants to NAME (`grant NAME --env E --level L`) and to `group:G` for each --group
    /// apply to the key; --role admin may do everything. `--output json` prints `api_key`
    /// and `api_secret`, exactly what `POST /auth/token` takes.
    #[command(
        after_help = "Examples:\n  zlayer-secret api-key create admin --role admin\n  zlayer-secret api-key create ci-bot --group deployers --output json"
    )]
    Create {
        /// The user the key speaks for.
        name: String,
        /// A role (repeatable); `admin` may do everything.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// A group the key belongs to (repeatable).
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// List the API keys with their users, roles and groups (never a secret).
    Ls {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Delete API keys; their tokens stop working at once.
    Rm {
        /// The keys' ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// The `registry` and `git` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum CredentialCommand {
    /// List the stored credentials: id, where they apply, user name, kind; never a secret.
    Ls {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Remove credentials by id (as `ls` shows them).
    Rm {
        /// The credentials' ids.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// The `key` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum KeyCommand {
    /// Where the key comes from, its fingerprint, and the store it protects.
    #[command(
        after_help = "Examples:\n  zlayer-secret key status\n  zlayer-secret key status --output json"
    )]
    Status {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Replace the key file with a new random key and re-protect the store with it.
    ///
    /// By default only the store's data key is re-wrapped (fast, one row); with
    /// `--reencrypt` every stored value is encrypted again under a new data key too.
    #[command(
        after_help = "Examples:\n  zlayer-secret key rotate\n  zlayer-secret key rotate --reencrypt"
    )]
    Rotate {
        /// Also re-encrypt every value under a new data key.
        #[arg(long)]
        reencrypt: bool,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
