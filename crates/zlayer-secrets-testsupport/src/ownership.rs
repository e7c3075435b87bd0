//! Files that belong to another user, for the tests of the ownership rules.

use std::path::Path;

/// A uid that is neither this user's nor root's (tests run as root, which may chown).
pub const OTHER_UID: u32 = 65534;

/// Gives `path` (not what a link there points to) to [`OTHER_UID`]; `false`, and the test
/// checks nothing more, where this process may not chown, i.e. when it does not run as root.
///
/// # Panics
/// On any other failure of `lchown`.
#[must_use]
pub fn give_away(path: &Path) -> bool {
    match std::os::unix::fs::lchown(path, Some(OTHER_UID), None) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            eprintln!("not root: cannot chown {}, skipping", path.display());
            false
        }
        Err(e) => panic!("chown {}: {e}", path.display()),
    }
}
