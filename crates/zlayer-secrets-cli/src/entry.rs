//! Running one verb: logging, the async runtime, and the dispatch to `commands`.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::CommandFactory as _;
use zlayer_secrets::audit::{self, Actor, AuditContext};

use crate::backend::{self, Access, Backend};
use crate::cli::{ApiKeyCommand, AuditArgs, AuditCommand, BackendKind, Cli, Command, KeyCommand};
use crate::output::note;
use crate::{commands, helpers, output, scope};

/// Runs the verb of a parsed command line and returns the process exit code: 0 success,
/// 1 failure (the error is printed on stderr), 2 a usage mistake clap cannot express
/// (printed as clap prints its own, and the process exits at once); `run` gives its
/// program's code.
#[must_use]
pub fn run(cli: Cli) -> ExitCode {
    if let Some(problem) = cli
        .command
        .usage_error()
        .or_else(|| remote_usage_error(&cli))
    {
        // Reported with the verb's own usage line, as clap reports its own mistakes.
        let mut target = Cli::command();
        target.build();
        for word in cli.command.verb().split(' ') {
            match target.find_subcommand(word) {
                Some(sub) => target = sub.clone(),
                None => break,
            }
        }
        target
            .error(clap::error::ErrorKind::ArgumentConflict, problem)
            .exit();
    }
    if cli.quiet {
        output::set_quiet();
    }
    init_logging();
    if cli.no_audit {
        backend::disable_audit();
    }
    // The server answers many clients: one worker per core. Every other verb is one
    // short sequence of requests.
    let mut builder = if matches!(cli.command, Command::Serve { .. }) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            note!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Every operation of the verb is recorded in the store's audit log as done by this user
    // through the verb as typed, for the verb's purpose.
    let mut context = AuditContext::new(Actor::os_user(cli.command.verb()));
    if let Some(purpose) = cli.command.audit_purpose() {
        context = context.with_purpose(purpose);
    }
    match runtime.block_on(audit::scope(context, dispatch(cli))) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            note!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--server` with `--backend vault`: two places for the secrets.
fn remote_usage_error(cli: &Cli) -> Option<String> {
    let server = cli.server.as_deref().is_some_and(|s| !s.trim().is_empty());
    (server && cli.backend == BackendKind::Vault).then(|| {
        "--server cannot be used with --backend vault: the server keeps its own store (unset \
         ZLAYER_SECRETS_SERVER or ZLAYER_SECRETS_BACKEND)"
            .to_owned()
    })
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings, except the resolver's
/// warning about a stray `$S:`, which `run` prints as a note of its own). No secret value
/// is ever logged.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,zlayer_secrets::stray_reference=off")
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// The verbs that work on a local store only, each with where to run it instead.
fn local_only(command: &Command) -> Option<(&'static str, &'static str)> {
    const ON_THE_HOST: &str = "the store and its key stay on the server's host; run it there";
    Some(match command {
        Command::Key(KeyCommand::Status { .. }) => ("key status", ON_THE_HOST),
        Command::Key(KeyCommand::Rotate { .. }) => ("key rotate", ON_THE_HOST),
        Command::ApiKey(_) => ("api-key", ON_THE_HOST),
        Command::Registry(_) | Command::Git(_) => (
            command.verb(),
            "the helpers keep their credentials in a local store; run it where they run",
        ),
        Command::Serve { .. } => (
            "serve",
            "a server serves the store of its own data directory (or Vault)",
        ),
        Command::GitCredential { .. } => (
            "git-credential",
            "git's credentials are kept in a local store; configure the helper without it",
        ),
        Command::Audit(args) if matches!(args.command, Some(AuditCommand::Prune { .. })) => (
            args.verb(),
            "the server's log is pruned on the server's host (`zlayer-secret audit prune` \
             with its data directory)",
        ),
        _ => return None,
    })
}

/// Runs one verb; returns the process exit code.
#[allow(clippy::too_many_lines)] // one short arm per verb, each only delegating
async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let location = backend::Location::new(cli.backend, cli.data_dir.as_deref())?;
    let remote = backend::Remote::from_args(cli.server.as_deref(), cli.server_ca.as_deref());
    if let (Some(remote), Some((verb, why))) = (&remote, local_only(&cli.command)) {
        return Err(remote.refuse(verb, why));
    }
    let open = |access| Backend::open_for(&location, remote.as_ref(), access);
    match cli.command {
        Command::Ls {
            scope_name,
            scope,
            output,
        } => {
            let scope = match scope_name {
                Some(text) => scope::parse_scope(&text)?,
                None => scope.scope()?,
            };
            commands::secrets::ls(&open(Access::Read).await?, &scope, output.output).await?;
        }
        Command::Create {
            name,
            scope,
            value,
            output,
        } => {
            let scope = scope.scope()?;
            commands::secrets::create(
                &open(Access::Write).await?,
                &scope,
                &name,
                &value,
                output.output,
            )
            .await?;
        }
        Command::Get {
            name,
            reveal,
            field,
            version,
            scope,
            output,
        } => {
            let scope = scope.scope()?;
            let backend = open(Access::Read).await?;
            match field {
                Some(path) => {
                    commands::secrets::get_field(
                        &backend,
                        &scope,
                        &name,
                        &path,
                        version,
                        output.output,
                    )
                    .await?;
                }
                None => {
                    commands::secrets::get(&backend, &scope, &name, reveal, version, output.output)
                        .await?;
                }
            }
        }
        Command::Set {
            name,
            scope,
            value,
            force,
            output,
        } => {
            let scope = scope.scope()?;
            let write = commands::secrets::Write {
                value: &value,
                force,
                out: output.output,
            };
            commands::secrets::set(&open(Access::Write).await?, &scope, &name, &write).await?;
        }
        Command::Rm { names, scope } => {
            let scope = scope.scope()?;
            commands::secrets::rm(&open(Access::Write).await?, &scope, &names).await?;
        }
        Command::Unset { names, scope } => {
            let scope = scope.scope()?;
            commands::secrets::unset(&open(Access::Write).await?, &scope, &names).await?;
        }
        Command::Rotate {
            name,
            scope,
            value,
            output,
        } => {
            let scope = scope.scope()?;
            commands::secrets::rotate(
                &open(Access::Write).await?,
                &scope,
                &name,
                &value,
                output.output,
            )
            .await?;
        }
        Command::History {
            name,
            scope,
            output,
        } => {
            let scope = scope.scope()?;
            commands::secrets::history(&open(Access::Read).await?, &scope, &name, output.output)
                .await?;
        }
        Command::Rollback {
            name,
            to,
            scope,
            output,
        } => {
            let scope = scope.scope()?;
            commands::secrets::rollback(
                &open(Access::Write).await?,
                &scope,
                &name,
                to,
                output.output,
            )
            .await?;
        }
        Command::Import {
            file,
            format,
            dry_run,
            scope,
            output,
        } => {
            let scope = scope.scope()?;
            let access = if dry_run { Access::Read } else { Access::Write };
            commands::transfer::import(
                &open(access).await?,
                &scope,
                &file,
                format,
                dry_run,
                output.output,
            )
            .await?;
        }
        Command::Export { format, to, scope } => {
            let scope = scope.scope()?;
            commands::transfer::export(&open(Access::Read).await?, &scope, format, to.as_deref())
                .await?;
        }
        Command::Grant { user, env, level } => {
            commands::grants::grant(&open(Access::Write).await?, &user, &env, level).await?;
        }
        Command::Revoke { user, env } => {
            commands::grants::revoke(&open(Access::Write).await?, &user, &env).await?;
        }
        Command::Permissions { env, output } => {
            commands::grants::permissions(&open(Access::Read).await?, &env, output.output).await?;
        }
        Command::Run {
            scope,
            env_files,
            all,
            merge,
            only,
            preserve_env,
            dry_run,
            watch,
            interval,
            grace,
            no_masking,
            mount_dir,
            keep_env,
            command,
        } => {
            let scope_project = scope.project.clone();
            let scope = scope.scope()?;
            let backend = open(Access::Read).await?;
            return commands::run::run(
                backend,
                scope,
                &commands::run::Options {
                    env_files: &env_files,
                    no_masking,
                    mount_dir: mount_dir.as_deref(),
                    keep_env: &keep_env,
                    all: all.then(|| commands::run::WholeEnv {
                        merge: &merge,
                        project: scope_project.as_deref(),
                        only: &only,
                        preserve: &preserve_env,
                    }),
                    dry_run,
                    watch: watch.then_some(commands::watch::Watch { interval, grace }),
                },
                &command,
            )
            .await;
        }
        Command::Inject {
            input,
            output,
            scope,
        } => {
            let scope = scope.scope()?;
            let backend = open(Access::Read).await?;
            commands::inject::inject(backend, &scope, &input, output.as_deref()).await?;
        }
        Command::Read {
            reference,
            no_newline,
            scope,
        } => {
            let scope = scope.scope()?;
            let backend = open(Access::Read).await?;
            commands::inject::read(backend, &scope, &reference, no_newline).await?;
        }
        Command::Registry(verb) => {
            let backend = open(commands::credentials::access(&verb)).await?;
            commands::credentials::registry(&backend, &verb).await?;
        }
        Command::Git(verb) => {
            let backend = open(commands::credentials::access(&verb)).await?;
            commands::credentials::git(&backend, &verb).await?;
        }
        Command::Key(KeyCommand::Status { output }) => {
            commands::keys::status(location.local_only("key status")?, output.output).await?;
        }
        Command::Key(KeyCommand::Rotate { reencrypt }) => {
            commands::keys::rotate(location.local_only("key rotate")?, reencrypt).await?;
        }
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            insecure_http,
            token_lifetime,
        } => {
            let data_dir = backend::data_dir(cli.data_dir.as_deref())?;
            commands::serve::serve(
                &location,
                data_dir,
                commands::serve::Options {
                    listen,
                    tls_cert,
                    tls_key,
                    insecure_http,
                    token_lifetime,
                },
            )
            .await?;
        }
        Command::ApiKey(ApiKeyCommand::Create {
            name,
            roles,
            groups,
            output,
        }) => {
            commands::api_keys::create(
                &open(Access::Write).await?,
                &name,
                &roles,
                &groups,
                output.output,
            )
            .await?;
        }
        Command::ApiKey(ApiKeyCommand::Ls { output }) => {
            commands::api_keys::ls(&open(Access::Read).await?, output.output).await?;
        }
        Command::ApiKey(ApiKeyCommand::Rm { ids }) => {
            commands::api_keys::rm(&open(Access::Write).await?, &ids).await?;
        }
        Command::GitCredential { operation } => {
            helpers::git_credential(&location, &operation).await?;
        }
        Command::Audit(args) => return audit_verb(&location, remote.as_ref(), args).await,
    }
    Ok(0)
}

/// Runs `audit`, `audit verify` or `audit prune`; returns the process exit code.
async fn audit_verb(
    location: &backend::Location,
    remote: Option<&backend::Remote>,
    args: AuditArgs,
) -> anyhow::Result<u8> {
    match args.command {
        Some(AuditCommand::Verify { output }) => {
            commands::audit::verify(location, remote, output.output).await
        }
        Some(AuditCommand::Prune { before }) => {
            commands::audit::prune(location, before).await?;
            Ok(0)
        }
        None => {
            let filter = zlayer_secrets::audit::AuditFilter {
                since_ms: args.since,
                until_ms: args.until,
                scope: args.scope()?,
                name: args.name.clone(),
                actor: args.actor.clone(),
                action: args.action,
                limit: args.limit,
            };
            commands::audit::list(location, remote, &filter, args.output.output).await?;
            Ok(0)
        }
    }
}
