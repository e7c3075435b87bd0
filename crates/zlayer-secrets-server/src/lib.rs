//! The zlayer-secrets server: one host keeps the store and its key, and people, CI jobs and
//! workloads reach it over HTTP with their own API keys and only their own rights.
//!
//! [`Server::bind`] takes a [`ServerConfig`] and the [`Stores`] to serve (any
//! `VersionedSecretsStore` + `BatchSecretsStore`: the data directory's SQLite store, Vault);
//! [`Server::run`] serves until its shutdown future completes, then stops accepting, lets
//! the requests in flight finish and returns. API keys, grants and secrets all live in the
//! store; the server keeps only its token key ([`token::TOKEN_KEY_FILE`]) in the data
//! directory.
//!
//! The API is the original `ZLayer` secrets API (`POST /auth/token`, `/api/v1/secrets`) and
//! ours beside it, as `zlayer-secrets-api` defines it and `docs/server.md` documents it.
//! Every `/api/v1` route needs a bearer token; rights are checked on every request:
//! role `admin` may do everything, other keys act on environment scopes by the grants of
//! their subject and groups (`read`: list and metadata; `execute`: also values; `write`:
//! also changes).
//!
//! Every authenticated request runs as its API key's subject in the audit log
//! ([`Stores::audit`]): the store records what it reads and writes, the server what it
//! refuses; admins read the log with `GET /api/v1/audit`. A store without a log of its own
//! (Vault) is wrapped in [`Recorded`] ([`Stores::recorded`]).
//!
//! ```no_run
//! # async fn demo(store: std::sync::Arc<zlayer_secrets_core::MemoryStore>) -> zlayer_secrets_core::Result<()> {
//! use zlayer_secrets_server::{Server, ServerConfig, Stores, shutdown_signal};
//!
//! let config = ServerConfig::new("127.0.0.1:8790".parse().unwrap(), "/var/lib/zlayer-secrets".into());
//! let server = Server::bind(config, Stores::new(store)).await?;
//! eprintln!("listening on http://{}", server.local_addr());
//! server.run(shutdown_signal()).await
//! # }
//! ```

mod access;
mod error;
mod extract;
mod limiter;
mod recorded;
mod routes;
mod state;
mod tls;
pub mod token;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;
use zlayer_secrets_core::{Result, SecretsError};

pub use error::ApiError;
pub use recorded::Recorded;
pub use state::Stores;

use limiter::FailureLimiter;
use state::AppState;
use token::TokenKey;

/// The address `zlayer-secret serve` listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8790";

/// How long a token lives unless configured otherwise.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The certificate chain and private key of the server, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// How a server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// TLS; without it the server speaks plain HTTP, which only a loopback address allows
    /// unless `insecure_http` is set.
    pub tls: Option<TlsFiles>,
    /// Allow plain HTTP on an address that is not loopback.
    pub insecure_http: bool,
    /// The data directory: where the token key file is kept.
    pub data_dir: PathBuf,
    /// How long a token is valid.
    pub token_lifetime: Duration,
    /// Failed authentications an address may have per window before it gets 429.
    pub max_failed_auth: u32,
    /// The window of `max_failed_auth`.
    pub failed_auth_window: Duration,
    /// The longest a request may take before it is answered 503.
    pub request_timeout: Duration,
    /// How long a connection may take to send a request's headers (and finish its TLS
    /// handshake).
    pub header_timeout: Duration,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl ServerConfig {
    /// The defaults: plain HTTP, tokens of 1 h, 10 failed authentications per address per
    /// minute, requests of at most 30 s, headers within 10 s, 30 s of grace at shutdown.
    #[must_use]
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            tls: None,
            insecure_http: false,
            data_dir,
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            max_failed_auth: 10,
            failed_auth_window: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// A bound server, ready to [`run`](Self::run).
pub struct Server {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    state: Arc<AppState>,
    config: ServerConfig,
    created_token_key: bool,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listen", &self.listener.local_addr().ok())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Checks the configuration, loads (or creates) the token key, loads TLS and binds the
    /// address. Plain HTTP on an address that is not loopback is refused unless
    /// `insecure_http` is set.
    pub async fn bind(config: ServerConfig, stores: Stores) -> Result<Self> {
        if config.tls.is_none() && !config.listen.ip().is_loopback() && !config.insecure_http {
            return Err(SecretsError::InvalidInput {
                what: format!("address {} without TLS", config.listen),
                reason: "plain HTTP is allowed on a loopback address only; give a certificate \
                         and key (--tls-cert, --tls-key), or --insecure-http if a proxy in \
                         front terminates TLS"
                    .to_owned(),
            });
        }
        let tls = match &config.tls {
            Some(files) => Some(tls::acceptor(&files.cert, &files.key)?),
            None => None,
        };
        let data_dir = config.data_dir.clone();
        let (tokens, created_token_key) =
            tokio::task::spawn_blocking(move || TokenKey::load_or_create(&data_dir))
                .await
                .map_err(|e| SecretsError::Storage(format!("the token key task failed: {e}")))??;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|e| SecretsError::InvalidInput {
                    what: format!("address {}", config.listen),
                    reason: format!("cannot listen on it: {e}"),
                })?;
        let limiter = FailureLimiter::new(config.max_failed_auth, config.failed_auth_window);
        let state = Arc::new(AppState::new(
            stores,
            tokens,
            config.token_lifetime,
            limiter,
        ));
        Ok(Self {
            listener,
            tls,
            state,
            config,
            created_token_key,
        })
    }

    /// The address the server listens on (the port chosen, for `:0`).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.config.listen)
    }

    /// The base URL clients use: `http://ADDR` or `https://ADDR`.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr())
    }

    /// Whether this start created the token key file (a new key: earlier tokens are void).
    pub fn created_token_key(&self) -> bool {
        self.created_token_key
    }

    /// Whether some API key has role admin; until one does, every `/api/v1` request is
    /// refused.
    pub async fn has_admin(&self) -> Result<bool> {
        self.state.ready().await
    }

    /// Serves until `shutdown` completes; then stops accepting connections, lets the
    /// requests in flight finish (up to `shutdown_grace`) and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
        let router = routes::router(self.state.clone(), self.config.request_timeout);
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let header_timeout = self.config.header_timeout;
        tokio::pin!(shutdown);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little, go on.
                        tracing::warn!(error = %e, "cannot accept a connection");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(router.clone().map_request(
                move |mut req: hyper::Request<Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    req
                },
            ));
            let watcher = graceful.watcher();
            let tls = self.tls.clone();
            tokio::spawn(async move {
                let mut http = hyper::server::conn::http1::Builder::new();
                http.timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .keep_alive(true);
                match tls {
                    None => {
                        let conn = http.serve_connection(TokioIo::new(stream), service);
                        if let Err(e) = watcher.watch(conn).await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    }
                    Some(acceptor) => {
                        let stream =
                            match tokio::time::timeout(header_timeout, acceptor.accept(stream))
                                .await
                            {
                                Ok(Ok(stream)) => stream,
                                Ok(Err(e)) => {
                                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!(%peer, "TLS handshake timed out");
                                    return;
                                }
                            };
                        let conn = http.serve_connection(TokioIo::new(stream), service);
                        if let Err(e) = watcher.watch(conn).await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    }
                }
            });
        }
        drop(self.listener);
        tracing::info!("shutting down: no new connections; waiting for requests in flight");
        if tokio::time::timeout(self.config.shutdown_grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "requests still running after {} s; stopping anyway",
                self.config.shutdown_grace.as_secs()
            );
        }
        Ok(())
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C); elsewhere than Unix, on Ctrl-C.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
