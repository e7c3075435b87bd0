//! TLS from PEM files, by rustls with the ring provider.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use zlayer_secrets_core::{Result, SecretsError};

fn invalid(what: &str, path: &Path, why: impl std::fmt::Display) -> SecretsError {
    SecretsError::InvalidInput {
        what: format!("{what} {}", path.display()),
        reason: why.to_string(),
    }
}

/// An acceptor for the certificate chain in `cert` and its private key in `key` (PEM).
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| invalid("TLS certificate file", cert, e))?
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| invalid("TLS certificate file", cert, e))?;
    if certs.is_empty() {
        return Err(invalid(
            "TLS certificate file",
            cert,
            "it holds no PEM certificate",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| invalid("TLS key file", key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SecretsError::InvalidInput {
            what: "TLS settings".to_owned(),
            reason: e.to_string(),
        })?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            invalid(
                "TLS certificate file",
                cert,
                format!("it does not fit its key: {e}"),
            )
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
