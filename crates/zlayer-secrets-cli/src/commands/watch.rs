//! `run --watch`: restart the program when a secret it was given changes.
//!
//! The secrets behind its variables ([`SecretsResolver::locate_env`]) and the scopes of
//! `--all` form a [`WatchSet`], whose versions (metadata only, no value) are read every
//! `--interval`. When they differ, the versions are read again until they hold still for a
//! moment (so that a burst of rotations causes one restart), the new values are read, the
//! program gets SIGTERM, SIGKILL after `--grace` if it is still running, and it starts
//! again with the new values. A program that ends by itself ends `run` with its exit code.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use zeroize::Zeroizing;
use zlayer_secrets::{SecretsProvider, SecretsResolver, Versions, WatchSet, label};

use super::run::{
    Prepared, Running, Secrets, Signals, WholeEnv, command_for, exit_code, fetch, masker, prepare,
};
use crate::backend::Backend;
use crate::output::note;

/// `--watch` with `--interval` and `--grace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Watch {
    /// How often the versions are read.
    pub(crate) interval: Duration,
    /// How long the program may take to end after SIGTERM before it gets SIGKILL.
    pub(crate) grace: Duration,
}

/// What `run` starts, and how it reads the secrets again.
pub(super) struct Target<'a> {
    pub(super) backend: &'a Backend,
    pub(super) resolver: &'a SecretsResolver<Arc<dyn SecretsProvider>>,
    /// The inherited and env-file variables, before `--all`.
    pub(super) base_env: &'a BTreeMap<OsString, OsString>,
    pub(super) all: Option<&'a WholeEnv<'a>>,
    pub(super) program: &'a OsString,
    pub(super) args: &'a [OsString],
    /// Credentials passed on with `--keep-env`, masked like secrets.
    pub(super) kept: &'a [(String, Zeroizing<String>)],
    pub(super) no_masking: bool,
}

/// Runs the program with `secrets` and restarts it whenever they change; its exit code once
/// it ends by itself (or by a forwarded signal).
pub(super) async fn run_watched(
    target: &Target<'_>,
    mut prepared: Prepared,
    mut secrets: Secrets,
    watch: Watch,
) -> anyhow::Result<u8> {
    let mut signals = Signals::new()?;
    let provider = target.backend.provider();
    let watched = watch_set(target.resolver, &prepared).await?;
    if watched.is_empty() {
        note!("warning: --watch: the command gets no secret, so nothing is watched");
    }
    let mut versions = watched
        .versions(&*provider)
        .await
        .context("--watch: cannot read the versions of the secrets")?;
    loop {
        let cmd = command_for(
            target.program,
            target.args,
            &prepared.env,
            &secrets.resolved,
        );
        let masker = (!target.no_masking).then(|| Arc::new(masker(&secrets.parts, target.kept)));
        let mut running = match Running::spawn(cmd, target.program, masker)? {
            Ok(running) => running,
            Err(code) => return Ok(code),
        };
        drop(secrets);

        let mut ticker = tokio::time::interval(watch.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        let changed = loop {
            tokio::select! {
                status = running.child.wait() => {
                    let status = status.context("cannot wait for the command")?;
                    running.drain(&mut signals).await;
                    return Ok(exit_code(status));
                }
                Some(signal) = signals.next() => Signals::forward(signal, running.child.id()),
                _ = ticker.tick() => match watched.versions(&*provider).await {
                    Ok(now) if now != versions => {
                        break settle(&watched, &*provider, now, watch.interval).await;
                    }
                    Ok(_) => {}
                    Err(e) => note!(
                        "warning: --watch: cannot read the versions of the secrets (trying again in {}s): {e:#}",
                        watch.interval.as_secs()
                    ),
                },
            }
        };
        let what: Vec<String> = versions
            .changes(&changed)
            .iter()
            .map(|(scope, name)| label(scope, name))
            .collect();
        note!(
            "{} changed: restarting {}",
            what.join(", "),
            target.program.to_string_lossy()
        );
        versions = changed;

        // The new values first: the program is stopped either way, but its successor only
        // starts when they all resolve (a deleted secret ends `run`).
        let next = async {
            let prepared = prepare(target.resolver, target.base_env, target.all).await?;
            let secrets = fetch(target.backend, target.resolver, &prepared, true).await?;
            anyhow::Ok((prepared, secrets))
        }
        .await;
        stop(&mut running, watch.grace).await;
        if tokio::time::timeout(watch.grace, running.drain(&mut signals))
            .await
            .is_err()
        {
            tracing::debug!("output pipes still open after the command ended");
        }
        (prepared, secrets) = next.context(
            "the secrets changed and can no longer be resolved; the command was stopped",
        )?;
    }
}

/// The secrets behind the references of `prepared`, and the scopes of `--all`.
async fn watch_set(
    resolver: &SecretsResolver<Arc<dyn SecretsProvider>>,
    prepared: &Prepared,
) -> anyhow::Result<WatchSet> {
    let mut set = WatchSet::default();
    for (scope, name) in resolver
        .locate_env(&prepared.references)
        .await
        .context("--watch: cannot locate the secrets of the environment")?
    {
        set.secret(scope, name);
    }
    if let Some(plan) = &prepared.plan {
        for layer in plan.layers() {
            set.scope(layer);
        }
    }
    Ok(set)
}

/// Reads the versions again until they hold still for a moment: a burst of changes
/// causes one restart. At most a few seconds.
async fn settle(
    watched: &WatchSet,
    provider: &dyn SecretsProvider,
    mut now: Versions,
    interval: Duration,
) -> Versions {
    let pause = (interval / 4).clamp(Duration::from_millis(200), Duration::from_secs(1));
    for _ in 0..10 {
        tokio::time::sleep(pause).await;
        match watched.versions(provider).await {
            Ok(again) if again != now => now = again,
            _ => break,
        }
    }
    now
}

/// Asks the command to end (SIGTERM), and kills it if it is still running after `grace`.
async fn stop(running: &mut Running, grace: Duration) {
    terminate(&running.child);
    if tokio::time::timeout(grace, running.child.wait())
        .await
        .is_err()
    {
        note!(
            "warning: the command did not end within {}s of SIGTERM: killing it",
            grace.as_secs()
        );
        if let Err(e) = running.child.kill().await {
            tracing::debug!(error = %e, "could not kill the command (it may have ended)");
        }
    }
    if running.child.try_wait().ok().flatten().is_none() {
        running.abandon_output();
    }
}

#[cfg(unix)]
fn terminate(child: &tokio::process::Child) {
    Signals::forward(nix::sys::signal::Signal::SIGTERM, child.id());
}

#[cfg(not(unix))]
fn terminate(_child: &tokio::process::Child) {}
