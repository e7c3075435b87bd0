//! `docker-credential-zlayer`: the exact exchanges of docker's credential-helper protocol.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::{Run, Store, contains};

const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// Runs the helper as docker does: one argument, the request on stdin, the data directory
/// from `ZLAYER_SECRETS_DIR`.
fn helper(s: &Store, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_docker-credential-zlayer"))
        .args(args)
        .env("ZLAYER_SECRETS_DIR", s.path())
        .env_remove("ZLAYER_SECRETS_KEY")
        .env_remove("ZLAYER_SECRETS_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap().into()
}

#[test]
fn store_get_list_erase() {
    let s = Store::new();
    // Empty: nothing listed, nothing found, nothing created.
    assert_eq!(helper(&s, &["list"], "").ok().out(), "{}\n");
    let r = helper(&s, &["get"], "https://index.docker.io/v1/\n");
    r.code(1);
    assert_eq!(r.out(), NOT_FOUND);
    assert!(s.files().is_empty());

    let r = helper(
        &s,
        &["store"],
        r#"{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"hub-pass-1"}"#,
    );
    assert_eq!(r.ok().out(), "");
    helper(
        &s,
        &["store"],
        r#"{"ServerURL":"ghcr.io","Username":"<token>","Secret":"identity-token"}"#,
    )
    .ok();

    assert_eq!(
        helper(&s, &["get"], "https://index.docker.io/v1/\n")
            .ok()
            .out(),
        "{\"ServerURL\":\"https://index.docker.io/v1/\",\"Username\":\"alice\",\"Secret\":\"hub-pass-1\"}\n"
    );
    // Another spelling of Docker Hub is the same registry.
    assert_eq!(
        helper(&s, &["get"], "docker.io").ok().out(),
        "{\"ServerURL\":\"docker.io\",\"Username\":\"alice\",\"Secret\":\"hub-pass-1\"}\n"
    );
    assert_eq!(
        helper(&s, &["get"], "https://ghcr.io\n").ok().out(),
        "{\"ServerURL\":\"https://ghcr.io\",\"Username\":\"<token>\",\"Secret\":\"identity-token\"}\n"
    );
    let r = helper(&s, &["get"], "quay.io\n");
    r.code(1);
    assert_eq!(r.out(), NOT_FOUND);
    assert_eq!(
        helper(&s, &["list"], "").ok().out(),
        "{\"ghcr.io\":\"<token>\",\"https://index.docker.io/v1/\":\"alice\"}\n"
    );

    // Storing again replaces.
    helper(
        &s,
        &["store"],
        r#"{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"hub-pass-2"}"#,
    )
    .ok();
    assert!(
        helper(&s, &["get"], "https://index.docker.io/v1/")
            .ok()
            .out()
            .contains("\"Secret\":\"hub-pass-2\"")
    );
    assert_eq!(
        helper(&s, &["list"], "").ok().out(),
        "{\"ghcr.io\":\"<token>\",\"https://index.docker.io/v1/\":\"alice\"}\n"
    );

    // Erase, then it is gone; erasing again says not found.
    assert_eq!(
        helper(&s, &["erase"], "https://index.docker.io/v1/\n")
            .ok()
            .out(),
        ""
    );
    let r = helper(&s, &["get"], "https://index.docker.io/v1/");
    r.code(1);
    assert_eq!(r.out(), NOT_FOUND);
    let r = helper(&s, &["erase"], "https://index.docker.io/v1/");
    r.code(1);
    assert_eq!(r.out(), NOT_FOUND);
    assert_eq!(
        helper(&s, &["list"], "").ok().out(),
        "{\"ghcr.io\":\"<token>\"}\n"
    );
}

#[test]
fn tokens_are_token_credentials_in_the_store() {
    let s = Store::new();
    helper(
        &s,
        &["store"],
        r#"{"ServerURL":"registry.example.com:5000","Username":"<token>","Secret":"tok-value-77"}"#,
    )
    .ok();
    // The value is encrypted in the store's files.
    for file in s.files() {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains(&bytes, b"tok-value-77"), "{}", file.display());
    }
    // The port is part of the registry.
    helper(&s, &["get"], "registry.example.com").code(1);
    assert!(
        helper(&s, &["get"], "registry.example.com:5000")
            .ok()
            .out()
            .contains("\"Username\":\"<token>\"")
    );
}

#[test]
fn errors_go_to_stdout_with_exit_code_1() {
    let s = Store::new();
    for (args, stdin, expected) in [
        (
            &["store"][..],
            r#"{"ServerURL":"","Username":"u","Secret":"s"}"#,
            "no credentials server URL\n",
        ),
        (
            &["store"][..],
            r#"{"ServerURL":"ghcr.io","Username":"","Secret":"s"}"#,
            "no credentials username\n",
        ),
        (&["get"][..], "  \n", "no credentials server URL\n"),
        (&["erase"][..], "", "no credentials server URL\n"),
        (
            &["frobnicate"][..],
            "",
            "Unknown credential action `frobnicate`\n",
        ),
        (
            &[][..],
            "",
            "Usage: docker-credential-zlayer <store|get|erase|list|version>\n",
        ),
        (
            &["get", "extra"][..],
            "",
            "Usage: docker-credential-zlayer <store|get|erase|list|version>\n",
        ),
    ] {
        let r = helper(&s, args, stdin);
        r.code(1);
        assert_eq!(r.out(), expected, "{args:?} {stdin:?}");
    }
    // Bad JSON is reported without quoting the input.
    let r = helper(
        &s,
        &["store"],
        r#"{"ServerURL":"ghcr.io","Username":"u","Secret":987654321}"#,
    );
    r.code(1);
    assert!(r.out().contains("not the expected JSON"), "{}", r.out());
    assert!(!r.out().contains("987654321"), "{}", r.out());
    // A registry that cannot be one is a clear error, not "not found".
    let r = helper(
        &s,
        &["store"],
        r#"{"ServerURL":"ftp://x","Username":"u","Secret":"s"}"#,
    );
    r.code(1);
    assert!(r.out().contains("invalid registry"), "{}", r.out());
}

#[test]
fn version_and_the_multi_call_name() {
    let s = Store::new();
    let v = helper(&s, &["version"], "");
    assert!(
        v.ok()
            .out()
            .starts_with("docker-credential-zlayer (zlayer-secrets) v"),
        "{}",
        v.out()
    );
    // `zlayer-secret` under the helper's name is the helper too.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("docker-credential-zlayer");
    std::os::unix::fs::symlink(crate::bin(), &link).unwrap();
    let out = Command::new(&link)
        .arg("list")
        .env("ZLAYER_SECRETS_DIR", s.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{}\n");
}
