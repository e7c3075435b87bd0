//! The credential-helper protocols through which git and docker use the typed credential
//! stores: `zlayer-secret git-credential` and `docker-credential-zlayer`.

pub(crate) mod docker;
pub(crate) mod git;

use std::io::Read;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use zeroize::Zeroizing;
use zlayer_secrets::SecretsStore;

use crate::backend::Location;

/// The most a helper reads from its standard input. Real requests are a few hundred bytes.
const MAX_INPUT: u64 = 1024 * 1024;

/// Reads all of `input` (at most [`MAX_INPUT`] bytes) into a buffer wiped on drop.
fn read_input(input: impl Read) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let mut buf = Zeroizing::new(Vec::new());
    input
        .take(MAX_INPUT + 1)
        .read_to_end(&mut buf)
        .context("cannot read standard input")?;
    if buf.len() as u64 > MAX_INPUT {
        bail!("the request on standard input is larger than {MAX_INPUT} bytes");
    }
    Ok(buf)
}

/// The store at `location` for a helper: `None` when there is no local store yet and
/// `create` is false (a look-up in a store that does not exist finds nothing, and creates
/// nothing). On Vault the provider is always there.
async fn open_store(
    location: &Location,
    create: bool,
) -> anyhow::Result<Option<Arc<dyn SecretsStore>>> {
    let data_dir = match location {
        Location::Local(dir) => dir,
        Location::Vault => return Ok(Some(Arc::new(crate::backend::vault_provider()?))),
    };
    if !create && !crate::backend::database_path(data_dir).exists() {
        return Ok(None);
    }
    Ok(Some(Arc::new(crate::backend::open_local(data_dir).await?)))
}
