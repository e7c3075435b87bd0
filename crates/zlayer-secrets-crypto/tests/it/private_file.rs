//! `ownership::write_private_file`: mode 0600, atomic replacement, no link followed.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use zlayer_secrets_crypto::ownership::write_private_file;

use crate::file_names;

fn mode(path: &std::path::Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn creates_a_0600_file_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.conf");
    write_private_file(&out, b"password = s3cr3t\n", "output file").unwrap();
    assert_eq!(fs::read(&out).unwrap(), b"password = s3cr3t\n");
    assert_eq!(mode(&out), 0o600);
    assert_eq!(file_names(dir.path()), ["app.conf"]);
}

#[test]
fn replaces_an_existing_file_and_its_loose_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.conf");
    fs::write(&out, b"old contents, longer than the new ones").unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o644)).unwrap();
    write_private_file(&out, b"new", "output file").unwrap();
    assert_eq!(fs::read(&out).unwrap(), b"new");
    assert_eq!(mode(&out), 0o600);
    assert_eq!(file_names(dir.path()), ["app.conf"]);
}

#[test]
fn a_symbolic_link_is_replaced_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("elsewhere");
    fs::write(&target, b"untouched").unwrap();
    let out = dir.path().join("app.conf");
    std::os::unix::fs::symlink(&target, &out).unwrap();
    write_private_file(&out, b"new", "output file").unwrap();
    assert_eq!(fs::read(&target).unwrap(), b"untouched");
    assert!(!fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
    assert_eq!(fs::read(&out).unwrap(), b"new");
}

#[test]
fn a_missing_directory_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir").join("app.conf");
    let err = write_private_file(&out, b"x", "output file").unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("output file"), "{shown}");
    assert!(shown.contains("no-such-dir"), "{shown}");
}

#[test]
fn a_directory_in_the_way_is_an_error_and_stays() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("app.conf");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("inside"), b"kept").unwrap();
    assert!(write_private_file(&out, b"x", "output file").is_err());
    assert_eq!(fs::read(out.join("inside")).unwrap(), b"kept");
    assert_eq!(file_names(dir.path()), ["app.conf"]);
}
