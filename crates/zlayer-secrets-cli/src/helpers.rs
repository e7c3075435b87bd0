//! The credential helpers of this crate, `zlayer-secret git-credential` and
//! `docker-credential-zlayer`: the protocols of `zlayer-secrets-helpers`, served on the
//! standard streams over the store of a [`Location`].

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use zeroize::Zeroizing;
use zlayer_secrets::SecretsStore;
use zlayer_secrets::audit::{self, Actor, AuditAction, AuditContext};
use zlayer_secrets_helpers::docker::{self, Action, DockerError, PROGRAM};
use zlayer_secrets_helpers::{MAX_REQUEST_BYTES, OpenError, StoreAccess, git};

use crate::backend::{self, Location};
use crate::output::note;
use crate::value::{read_limited_to, unbuffered_stdin};

/// The store at a location, as the helpers open it: a local store that does not exist yet
/// is created only to store a credential (a look-up in it finds nothing, and creates
/// nothing). On Vault the provider is always there.
struct LocationStore<'a>(&'a Location);

impl StoreAccess for LocationStore<'_> {
    type Store = Arc<dyn SecretsStore>;

    async fn open(&self, create: bool) -> Result<Option<Arc<dyn SecretsStore>>, OpenError> {
        let data_dir = match self.0 {
            Location::Local(dir) => dir,
            Location::Vault => return Ok(Some(Arc::new(backend::vault_provider()?))),
        };
        if !create && !backend::database_path(data_dir).exists() {
            return Ok(None);
        }
        Ok(Some(Arc::new(backend::open_local(data_dir).await?)))
    }
}

/// Reads the whole request on standard input (at most [`MAX_REQUEST_BYTES`]) with the
/// reader of `--from-stdin`: unbuffered, into a buffer wiped on drop (as is every buffer it
/// outgrows).
fn read_request() -> anyhow::Result<Zeroizing<Vec<u8>>> {
    read_limited_to(
        unbuffered_stdin()?,
        "the request on standard input",
        MAX_REQUEST_BYTES,
    )
}

/// `zlayer-secret git-credential OPERATION`: reads git's request from stdin, answers on
/// stdout.
pub(crate) async fn git_credential(location: &Location, operation: &str) -> anyhow::Result<()> {
    let input = read_request()?;
    if let Some(answer) = git::serve(&LocationStore(location), operation, input).await? {
        let mut out = std::io::stdout().lock();
        out.write_all(answer.as_bytes())
            .and_then(|()| out.flush())
            .context("cannot write the answer to standard output")?;
    }
    Ok(())
}

/// `docker-credential-zlayer ACTION`, given the arguments after the program's name: runs
/// the action against the store of `ZLAYER_SECRETS_BACKEND` (default local) and
/// `ZLAYER_SECRETS_DIR` (else the platform default), and prints the answer, or the error,
/// on stdout (where docker reads both). Exit code 0 on success, else 1.
///
/// The store's audit log records its operations as done by this user through
/// `docker-credential-zlayer`, reads as `helper-get`; `ZLAYER_SECRETS_NO_AUDIT` (set and
/// not `0`, `f`, `false`, `n`, `no`, `off` or empty) turns recording off as `--no-audit` does.
#[must_use]
pub fn docker_credential_helper(args: &[String]) -> ExitCode {
    if env_flag("ZLAYER_SECRETS_NO_AUDIT") {
        backend::disable_audit();
    }
    let context = AuditContext::new(Actor::os_user(PROGRAM)).with_purpose(AuditAction::HelperGet);
    let result = match args {
        [action] => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")
            .and_then(|rt| rt.block_on(audit::scope(context, serve_docker(action)))),
        _ => Err(DockerError::Usage.into()),
    };
    let mut out = std::io::stdout().lock();
    let written = match &result {
        Ok(text) => out.write_all(text.as_bytes()),
        Err(e) => {
            if let Some(DockerError::NotARegistry { reason }) = e.downcast_ref() {
                note!("{PROGRAM}: {reason}; answered as not found");
            }
            writeln!(out, "{e:#}")
        }
    };
    if written.and_then(|()| out.flush()).is_err() || result.is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Whether the variable `name` is set to a true value, as clap reads the variable of a
/// flag: anything but `0`, `f`, `false`, `n`, `no`, `off` and the empty string (in any
/// case).
fn env_flag(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| {
        let v = v.to_string_lossy().trim().to_ascii_lowercase();
        !matches!(v.as_str(), "" | "0" | "f" | "false" | "n" | "no" | "off")
    })
}

/// Runs `action`; returns what to print on success.
async fn serve_docker(action: &str) -> anyhow::Result<Zeroizing<String>> {
    let location = Location::from_env()?;
    let action = Action::from_name(action)?;
    let input = if action.reads_input() {
        read_request()?
    } else {
        Zeroizing::new(Vec::new())
    };
    Ok(docker::serve(&LocationStore(&location), action, &input).await?)
}
