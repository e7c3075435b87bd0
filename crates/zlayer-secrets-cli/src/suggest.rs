//! "Did you mean `db-password`?": the name of the scope closest to a missing one.

use zlayer_secrets::SecretsError;

use crate::backend::Backend;

/// The candidate closest to `name` if it is close enough to be a typo: at most two edits
/// (one for names of up to four characters), the nearest first, then the first in order.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = if name.chars().count() <= 4 { 1 } else { 2 };
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `error` as it is, or, when it says that the secret `name` of `scope` does not exist,
/// with the nearest name of the scope suggested (names only; a failure to list them adds
/// nothing).
pub(crate) async fn not_found_hint(
    backend: &Backend,
    scope: &str,
    name: &str,
    error: SecretsError,
) -> anyhow::Error {
    if !matches!(error, SecretsError::NotFound { .. }) {
        return error.into();
    }
    let Ok(listed) = backend.store.list_secrets(scope).await else {
        return error.into();
    };
    match closest(name, listed.iter().map(|m| m.name.as_str())) {
        Some(near) => anyhow::anyhow!("{error}; did you mean `{near}`?"),
        None => error.into(),
    }
}

/// `result`, with [`not_found_hint`] applied to an error that is a [`SecretsError`].
pub(crate) async fn hinted<T>(
    backend: &Backend,
    scope: &str,
    name: &str,
    result: anyhow::Result<T>,
) -> anyhow::Result<T> {
    match result {
        Err(e) => match e.downcast::<SecretsError>() {
            Ok(error) => Err(not_found_hint(backend, scope, name, error).await),
            Err(other) => Err(other),
        },
        ok => ok,
    }
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_find_their_name_and_strangers_nothing() {
        let names = ["db-password", "db-user", "api-token", "pin"];
        assert_eq!(closest("db-pasword", names), Some("db-password"));
        assert_eq!(closest("db-passwrod", names), Some("db-password"));
        assert_eq!(closest("api-tokn", names), Some("api-token"));
        assert_eq!(closest("pim", names), Some("pin"));
        assert_eq!(closest("pxx", names), None);
        assert_eq!(closest("unrelated", names), None);
        assert_eq!(
            closest("db-password", names),
            None,
            "the name itself is no suggestion"
        );
    }
}
