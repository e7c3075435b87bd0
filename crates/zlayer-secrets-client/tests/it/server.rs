//! The real secrets server over a real SQLite store in a temporary data directory, served
//! in this process on 127.0.0.1 with a port of its own.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use zlayer_secrets_client::{RemoteConfig, RemoteStore};
use zlayer_secrets_core::Secret;
use zlayer_secrets_credentials::{CredentialStore, GrantStore, PermissionLevel, Subject};
use zlayer_secrets_server::{Server, ServerConfig, Stores, TlsFiles};
use zlayer_secrets_sqlite::{LocalStore, PersistentSecretsStore};

/// How a test server is started.
#[derive(Clone, Default)]
pub(crate) struct Options {
    /// The token lifetime (the server's default if `None`).
    pub(crate) token_lifetime: Option<Duration>,
    /// TLS: the certificate chain and key files.
    pub(crate) tls: Option<TlsFiles>,
    /// The address (a free port if `None`).
    pub(crate) listen: Option<SocketAddr>,
}

/// A running server and what a test needs of it.
pub(crate) struct TestServer {
    /// `http://127.0.0.1:PORT` (or `https://`).
    pub(crate) url: String,
    pub(crate) addr: SocketAddr,
    /// The admin key's id and secret.
    pub(crate) admin: (String, String),
    /// The server's own store, for setting up keys and grants and comparing with.
    pub(crate) store: Arc<PersistentSecretsStore>,
    dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with an admin key on a fresh data directory.
    pub(crate) async fn start(options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalStore::new(dir.path()).with_env_vars(Vec::<(String, String)>::new());
        let store = Arc::new(local.open_write().await.unwrap());
        let (identity, secret) = CredentialStore::new(store.clone())
            .create_user_api_key("admin", &["admin"], &[])
            .await
            .unwrap();
        let admin = (identity.api_key, secret.expose().to_owned());
        let mut server = Self {
            url: String::new(),
            addr: "127.0.0.1:0".parse().unwrap(),
            admin,
            store,
            dir,
            stop: None,
            task: None,
        };
        server.serve(options).await;
        server
    }

    /// Binds and runs the server on the data directory.
    async fn serve(&mut self, options: Options) {
        let listen = options
            .listen
            .unwrap_or_else(|| "127.0.0.1:0".parse().unwrap());
        let mut config = ServerConfig::new(listen, self.dir.path().to_path_buf());
        if let Some(lifetime) = options.token_lifetime {
            config.token_lifetime = lifetime;
        }
        config.tls = options.tls;
        let server = Server::bind(config, Stores::audited(self.store.clone()))
            .await
            .unwrap();
        self.url = server.url();
        self.addr = server.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop = Some(stop);
        self.task = Some(tokio::spawn(async move {
            server
                .run(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        }));
    }

    /// Stops the server, waiting until it has shut down.
    pub(crate) async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// Stops the server, replaces its token key (every token it gave becomes invalid) and
    /// starts it again on the same address.
    pub(crate) async fn restart_with_new_token_key(&mut self) {
        self.stop().await;
        let key = self
            .dir
            .path()
            .join(zlayer_secrets_server::token::TOKEN_KEY_FILE);
        std::fs::remove_file(&key).unwrap();
        let listen = Some(self.addr);
        self.serve(Options {
            listen,
            ..Options::default()
        })
        .await;
    }

    /// The configuration of the admin key.
    pub(crate) fn admin_config(&self) -> RemoteConfig {
        RemoteConfig::new(&self.url, &self.admin.0, Secret::new(self.admin.1.clone()))
    }

    /// A store speaking to the server as the admin.
    pub(crate) async fn admin_client(&self) -> RemoteStore {
        RemoteStore::connect(self.admin_config()).await.unwrap()
    }

    /// A new key of user `subject` (no role) with `level` on environment scope `env`.
    pub(crate) async fn user_key(
        &self,
        subject: &str,
        env: &str,
        level: PermissionLevel,
    ) -> RemoteConfig {
        let (identity, secret) = CredentialStore::new(self.store.clone())
            .create_user_api_key(subject, &[], &[])
            .await
            .unwrap();
        GrantStore::new(self.store.clone())
            .grant(&Subject::user(subject), env, level)
            .await
            .unwrap();
        RemoteConfig::new(&self.url, identity.api_key, secret)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A CA and a certificate for `localhost` and 127.0.0.1 signed by it, as PEM files in
/// `dir`: the TLS files of a server and the CA's PEM.
pub(crate) fn tls_files(dir: &std::path::Path) -> (TlsFiles, Vec<u8>) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, leaf.pem()).unwrap();
    std::fs::write(&key, leaf_key.serialize_pem()).unwrap();
    (TlsFiles { cert, key }, ca.pem().into_bytes())
}
