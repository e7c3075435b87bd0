//! The credential-helper protocols through which git and docker use the typed credential
//! stores: `zlayer-secret git-credential` and `docker-credential-zlayer`.

pub(crate) mod docker;
pub(crate) mod git;

use std::sync::Arc;

use zeroize::Zeroizing;
use zlayer_secrets::SecretsStore;

use crate::backend::Location;
use crate::value::{read_limited_to, unbuffered_stdin};

/// The most a helper reads from its standard input. Real requests are a few hundred bytes.
const MAX_INPUT: usize = 1024 * 1024;

/// Reads the whole request on standard input (at most [`MAX_INPUT`] bytes) with the reader
/// of `--from-stdin`: unbuffered, into a buffer wiped on drop (as is every buffer it
/// outgrows).
fn read_request() -> anyhow::Result<Zeroizing<Vec<u8>>> {
    read_limited_to(
        unbuffered_stdin()?,
        "the request on standard input",
        MAX_INPUT,
    )
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
