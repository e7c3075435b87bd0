//! `serve`: the secrets server over this data directory's store (or Vault).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use zlayer_secrets_server::{Server, ServerConfig, Stores, TlsFiles, shutdown_signal};

use crate::backend::{Location, open_local, vault_provider};
use crate::output::note;

/// What `serve` was given.
pub(crate) struct Options {
    pub(crate) listen: SocketAddr,
    pub(crate) tls_cert: Option<PathBuf>,
    pub(crate) tls_key: Option<PathBuf>,
    pub(crate) insecure_http: bool,
    pub(crate) token_lifetime: Duration,
}

/// Serves until SIGTERM or SIGINT; in-flight requests finish first.
pub(crate) async fn serve(
    location: &Location,
    data_dir: PathBuf,
    options: Options,
) -> anyhow::Result<()> {
    // The local store records every request in its own audit log; in front of Vault, the
    // data directory's local store is opened for its audit log alone.
    let stores = match location {
        Location::Local(dir) => Stores::audited(Arc::new(open_local(dir).await?)),
        Location::Vault => {
            let vault = Arc::new(vault_provider()?);
            let log = open_local(&data_dir)
                .await
                .context("cannot open the data directory's store for the audit log")?;
            Stores::recorded(vault, Arc::new(log))
        }
    };
    let mut config = ServerConfig::new(options.listen, data_dir);
    config.insecure_http = options.insecure_http;
    config.token_lifetime = options.token_lifetime;
    config.tls = match (options.tls_cert, options.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    let server = Server::bind(config, stores)
        .await
        .context("cannot start the server")?;
    if server.created_token_key() {
        note!(
            "note: created the token signing key {}",
            zlayer_secrets_server::token::TOKEN_KEY_FILE
        );
    }
    if !server.has_admin().await.unwrap_or(false) {
        note!(
            "warning: no API key has role admin yet, so every /api/v1 request is refused; make \
             one on this host with `zlayer-secret api-key create NAME --role admin` (the server \
             notices it without a restart)"
        );
    }
    note!("listening on {}", server.url());
    server.run(shutdown_signal()).await?;
    note!("stopped");
    Ok(())
}

/// Parses a duration: `90`, `90s`, `15m`, `1h`, `2d`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (write e.g. 90s, 15m, 1h)"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: the unit must be s, m, h or d")),
    };
    let secs = n
        .checked_mul(factor)
        .filter(|s| *s > 0)
        .ok_or_else(|| format!("`{text}` is not a duration of at least one second"))?;
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        for bad in ["", "0", "h", "1w", "-1s", "99999999999999999999d"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
