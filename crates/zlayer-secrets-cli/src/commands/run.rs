//! `run`: start a program with the secret references in its environment resolved, its
//! output masked.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::{OsStr, OsString};
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;
use zlayer_secrets::{EnvPlan, Secret, SecretRef, SecretsProvider, SecretsResolver, Template};
use zlayer_secrets_formats::dotenv;
use zlayer_secrets_inject::{MIN_MASKED_CHARS, Masker, SecretFiles, SecretFilesError, copy_masked};

use crate::backend::Backend;
use crate::commands::inject::resolve;
use crate::commands::transfer::read_text_file;
use crate::formats::{self, MAX_ENTRIES};
use crate::output::note;
use crate::own_credentials::is_credential_variable;
use crate::scope::check_part;

/// How `run` starts the program (its options besides the scope and the command).
pub(crate) struct Options<'a> {
    /// `--env-file`, in order (a later file wins).
    pub(crate) env_files: &'a [PathBuf],
    /// `--no-masking`.
    pub(crate) no_masking: bool,
    /// `--mount-dir`.
    pub(crate) mount_dir: Option<&'a Path>,
    /// `--keep-env`: credentials of this tool to pass on anyway.
    pub(crate) keep_env: &'a [String],
    /// `--all` and its options.
    pub(crate) all: Option<WholeEnv<'a>>,
    /// `--dry-run`.
    pub(crate) dry_run: bool,
    /// `--watch`: restart the program when its secrets change.
    pub(crate) watch: Option<super::watch::Watch>,
}

/// `run --all`: every secret of the scope, layered over environments.
pub(crate) struct WholeEnv<'a> {
    /// `--merge`, in order (a later one wins).
    pub(crate) merge: &'a [String],
    /// `--project`, whose environments `--merge` names.
    pub(crate) project: Option<&'a str>,
    /// `--only`; empty for every secret.
    pub(crate) only: &'a [String],
    /// `--preserve-env`.
    pub(crate) preserve: &'a [String],
}

/// Exit code when the command does not exist, as shells have it.
const NOT_FOUND: u8 = 127;
/// Exit code when the command exists but cannot be executed, as shells have it.
const NOT_EXECUTABLE: u8 = 126;

/// Resolves the environment, starts `command`, and returns its exit code.
pub(crate) async fn run(
    backend: Backend,
    base_scope: String,
    options: &Options<'_>,
    command: &[OsString],
) -> anyhow::Result<u8> {
    let Options {
        env_files,
        no_masking,
        mount_dir,
        keep_env,
        ref all,
        dry_run,
        watch,
    } = *options;
    let program_and_args = command.split_first();
    if program_and_args.is_none() && !dry_run {
        bail!("no command given after `--`");
    }

    // Inherited variables, then the env files', which win (a later file over an earlier
    // one). This tool's own credentials (the store's key and password, the Vault token, API
    // keys) are not passed on unless `--keep-env` names them: the program gets its secrets,
    // not the keys to all of them. Those kept are masked in its output like its secrets.
    let mut kept: Vec<(String, Zeroizing<String>)> = Vec::new();
    let mut base_env: BTreeMap<OsString, OsString> = BTreeMap::new();
    for (key, value) in std::env::vars_os() {
        if is_credential_variable(&key) {
            if !keep_env.iter().any(|k| key == k.as_str()) {
                continue;
            }
            if let (Some(k), Some(v)) = (key.to_str(), value.to_str()) {
                kept.push((k.to_owned(), Zeroizing::new(v.to_owned())));
            }
        }
        base_env.insert(key, value);
    }
    for path in env_files {
        for (key, value) in read_env_file(path)? {
            base_env.insert(OsString::from(key), OsString::from(value.expose()));
        }
    }

    let resolver = backend.resolver(&base_scope);
    let prepared = prepare(&resolver, &base_env, all.as_ref()).await?;
    if dry_run {
        return dry_run_report(&prepared);
    }
    let Some((program, args)) = program_and_args else {
        bail!("no command given after `--`");
    };
    // A file can hold a NUL byte; a variable cannot.
    let secrets = fetch(&backend, &resolver, &prepared, mount_dir.is_none()).await?;

    if let Some(watch) = watch {
        // The store stays open: it is polled for new versions.
        let target = super::watch::Target {
            backend: &backend,
            resolver: &resolver,
            base_env: &base_env,
            all: all.as_ref(),
            program,
            args,
            kept: &kept,
            no_masking,
        };
        return super::watch::run_watched(&target, prepared, secrets, watch).await;
    }
    drop(resolver);
    // The store is closed before the program starts: it may run for a long time. A
    // server's bearer token goes with it (wiped); it was never in any variable.
    drop(backend);

    let Secrets { resolved, parts } = secrets;
    let mut cmd = command_for(program, args, &prepared.env, &resolved);
    let Some(dir) = mount_dir else {
        if no_masking {
            return exec(cmd, program);
        }
        let masker = Arc::new(masker(&parts, &kept));
        drop((resolved, parts, kept));
        return run_masked(cmd, program, Some(masker), Signals::new()?).await;
    };

    // --mount-dir: the program gets NAME_FILE instead of NAME. Signals are caught before
    // the files exist, so that they are forwarded and the files removed (when `files` is
    // dropped) whatever ends the program; this process never `exec`s.
    let signals = Signals::new()?;
    // The program may change its directory: it gets absolute paths.
    let dir = std::path::absolute(dir).with_context(|| {
        format!(
            "--mount-dir {}: cannot make the path absolute",
            dir.display()
        )
    })?;
    let files = SecretFiles::write(&dir, &resolved).map_err(mount_dir_error)?;
    for (key, _) in &resolved {
        cmd.env_remove(key);
    }
    cmd.envs(files.variables());
    let masker = (!no_masking).then(|| Arc::new(masker(&parts, &kept)));
    drop((resolved, parts, kept));
    let code = run_masked(cmd, program, masker, signals).await;
    for problem in files.remove() {
        note!("warning: {:#}", anyhow::Error::new(problem));
    }
    code
}

/// What `run` gives the program before any value is read: the environment without the
/// variables `--all` sets, the variables to resolve, and the plan of `--all`.
pub(super) struct Prepared {
    /// The inherited and env-file variables the program gets as they are.
    pub(super) env: BTreeMap<OsString, OsString>,
    /// The variables to resolve (see [`references`]).
    pub(super) references: HashMap<String, String>,
    /// `--all`'s plan.
    pub(super) plan: Option<EnvPlan>,
    /// The variables `--preserve-env` kept from the environment.
    pub(super) preserved: Vec<String>,
}

/// The values `run` gives the program.
pub(super) struct Secrets {
    /// Each variable set from a secret, with its value.
    pub(super) resolved: Vec<(String, Zeroizing<String>)>,
    /// Each value to mask: a variable's whole value when it is a reference or a secret of
    /// `--all`, and each secret of a template on its own (a template's whole value is not
    /// masked, only its secrets).
    pub(super) parts: Vec<(String, Zeroizing<String>)>,
}

/// Plans `--all` (names only) over `base_env`; a variable it sets is not resolved from the
/// environment, unless `--preserve-env` keeps the inherited one.
pub(super) async fn prepare(
    resolver: &SecretsResolver<Arc<dyn SecretsProvider>>,
    base_env: &BTreeMap<OsString, OsString>,
    all: Option<&WholeEnv<'_>>,
) -> anyhow::Result<Prepared> {
    let mut env = base_env.clone();
    let mut preserved = Vec::new();
    let plan = match all {
        Some(whole) => {
            let mut plan = plan_all(resolver, whole).await?;
            for name in whole.preserve {
                if env.contains_key(OsStr::new(name)) && plan.remove(name).is_some() {
                    preserved.push(name.clone());
                }
            }
            for (name, _) in plan.entries() {
                env.remove(OsStr::new(name));
            }
            Some(plan)
        }
        None => None,
    };
    let references = references(&env);
    Ok(Prepared {
        env,
        references,
        plan,
        preserved,
    })
}

/// Reads every value `prepared` needs: the references (by a server in one request) and the
/// secrets of `--all`. `as_variables`: they become variables, which cannot hold a NUL byte
/// (with `--mount-dir` they become files, which can).
pub(super) async fn fetch(
    backend: &Backend,
    resolver: &SecretsResolver<Arc<dyn SecretsProvider>>,
    prepared: &Prepared,
    as_variables: bool,
) -> anyhow::Result<Secrets> {
    let mut values = resolve(backend, resolver, &prepared.references)
        .await
        .context(
            "cannot resolve the secret references of the environment; the command was not started",
        )?;
    if let Some(plan) = &prepared.plan {
        values.extend(resolver.resolve_all(plan).await.context(
            "cannot read the secrets of the scope (--all); the command was not started",
        )?);
    }
    let (mut parts, vars): (Vec<_>, Vec<_>) = values
        .into_iter()
        .partition(|(key, _)| key.contains(PART_SEPARATOR));
    parts.extend(vars.iter().filter_map(|(key, value)| {
        let whole = match prepared.references.get(key) {
            Some(v) => SecretRef::looks_like_reference(v),
            // Not from the environment: a secret of `--all`.
            None => true,
        };
        whole.then(|| (key.clone(), value.clone()))
    }));
    for (key, value) in vars.iter().filter(|_| as_variables) {
        if value.contains('\0') {
            bail!(
                "the secret behind {key} contains a NUL byte, which an environment variable cannot hold; the command was not started"
            );
        }
    }
    tracing::debug!(count = vars.len(), "resolved references");
    Ok(Secrets {
        resolved: vars,
        parts,
    })
}

/// The command `program args` with exactly the environment `env` plus `resolved`.
pub(super) fn command_for(
    program: &OsString,
    args: &[OsString],
    env: &BTreeMap<OsString, OsString>,
    resolved: &[(String, Zeroizing<String>)],
) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).env_clear().envs(env);
    for (key, value) in resolved {
        cmd.env(key, value.as_str());
    }
    cmd
}

/// The plan of `--all`: the scope over the `--merge` environments, `--only` applied; the
/// secrets whose names cannot be variables are named in one warning.
async fn plan_all(
    resolver: &SecretsResolver<Arc<dyn SecretsProvider>>,
    whole: &WholeEnv<'_>,
) -> anyhow::Result<EnvPlan> {
    for env in whole.merge {
        check_part("environment", env).context("--merge")?;
    }
    let under: Vec<(Option<&str>, &str)> = whole
        .merge
        .iter()
        .map(|env| (whole.project, env.as_str()))
        .collect();
    let only: Option<BTreeSet<String>> =
        (!whole.only.is_empty()).then(|| whole.only.iter().cloned().collect());
    let plan = resolver
        .plan_all(&under, only.as_ref())
        .await
        .context("cannot list the secrets of the scope (--all); the command was not started")?;
    let skipped: Vec<String> = plan
        .skipped()
        .map(|(name, scope)| format!("{name} ({scope})"))
        .collect();
    if !skipped.is_empty() {
        let what = match skipped.len() {
            1 => "a secret whose name cannot be a variable name".to_owned(),
            n => format!("{n} secrets whose names cannot be variable names"),
        };
        note!("warning: --all skips {what}: {}", skipped.join(", "));
    }
    Ok(plan)
}

/// `--dry-run`: each variable that would be set from a secret and where it comes from,
/// as a table on stdout (never a value).
fn dry_run_report(prepared: &Prepared) -> anyhow::Result<u8> {
    let Prepared {
        references,
        plan,
        preserved,
        ..
    } = prepared;
    let mut rows: BTreeMap<&str, String> = BTreeMap::new();
    for (key, value) in references {
        if key.contains(PART_SEPARATOR) {
            continue;
        }
        let from = if SecretRef::looks_like_reference(value) {
            format!("reference {value}")
        } else {
            let mut seen = BTreeSet::new();
            let refs: Vec<String> = Template::parse(value)
                .map(|t| {
                    t.references()
                        .map(ToString::to_string)
                        .filter(|r| seen.insert(r.clone()))
                        .collect()
                })
                .unwrap_or_default();
            if refs.is_empty() {
                continue;
            }
            format!("template with {}", refs.join(", "))
        };
        rows.insert(key, from);
    }
    if let Some(plan) = plan {
        for (name, scope) in plan.entries() {
            rows.insert(name, format!("secret of {scope}"));
        }
    }
    for name in preserved {
        rows.insert(name.as_str(), "inherited (--preserve-env)".to_owned());
    }
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(name, from)| vec![name.to_owned(), from])
        .collect();
    crate::output::table(&["VARIABLE", "FROM"], &rows)?;
    Ok(0)
}

/// Between a variable's name and a number, the key of one secret of the variable's
/// template: `=` cannot be in a variable's name, so no such key is a variable.
const PART_SEPARATOR: char = '=';

/// The variables to resolve (only UTF-8 values can hold references): those whose value is
/// a reference or has `{{ }}` placeholders, and for each reference in a placeholder an
/// entry `VAR=N` of its own (see [`PART_SEPARATOR`]). A value that mentions `$S:` or
/// `$secret://` anywhere else gets a warning naming the variable.
fn references(env: &BTreeMap<OsString, OsString>) -> HashMap<String, String> {
    let mut references = HashMap::new();
    for (key, value) in env {
        let (Some(key), Some(value)) = (key.to_str(), value.to_str()) else {
            continue;
        };
        if SecretRef::looks_like_reference(value) {
            references.insert(key.to_owned(), value.to_owned());
            continue;
        }
        // A malformed placeholder is reported by the resolver, naming the variable.
        let Ok(template) = Template::parse(value) else {
            references.insert(key.to_owned(), value.to_owned());
            continue;
        };
        if template.stray_reference() {
            warn_stray(key);
        }
        if !value.contains("{{") {
            continue;
        }
        let mut seen = BTreeSet::new();
        for reference in template.references() {
            let reference = reference.to_string();
            if seen.insert(reference.clone()) {
                let part = format!("{key}{PART_SEPARATOR}{}", seen.len());
                references.insert(part, reference);
            }
        }
        references.insert(key.to_owned(), value.to_owned());
    }
    references
}

fn warn_stray(var: &str) {
    note!(
        "warning: {var} contains `$S:` or `$secret://` but is neither a whole reference nor \
         inside `{{{{ }}}}`; it is passed on unchanged (write `{var}='{{{{ $S:name }}}}'` to \
         insert a secret there)"
    );
}

/// A problem of the secret files of `--mount-dir DIR`, worded for this option.
fn mount_dir_error(e: SecretFilesError) -> anyhow::Error {
    match e {
        SecretFilesError::NotAFileName { name } => anyhow::anyhow!(
            "the variable {name:?} cannot be written with --mount-dir: its name is not a file name"
        ),
        SecretFilesError::NotADirectory { .. }
        | SecretFilesError::OtherOwner { .. }
        | SecretFilesError::NotEmpty { .. } => anyhow::anyhow!("--mount-dir {e}"),
        SecretFilesError::Unsupported => anyhow::anyhow!("--mount-dir is available on Unix only"),
        other => anyhow::Error::new(other),
    }
}

/// The output filter concealing the secrets (`parts`: each variable's whole value when it
/// is a reference, each secret of a template on its own) and the kept credentials. Values too short to mask are named (never shown) in one
/// warning.
pub(super) fn masker(
    parts: &[(String, Zeroizing<String>)],
    kept: &[(String, Zeroizing<String>)],
) -> Masker {
    let all = || parts.iter().chain(kept);
    let mut short: Vec<&str> = all()
        .filter(|(_, v)| Masker::too_short_to_mask(v))
        .map(|(k, _)| k.split(PART_SEPARATOR).next().unwrap_or(k))
        .collect();
    short.sort_unstable();
    short.dedup();
    if !short.is_empty() {
        note!(
            "warning: not masking {} in the program's output: shorter than {MIN_MASKED_CHARS} characters (masking would garble the output and show where the value occurs)",
            if short.len() == 1 {
                format!("the value of {}", short[0])
            } else {
                format!("the values of {}", short.join(", "))
            }
        );
    }
    Masker::new(all().map(|(_, v)| v.as_str()))
}

/// Reads `--env-file`: the dotenv dialect, keys that can be variable names, each defined
/// once, at most [`MAX_ENTRIES`] of them.
fn read_env_file(path: &Path) -> anyhow::Result<Vec<(String, Secret)>> {
    let shown = path.display().to_string();
    let text = read_text_file(path)?;
    let parsed =
        dotenv::parse(&text, MAX_ENTRIES).map_err(|errors| formats::problems(&shown, &errors))?;
    drop(text);
    for warning in &parsed.warnings {
        note!("warning: {shown}: {warning}");
    }
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(parsed.entries.len());
    // Where each key was first defined: a key defined twice is a mistake, as for `import`.
    let mut first: HashMap<String, usize> = HashMap::new();
    for entry in parsed.entries {
        if let Some(line) = first.get(&entry.key) {
            problems.push(format!(
                "line {}: \"{}\" is defined again (first at line {line})",
                entry.line,
                entry.key.escape_debug()
            ));
        } else if entry.key.contains(['=', '\0']) {
            problems.push(format!(
                "line {}: a variable name cannot contain `=` or NUL",
                entry.line
            ));
        } else if entry.value.expose().contains('\0') {
            problems.push(format!(
                "line {}: a variable cannot hold a NUL byte",
                entry.line
            ));
        } else {
            first.insert(entry.key.clone(), entry.line);
            out.push((entry.key, entry.value));
        }
    }
    if !problems.is_empty() {
        return Err(formats::problems(&shown, &problems));
    }
    Ok(out)
}

/// `--no-masking`: this process becomes the command.
#[cfg(unix)]
fn exec(mut cmd: std::process::Command, program: &OsString) -> anyhow::Result<u8> {
    use std::os::unix::process::CommandExt as _;
    let err = cmd.exec();
    start_failed(&err, program)
}

/// `--no-masking` where `exec` does not exist: run the command with inherited streams.
#[cfg(not(unix))]
fn exec(mut cmd: std::process::Command, program: &OsString) -> anyhow::Result<u8> {
    match cmd.status() {
        Ok(status) => Ok(exit_code(status)),
        Err(e) => start_failed(&e, program),
    }
}

/// The command could not be started: as shells do, 127 when it does not exist and 126 when
/// it cannot be executed, with a message; any other failure is an error.
pub(super) fn start_failed(err: &std::io::Error, program: &OsString) -> anyhow::Result<u8> {
    let shown = program.to_string_lossy();
    let code = match err.kind() {
        std::io::ErrorKind::NotFound => {
            note!("error: command not found: {shown}");
            NOT_FOUND
        }
        std::io::ErrorKind::PermissionDenied => {
            note!("error: cannot execute {shown}: {err}");
            NOT_EXECUTABLE
        }
        _ if err.raw_os_error() == Some(ENOEXEC) => {
            note!("error: cannot execute {shown}: {err}");
            NOT_EXECUTABLE
        }
        _ => bail!("cannot start {shown}: {err}"),
    };
    Ok(code)
}

/// "Exec format error": the file exists but is no program this system can run.
#[cfg(unix)]
const ENOEXEC: i32 = nix::libc::ENOEXEC;
#[cfg(not(unix))]
const ENOEXEC: i32 = -1;

/// Runs the command with its stdout and stderr through the masking filter (without one,
/// on this process's own streams), forwarding termination signals to it.
pub(super) async fn run_masked(
    cmd: std::process::Command,
    program: &OsString,
    masker: Option<Arc<Masker>>,
    mut signals: Signals,
) -> anyhow::Result<u8> {
    let mut running = match Running::spawn(cmd, program, masker)? {
        Ok(running) => running,
        Err(code) => return Ok(code),
    };
    let status = loop {
        tokio::select! {
            status = running.child.wait() => break status.context("cannot wait for the command")?,
            Some(signal) = signals.next() => Signals::forward(signal, running.child.id()),
        }
    };
    running.drain(&mut signals).await;
    Ok(exit_code(status))
}

/// A started command and the tasks copying its output through the masking filter.
pub(super) struct Running {
    /// The command.
    pub(super) child: tokio::process::Child,
    tasks: Vec<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// On a terminal: the task that keeps the command's pty sized like our terminal.
    resizing: Option<tokio::task::JoinHandle<()>>,
    /// On a terminal: its modes before the command started, put back when this is dropped.
    #[cfg(unix)]
    modes: Option<zlayer_secrets_inject::pty::TerminalModes>,
}

impl Running {
    /// Starts `cmd` with stdin inherited and, with a `masker`, stdout and stderr through
    /// it (else inherited): on a pseudo-terminal when ours is a terminal (see
    /// [`zlayer_secrets_inject::pty`]), else through pipes. `Err(code)` when it cannot
    /// start: 127 or 126, as shells exit (the message is printed).
    pub(super) fn spawn(
        cmd: std::process::Command,
        program: &OsString,
        masker: Option<Arc<Masker>>,
    ) -> anyhow::Result<Result<Self, u8>> {
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.stdin(Stdio::inherit());
        let Some(masker) = masker else {
            cmd.stdout(Stdio::inherit()).stderr(Stdio::inherit());
            return Ok(match cmd.spawn() {
                Ok(child) => Ok(Self::bare(child)),
                Err(e) => Err(start_failed(&e, program)?),
            });
        };
        #[cfg(unix)]
        if std::io::stdout().is_terminal() {
            return Self::spawn_on_pty(cmd, program, masker);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => return start_failed(&e, program).map(Err),
        };
        let stdout = child
            .stdout
            .take()
            .context("the child's stdout is not piped")?;
        let stderr = child
            .stderr
            .take()
            .context("the child's stderr is not piped")?;
        let mut running = Self::bare(child);
        let out_masker = Arc::clone(&masker);
        running.tasks.push(tokio::spawn(async move {
            copy_masked(stdout, tokio::io::stdout(), &out_masker).await
        }));
        running.tasks.push(tokio::spawn(async move {
            copy_masked(stderr, tokio::io::stderr(), &masker).await
        }));
        Ok(Ok(running))
    }

    fn bare(child: tokio::process::Child) -> Self {
        Self {
            child,
            tasks: Vec::new(),
            resizing: None,
            #[cfg(unix)]
            modes: None,
        }
    }

    /// Our stdout is a terminal: the command's stdout is a pty sized like it (its stderr
    /// too when ours is a terminal, else a pipe), read through the masking filter. The
    /// terminal's modes are saved first and put back when the command is done; SIGWINCH
    /// resizes the pty and is passed on to the command.
    #[cfg(unix)]
    fn spawn_on_pty(
        mut cmd: tokio::process::Command,
        program: &OsString,
        masker: Arc<Masker>,
    ) -> anyhow::Result<Result<Self, u8>> {
        use zlayer_secrets_inject::pty::{OutputPty, TerminalModes};
        let modes = TerminalModes::save(std::io::stdin());
        let pty = OutputPty::open(std::io::stdout())
            .context("cannot open a pseudo-terminal for the command's output")?;
        let stderr_on_pty = std::io::stderr().is_terminal();
        cmd.stdout(Stdio::from(pty.slave()?));
        if stderr_on_pty {
            cmd.stderr(Stdio::from(pty.slave()?));
        } else {
            cmd.stderr(Stdio::piped());
        }
        let mut child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => return start_failed(&e, program).map(Err),
        };
        // The command holds the slave now: ours goes, so that the end of its output shows.
        drop(cmd);
        let (reader, resizer) = pty.into_parts()?;
        let stderr = child.stderr.take();
        let mut running = Self::bare(child);
        running.modes = modes;
        let out_masker = Arc::clone(&masker);
        running.tasks.push(tokio::spawn(async move {
            copy_masked(reader, tokio::io::stdout(), &out_masker).await
        }));
        if let Some(stderr) = stderr {
            running.tasks.push(tokio::spawn(async move {
                copy_masked(stderr, tokio::io::stderr(), &masker).await
            }));
        }
        let pid = running.child.id();
        let mut winch =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
                .context("cannot install a handler for SIGWINCH")?;
        running.resizing = Some(tokio::spawn(async move {
            while winch.recv().await.is_some() {
                if let Err(e) = resizer.follow(std::io::stdout()) {
                    tracing::debug!(error = %e, "could not resize the pty");
                }
                Signals::forward(nix::sys::signal::Signal::SIGWINCH, pid);
            }
        }));
        Ok(Ok(running))
    }

    /// Once the command has ended: waits for its output to be copied. The output pipes
    /// stay open while a process the command left behind holds them; a signal now has no
    /// command to go to, and ends the wait.
    pub(super) async fn drain(mut self, signals: &mut Signals) {
        let tasks = &mut self.tasks;
        let outputs = async {
            for task in tasks.iter_mut() {
                match task.await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::debug!(error = %e, "output stream ended early"),
                    Err(e) => tracing::warn!(error = %e, "output task failed"),
                }
            }
        };
        tokio::select! {
            () = outputs => {}
            Some(signal) = signals.next() => {
                tracing::debug!(?signal, "signal after the command ended: not waiting for its output");
                for task in &self.tasks {
                    task.abort();
                }
            }
        }
    }

    /// Stops copying output (the command ended, a process it left behind holds the pipes).
    pub(super) fn abandon_output(&self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(resizing) = &self.resizing {
            resizing.abort();
        }
        // Dropping them restores them too; now, before anything else writes.
        #[cfg(unix)]
        if let Some(modes) = &self.modes {
            modes.restore();
        }
    }
}

/// The command's exit code, or 128 + the signal that killed it.
pub(super) fn exit_code(status: std::process::ExitStatus) -> u8 {
    if let Some(code) = status.code() {
        return u8::try_from(code & 0xff).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return u8::try_from((128 + signal) & 0xff).unwrap_or(1);
        }
    }
    1
}

/// The signals `run` forwards to its child: every signal whose default action ends a
/// process and that can be caught, except those that report a fault of this process.
///
/// Left out on purpose: SIGKILL and SIGSTOP (cannot be caught); SIGABRT, SIGBUS, SIGFPE,
/// SIGILL, SIGSEGV, SIGSYS and SIGTRAP (this process failed: forwarding means nothing);
/// SIGPIPE (ignored by Rust programs: a closed output is an `EPIPE` error, and the child
/// then meets the closed pipe itself); SIGCHLD, SIGCONT, SIGURG, SIGWINCH (their default is
/// to do nothing; the terminal sends SIGWINCH to the child itself) and the job-control stops
/// SIGTSTP, SIGTTIN, SIGTTOU (the terminal stops the whole process group). Real-time signals
/// are not caught.
#[cfg(unix)]
const FORWARDED: &[nix::sys::signal::Signal] = {
    use nix::sys::signal::Signal;
    &[
        Signal::SIGHUP,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGTERM,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
        Signal::SIGALRM,
        Signal::SIGVTALRM,
        Signal::SIGPROF,
        Signal::SIGXCPU,
        Signal::SIGXFSZ,
        // Their default action ends the process on Linux (elsewhere SIGIO is ignored).
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Signal::SIGIO,
        #[cfg(any(target_os = "linux", target_os = "android"))]
        Signal::SIGPWR,
        #[cfg(all(
            any(target_os = "linux", target_os = "android"),
            not(any(
                target_arch = "mips",
                target_arch = "mips32r6",
                target_arch = "mips64",
                target_arch = "mips64r6",
                target_arch = "sparc",
                target_arch = "sparc64"
            ))
        ))]
        Signal::SIGSTKFLT,
    ]
};

/// Catches the [`FORWARDED`] signals, so that they no longer end this process: `run`
/// forwards each to its child and removes the secret files once the child has ended.
#[cfg(unix)]
pub(super) struct Signals {
    streams: Vec<(nix::sys::signal::Signal, tokio::signal::unix::Signal)>,
}

#[cfg(unix)]
impl Signals {
    pub(super) fn new() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut streams = Vec::with_capacity(FORWARDED.len());
        for &sig in FORWARDED {
            let stream = signal(SignalKind::from_raw(sig as i32))
                .with_context(|| format!("cannot install a handler for {sig}"))?;
            streams.push((sig, stream));
        }
        Ok(Self { streams })
    }

    /// The next signal received.
    pub(super) async fn next(&mut self) -> Option<nix::sys::signal::Signal> {
        let waits = self.streams.iter_mut().map(|(sig, stream)| {
            let sig = *sig;
            Box::pin(async move { stream.recv().await.map(|()| sig) })
        });
        futures_select_all(waits).await
    }

    pub(super) fn forward(signal: nix::sys::signal::Signal, pid: Option<u32>) {
        let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) else {
            return;
        };
        tracing::debug!(?signal, pid, "forwarding signal");
        if let Err(e) = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal) {
            tracing::debug!(error = %e, "could not forward the signal (the command may have ended)");
        }
    }
}

/// The first of several futures to finish.
#[cfg(unix)]
async fn futures_select_all<F, T>(futures: impl Iterator<Item = std::pin::Pin<Box<F>>>) -> T
where
    F: std::future::Future<Output = T> + ?Sized,
{
    let mut futures: Vec<_> = futures.collect();
    std::future::poll_fn(move |cx| {
        for f in &mut futures {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) {
                return std::task::Poll::Ready(v);
            }
        }
        std::task::Poll::Pending
    })
    .await
}

/// Signal forwarding is Unix-only; elsewhere the console delivers Ctrl-C to the child too.
#[cfg(not(unix))]
pub(super) struct Signals;

#[cfg(not(unix))]
impl Signals {
    pub(super) fn new() -> anyhow::Result<Self> {
        Ok(Self)
    }

    pub(super) async fn next(&mut self) -> Option<()> {
        std::future::pending().await
    }

    pub(super) fn forward(_signal: (), _pid: Option<u32>) {}
}
