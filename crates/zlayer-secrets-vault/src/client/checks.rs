//! What the server says about the mount and the token: the engine looked up before the
//! first request, and the diagnosis of a 403.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;

use percent_encoding::utf8_percent_encode;
use reqwest::{Method, StatusCode};
use zlayer_secrets_core::{Result, SecretsError};

use super::{Client, Reply, SEGMENT};
use crate::wire::{Envelope, MountInfo};

/// What the engine at the mount turned out to be.
#[derive(Debug, Clone)]
pub(super) enum MountCheck {
    /// KV version 2 at exactly the configured path.
    KvV2,
    /// Not known: the token may not look at the mount (the first request will be refused
    /// or find nothing mounted), or the server has no such endpoint.
    Unchecked,
    /// KV version 1 (`kv` without version 2, or the old `generic`).
    KvV1,
    /// Another kind of engine.
    Other(String),
    /// The configured path lies inside the engine mounted at this path.
    Inside(String),
}

/// What a token lookup after a 403 showed.
enum TokenState {
    Valid,
    Invalid,
    Unknown,
}

impl Client {
    /// Looks up the engine at the mount before the first request, and refuses anything but
    /// KV version 2 at exactly that path.
    pub(super) async fn ensure_kv2(&self, what: &str) -> Result<()> {
        let check = if let Some(check) = self.mount_check.get() {
            check.clone()
        } else {
            let check = self.look_up_mount(what).await?;
            // Another task may have looked it up meanwhile: the answer is the same.
            self.mount_check.get_or_init(|| check).clone()
        };
        let problem = match check {
            MountCheck::KvV2 | MountCheck::Unchecked => return Ok(()),
            MountCheck::KvV1 => "is KV version 1; zlayer-secrets needs KV version 2 (upgrade \
                 it with `bao kv enable-versioning`, or use another mount)"
                .to_owned(),
            MountCheck::Other(kind) => {
                format!("is `{kind}`, not KV version 2")
            }
            MountCheck::Inside(actual) => format!(
                "is not a mount but a path inside the engine mounted at `{actual}` (set \
                 VAULT_MOUNT to `{actual}`)"
            ),
        };
        Err(SecretsError::Provider(format!(
            "Vault at {}: the secrets engine at `{}` {problem}; check VAULT_MOUNT. Nothing was \
             sent for {what}",
            self.address, self.mount
        )))
    }

    /// One `GET /v1/sys/internal/ui/mounts/{mount}`.
    async fn look_up_mount(&self, what: &str) -> Result<MountCheck> {
        let mut path = String::from("sys/internal/ui/mounts");
        for segment in self.mount.split('/') {
            let _ = write!(path, "/{}", utf8_percent_encode(segment, SEGMENT));
        }
        let url = self.system_url(&path)?;
        let what = format!("the engine of mount `{}` (before {what})", self.mount);
        let reply = self.exchange(Method::GET, url, None, &what).await?;
        match reply.status {
            StatusCode::OK => {}
            // Forbidden: nothing is mounted there, or the token may use nothing under it;
            // not found: a server without this endpoint. Either way the first request says.
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
                tracing::debug!(
                    mount = %self.mount,
                    status = %reply.status,
                    "could not look up the engine of the mount"
                );
                return Ok(MountCheck::Unchecked);
            }
            _ => return Err(self.plain_status_error(&reply, &what)),
        }
        let info: Envelope<MountInfo> =
            serde_json::from_slice(reply.body.as_slice()).map_err(|e| {
                SecretsError::Provider(format!(
                    "Vault at {} gave an unexpected answer for {what}: {e}",
                    self.address
                ))
            })?;
        let info = info.data;
        let actual = info.path.trim_matches('/');
        Ok(if !actual.is_empty() && actual != self.mount {
            MountCheck::Inside(actual.to_owned())
        } else {
            match (info.kind.as_str(), info.version()) {
                ("kv", Some("2")) => MountCheck::KvV2,
                ("kv" | "generic", _) => MountCheck::KvV1,
                (kind, _) => MountCheck::Other(kind.to_owned()),
            }
        })
    }

    /// The error for an answer with an unexpected status. 404 and 403 get their own variants;
    /// `path` is the Vault path, named in access errors so a policy can be fixed. A 403 is
    /// followed by a lookup of the token, to say whether the token or its policies are at
    /// fault.
    pub(crate) async fn status_error(&self, reply: &Reply, what: &str, path: &str) -> SecretsError {
        if reply.status != StatusCode::FORBIDDEN {
            return self.plain_status_error(reply, what);
        }
        let operation = reply.operation;
        let why = match self.token_state().await {
            TokenState::Invalid => "the token is invalid or expired (check VAULT_TOKEN)".to_owned(),
            TokenState::Valid => {
                format!("the token is valid but its policies do not allow {operation} on {path}")
            }
            TokenState::Unknown => "the token has no permission on this path, or it is \
                 invalid or expired"
                .to_owned(),
        };
        SecretsError::AccessDenied {
            name: format!(
                "{what} (Vault at {} refused {operation} on {path}: {why})",
                self.address
            ),
        }
    }

    /// Whether the token is valid, after a 403. `auth/token/lookup-self` answers for a
    /// valid token that holds the `default` policy; a valid token without it is refused
    /// there too, so a refusal is checked with `sys/internal/ui/mounts`, which every valid
    /// token may read (and an invalid one may not). Neither answer is kept beyond its
    /// status: the lookup's body holds the token.
    async fn token_state(&self) -> TokenState {
        if self.token_invalid.load(Ordering::Relaxed) {
            return TokenState::Invalid;
        }
        let mut state = TokenState::Unknown;
        for path in ["auth/token/lookup-self", "sys/internal/ui/mounts"] {
            let Ok(url) = self.system_url(path) else {
                state = TokenState::Unknown;
                break;
            };
            let status = match self
                .exchange(Method::GET, url, None, "a lookup of the token")
                .await
            {
                Ok(reply) => reply.status,
                Err(e) => {
                    tracing::debug!(error = %e, "the token lookup failed");
                    state = TokenState::Unknown;
                    break;
                }
            };
            state = match status {
                StatusCode::OK => TokenState::Valid,
                StatusCode::FORBIDDEN => TokenState::Invalid,
                _ => TokenState::Unknown,
            };
            if !matches!(state, TokenState::Invalid) {
                break;
            }
        }
        if matches!(state, TokenState::Invalid) {
            self.token_invalid.store(true, Ordering::Relaxed);
        }
        state
    }
}
