//! Associated data: what every sealed box in the store is bound to.
//!
//! Each field is written as a 4-byte big-endian length followed by its bytes, and the first
//! field is a tag naming the kind of record and the format version, so no two distinct
//! inputs encode to the same bytes and a box of one kind can never pass as another. The
//! layout is described in `docs/format.md` ("Associated data").

/// Tag of a secret value's associated data.
pub(crate) const VALUE_TAG: &[u8] = b"zlayer-secrets/sqlite/value/v1";
/// Tag of the wrapped data key's associated data.
pub(crate) const DATA_KEY_TAG: &[u8] = b"zlayer-secrets/sqlite/data-key/v1";
/// Tag of the associated data that authenticates a secret's current version.
pub(crate) const CURRENT_VERSION_TAG: &[u8] = b"zlayer-secrets/sqlite/current-version/v1";

fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    // Scopes, names and tags are validated to be far shorter than 4 GiB; saturate anyway so
    // an impossible length cannot wrap around.
    let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(field);
}

/// The associated data of version `version` of secret `name` in `scope`.
pub(crate) fn value_aad(scope: &str, name: &str, version: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(VALUE_TAG.len() + scope.len() + name.len() + 16);
    push_field(&mut out, VALUE_TAG);
    push_field(&mut out, scope.as_bytes());
    push_field(&mut out, name.as_bytes());
    push_field(&mut out, &version.to_be_bytes());
    out
}

/// The associated data of the data key of store `store_id`, generation `generation`.
pub(crate) fn data_key_aad(store_id: &[u8], generation: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(DATA_KEY_TAG.len() + store_id.len() + 12);
    push_field(&mut out, DATA_KEY_TAG);
    push_field(&mut out, store_id);
    push_field(&mut out, &generation.to_be_bytes());
    out
}

/// The associated data authenticating that version `version` is the current version of
/// secret `name` in `scope` of store `store_id` (see [`Keys::seal_current`]).
///
/// [`Keys::seal_current`]: crate::keys::Keys::seal_current
pub(crate) fn current_version_aad(
    store_id: &[u8],
    scope: &str,
    name: &str,
    version: u32,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        CURRENT_VERSION_TAG.len() + store_id.len() + scope.len() + name.len() + 20,
    );
    push_field(&mut out, CURRENT_VERSION_TAG);
    push_field(&mut out, store_id);
    push_field(&mut out, scope.as_bytes());
    push_field(&mut out, name.as_bytes());
    push_field(&mut out, &version.to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_layout_is_stable() {
        let aad = value_aad("a", "bc", 7);
        let mut expected = Vec::new();
        expected.extend_from_slice(&30u32.to_be_bytes());
        expected.extend_from_slice(b"zlayer-secrets/sqlite/value/v1");
        expected.extend_from_slice(&[0, 0, 0, 1, b'a']);
        expected.extend_from_slice(&[0, 0, 0, 2, b'b', b'c']);
        expected.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 7]);
        assert_eq!(aad, expected);
    }

    #[test]
    fn fields_cannot_be_shifted() {
        // The collisions a `scope:name` key would allow are distinct here.
        assert_ne!(value_aad("a", "b:c", 1), value_aad("a:b", "c", 1));
        assert_ne!(value_aad("ab", "c", 1), value_aad("a", "bc", 1));
        assert_ne!(value_aad("a", "b", 1), value_aad("a", "b", 2));
        assert_ne!(value_aad("a", "b", 256), value_aad("a", "b", 1));
    }

    #[test]
    fn kinds_are_distinct() {
        assert_ne!(value_aad("s", "n", 1), data_key_aad(b"s", 1));
        let id = [9u8; 16];
        assert_ne!(data_key_aad(&id, 1), data_key_aad(&id, 2));
        assert_ne!(
            value_aad("s", "n", 1),
            current_version_aad(&id, "s", "n", 1)
        );
        assert_ne!(
            current_version_aad(&id, "s", "n", 1),
            current_version_aad(&id, "s", "n", 2)
        );
        assert_ne!(
            current_version_aad(&id, "a", "b:c", 1),
            current_version_aad(&id, "a:b", "c", 1)
        );
        assert_ne!(
            current_version_aad(&id, "s", "n", 1),
            current_version_aad(&[8u8; 16], "s", "n", 1)
        );
    }

    #[test]
    fn current_version_layout_is_stable() {
        let aad = current_version_aad(&[0xab; 16], "a", "bc", 7);
        let mut expected = Vec::new();
        expected.extend_from_slice(&40u32.to_be_bytes());
        expected.extend_from_slice(b"zlayer-secrets/sqlite/current-version/v1");
        expected.extend_from_slice(&16u32.to_be_bytes());
        expected.extend_from_slice(&[0xab; 16]);
        expected.extend_from_slice(&[0, 0, 0, 1, b'a']);
        expected.extend_from_slice(&[0, 0, 0, 2, b'b', b'c']);
        expected.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 7]);
        assert_eq!(aad, expected);
    }
}
