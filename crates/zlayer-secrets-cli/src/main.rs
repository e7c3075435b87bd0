//! `zlayer-secret`, the command-line tool of zlayer-secrets: manage the secrets of a local
//! encrypted store and start programs with their secret references resolved.
//!
//! See `docs/cli.md` for every verb. Exit codes: 0 success, 1 failure, 2 usage error; `run`
//! exits with its program's code.

mod backend;
mod cli;
mod commands;
mod formats;
mod output;
mod own_credentials;
mod progress;
mod protocols;
mod scope;
mod value;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

use crate::backend::{Access, Backend};
use crate::cli::{Cli, Command, KeyCommand};
use crate::output::note;

fn main() -> ExitCode {
    if protocols::docker::invoked_as_helper() {
        return protocols::docker::main();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version exit 0, usage errors 2.
        Err(e) => e.exit(),
    };
    if let Some(problem) = cli.command.usage_error() {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, problem)
            .exit();
    }
    init_logging();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            note!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            note!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings). No secret value is ever
/// logged.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Runs one verb; returns the process exit code.
#[allow(clippy::too_many_lines)] // one short arm per verb, each only delegating
async fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let location = backend::Location::new(cli.backend, cli.data_dir.as_deref())?;
    let open = |access| Backend::open_at(&location, access);
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
        Command::Create { name, scope, value } => {
            let scope = scope.scope()?;
            commands::secrets::create(&open(Access::Write).await?, &scope, &name, &value).await?;
        }
        Command::Get {
            name,
            reveal,
            version,
            scope,
            output,
        } => {
            let scope = scope.scope()?;
            commands::secrets::get(
                &open(Access::Read).await?,
                &scope,
                &name,
                reveal,
                version,
                output.output,
            )
            .await?;
        }
        Command::Set { name, scope, value } => {
            let scope = scope.scope()?;
            commands::secrets::set(&open(Access::Write).await?, &scope, &name, &value).await?;
        }
        Command::Rm { names, scope } => {
            let scope = scope.scope()?;
            commands::secrets::rm(&open(Access::Write).await?, &scope, &names).await?;
        }
        Command::Unset { names, scope } => {
            let scope = scope.scope()?;
            commands::secrets::unset(&open(Access::Write).await?, &scope, &names).await?;
        }
        Command::Rotate { name, scope, value } => {
            let scope = scope.scope()?;
            commands::secrets::rotate(&open(Access::Write).await?, &scope, &name, &value).await?;
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
        Command::Rollback { name, to, scope } => {
            let scope = scope.scope()?;
            commands::secrets::rollback(&open(Access::Write).await?, &scope, &name, to).await?;
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
            env_file,
            no_masking,
            mount_dir,
            keep_env,
            command,
        } => {
            let scope = scope.scope()?;
            let backend = open(Access::Read).await?;
            return commands::run::run(
                backend,
                scope,
                &commands::run::Options {
                    env_file: env_file.as_deref(),
                    no_masking,
                    mount_dir: mount_dir.as_deref(),
                    keep_env: &keep_env,
                },
                &command,
            )
            .await;
        }
        Command::Key(KeyCommand::Status { output }) => {
            commands::keys::status(location.local_only("key status")?, output.output).await?;
        }
        Command::Key(KeyCommand::Rotate { reencrypt }) => {
            commands::keys::rotate(location.local_only("key rotate")?, reencrypt).await?;
        }
        Command::GitCredential { operation } => {
            protocols::git::run(&location, &operation).await?;
        }
    }
    Ok(0)
}
