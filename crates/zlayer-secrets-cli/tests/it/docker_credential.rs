//! `docker-credential-zlayer`: the exact exchanges of docker's credential-helper protocol.

use std::process::{Command, Stdio};

use zlayer_secrets_testsupport::process::run_command;

use crate::{Run, Store, contains};

const NOT_FOUND: &str = "credentials not found in native keychain\n";

/// Runs the helper as docker does: one argument, the request on stdin, the data directory
/// from `ZLAYER_SECRETS_DIR`.
fn helper(s: &Store, args: &[&str], stdin: &str) -> Run {
    helper_bytes(s, args, stdin.as_bytes())
}

/// [`helper`] with any bytes as the request.
fn helper_bytes(s: &Store, args: &[&str], stdin: &[u8]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_docker-credential-zlayer"));
    cmd.args(args)
        .env("ZLAYER_SECRETS_DIR", s.path())
        .env_remove("ZLAYER_SECRETS_KEY")
        .env_remove("ZLAYER_SECRETS_PASSWORD");
    run_command(cmd, Some(stdin))
}

/// `store` of a credential, its request written as docker writes it.
fn store(s: &Store, url: &str, user: &str, secret: &str) -> Run {
    let [url, user, secret] = [url, user, secret].map(serde_json::Value::from);
    let request = format!(r#"{{"ServerURL":{url},"Username":{user},"Secret":{secret}}}"#);
    helper(s, &["store"], &request)
}

/// Panics unless `action` on `request` fails with docker's "not found" answer.
#[track_caller]
fn assert_not_found(s: &Store, action: &str, request: &str) {
    let r = helper(s, &[action], request);
    r.code(1);
    assert_eq!(r.out(), NOT_FOUND, "{action} {request:?}");
}

/// Panics unless `get` of `url` answers with the credential whose secret is `real-pass`.
#[track_caller]
fn assert_real_pass(s: &Store, url: &str) {
    let out = helper(s, &["get"], url).ok().out();
    assert!(
        out.contains("\"Secret\":\"real-pass\""),
        "get {url}: not the stored credential"
    );
}

#[test]
fn store_get_list_erase() {
    let s = Store::new();
    // Empty: nothing listed, nothing found, nothing created.
    assert_eq!(helper(&s, &["list"], "").ok().out(), "{}\n");
    assert_not_found(&s, "get", "https://index.docker.io/v1/\n");
    assert!(s.files().is_empty());

    let r = store(&s, "https://index.docker.io/v1/", "alice", "hub-pass-1");
    assert_eq!(r.ok().out(), "");
    store(&s, "ghcr.io", "<token>", "identity-token").ok();

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
    assert_not_found(&s, "get", "quay.io\n");
    assert_eq!(
        helper(&s, &["list"], "").ok().out(),
        "{\"ghcr.io\":\"<token>\",\"https://index.docker.io/v1/\":\"alice\"}\n"
    );

    // Storing again replaces.
    store(&s, "https://index.docker.io/v1/", "alice", "hub-pass-2").ok();
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
    assert_not_found(&s, "get", "https://index.docker.io/v1/");
    assert_not_found(&s, "erase", "https://index.docker.io/v1/");
    assert_eq!(
        helper(&s, &["list"], "").ok().out(),
        "{\"ghcr.io\":\"<token>\"}\n"
    );
}

#[test]
fn tokens_are_token_credentials_in_the_store() {
    let s = Store::new();
    store(&s, "registry.example.com:5000", "<token>", "tok-value-77").ok();
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
    let r = store(&s, "ftp://x", "u", "s");
    r.code(1);
    assert!(r.out().contains("invalid registry"), "{}", r.out());
}

#[test]
fn version_and_a_helper_that_stands_alone() {
    let s = Store::new();
    let v = helper(&s, &["version"], "");
    assert!(
        v.ok()
            .out()
            .starts_with("docker-credential-zlayer (zlayer-secrets) v"),
        "{}",
        v.out()
    );
    // The helper is a program of its own: it needs no `zlayer-secret` beside it. (A hard
    // link, on the target directory's file system: a copy could still be open for writing
    // in a process forked meanwhile, and fail to start.)
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let alone = dir.path().join("docker-credential-zlayer");
    std::fs::hard_link(env!("CARGO_BIN_EXE_docker-credential-zlayer"), &alone).unwrap();
    let out = Command::new(&alone)
        .arg("list")
        .env("ZLAYER_SECRETS_DIR", s.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{}\n");
    assert!(out.status.success());
}

/// A server URL with user information (`https://bob:pw@host`) is refused by `store`, and
/// the error shows neither the user nor the password; `get` and `erase` have no credential
/// for it.
#[test]
fn user_information_in_a_server_url_is_refused_and_never_echoed() {
    let s = Store::new();
    store(&s, "registry.example.com", "alice", "real-pass").ok();
    for url in [
        "https://bob:pw-secret-1@registry.example.com",
        "bob:pw-secret-1@registry.example.com",
        "https://bob:pw/secret-1@registry.example.com/v2/",
        "https://bob:pw-secret-1@registry.example.com:5000",
        "https://registry.example.com\\@evil.example",
    ] {
        for (action, stdin) in [
            ("get", url.to_owned()),
            ("erase", url.to_owned()),
            (
                "store",
                serde_json::json!({"ServerURL": url, "Username": "u", "Secret": "s"}).to_string(),
            ),
        ] {
            let r = helper(&s, &[action], &stdin);
            r.code(1);
            if action == "store" {
                assert!(
                    r.out().contains("user information"),
                    "{action} {url}: {}",
                    r.out()
                );
            } else {
                assert_eq!(r.out(), NOT_FOUND, "{action} {url}");
            }
            let shown = format!("{}{}", r.out(), r.err());
            for part in ["pw-secret", "pw/secret", "bob", "evil"] {
                assert!(!shown.contains(part), "{action} {url}: {shown}");
            }
        }
    }
    // Nothing was replaced or erased.
    assert_real_pass(&s, "registry.example.com");
}

/// `get` and `erase` of a server URL that is not a registry answer exactly as the
/// reference helpers do for a registry without a credential (docker takes any other
/// answer for a broken helper and stops); `store` of one is a clear error.
#[test]
fn get_and_erase_of_urls_that_are_not_registries_answer_not_found() {
    let s = Store::new();
    let empty = Store::new();
    store(&s, "ghcr.io", "alice", "real-pass").ok();
    for url in [
        "ftp://ghcr.io",
        "ghcr.io%2f.evil.example",
        "https://ghcr.io%2F.evil.example/v2/",
        "ghcr.io\\.evil.example",
        "https://ghcr.io\\.evil.example",
        "ghcr.io .evil.example",
        "ghcr.io:99999",
        "[::1",
        "https://",
        "https://bob:pw@ghcr.io",
    ] {
        for which in [&s, &empty] {
            for action in ["get", "erase"] {
                assert_not_found(which, action, url);
            }
        }
        let r = helper(
            &s,
            &["store"],
            &serde_json::json!({"ServerURL": url, "Username": "u", "Secret": "s"}).to_string(),
        );
        r.code(1);
        assert!(
            r.out().contains("invalid registry") || r.out().contains("user information"),
            "{url}: {}",
            r.out()
        );
    }
    let r = helper_bytes(&s, &["get"], b"ghcr.io\xff");
    r.code(1);
    assert_eq!(r.out(), NOT_FOUND, "not UTF-8");
    assert!(empty.files().is_empty(), "{:?}", empty.files());
    assert_real_pass(&s, "ghcr.io");
}

/// docker keeps Docker Hub's OAuth tokens under their own server URLs beside the
/// registry's: each is a key of its own, as with the reference helpers. Only URLs that
/// name the registry as a whole (path empty, `/`, `/v1/`, `/v2/`) are one registry.
#[test]
fn docker_hubs_three_keys_are_kept_apart() {
    let s = Store::new();
    let store = |url: &str, user: &str, secret: &str| {
        helper(
            &s,
            &["store"],
            &serde_json::json!({"ServerURL": url, "Username": user, "Secret": secret}).to_string(),
        )
        .ok();
    };
    let get = |url: &str| helper(&s, &["get"], url);
    let hub = "https://index.docker.io/v1/";
    let access = "https://index.docker.io/v1/access-token";
    let refresh = "https://index.docker.io/v1/refresh-token";
    store(hub, "alice", "dckr_pat_hub");
    store(access, "alice", "access-jwt");
    store(refresh, "alice", "refresh-token");
    for (url, secret) in [
        (hub, "dckr_pat_hub"),
        (access, "access-jwt"),
        (refresh, "refresh-token"),
    ] {
        assert_eq!(
            get(url).ok().out(),
            format!("{{\"ServerURL\":\"{url}\",\"Username\":\"alice\",\"Secret\":\"{secret}\"}}\n"),
        );
    }
    // Other spellings of the registry find the registry's credential, never a token.
    for url in [
        "docker.io",
        "https://registry-1.docker.io/v2/",
        "index.docker.io/",
    ] {
        assert!(get(url).ok().out().contains("dckr_pat_hub"), "{url}");
    }
    // Other paths are their own keys: nothing stored under them.
    for url in [
        "https://index.docker.io/v1/other",
        "https://index.docker.io/v1/access-token/",
        "https://INDEX.docker.io/v1/access-token",
    ] {
        let r = get(url);
        r.code(1);
        assert_eq!(r.out(), NOT_FOUND, "{url}");
    }
    assert_eq!(
        helper(&s, &["list"], "").ok().out(),
        format!("{{\"{hub}\":\"alice\",\"{access}\":\"alice\",\"{refresh}\":\"alice\"}}\n")
    );
    // A new token replaces only that token; a new login under another spelling of the
    // registry replaces the registry's credential and leaves the tokens.
    store(access, "alice", "access-jwt-2");
    store("docker.io", "alice", "dckr_pat_new");
    assert!(get(access).ok().out().contains("access-jwt-2"));
    assert!(get(refresh).ok().out().contains("\"refresh-token\""));
    assert!(get(hub).ok().out().contains("dckr_pat_new"));
    // Erasing the tokens (docker logout does) leaves the registry's credential.
    helper(&s, &["erase"], access).ok();
    helper(&s, &["erase"], refresh).ok();
    assert_eq!(get(access).code(1).out(), NOT_FOUND);
    assert!(get(hub).ok().out().contains("dckr_pat_new"));
    assert_eq!(
        helper(&s, &["list"], "").ok().out(),
        "{\"docker.io\":\"alice\"}\n"
    );
    // Erasing the registry's credential leaves the tokens.
    store(access, "alice", "access-jwt-3");
    helper(&s, &["erase"], hub).ok();
    assert_eq!(get(hub).code(1).out(), NOT_FOUND);
    assert!(get(access).ok().out().contains("access-jwt-3"));
}

/// The request is read whole however docker writes it, and its size is bounded.
#[test]
fn requests_are_read_in_pieces_and_bounded() {
    let s = Store::new();
    let secret = "s".repeat(100_000);
    let body =
        serde_json::json!({"ServerURL": "ghcr.io", "Username": "u", "Secret": secret}).to_string();
    helper(&s, &["store"], &body).ok();
    let got = helper(&s, &["get"], "ghcr.io").ok().out();
    assert!(got.contains(&secret));

    let huge = format!("ghcr.io{}", " ".repeat(1024 * 1024));
    let r = helper(&s, &["get"], &huge);
    r.code(1);
    assert_eq!(
        r.out(),
        "the request on standard input holds more than 1048576 bytes, the limit here\n"
    );
}

/// `registry ls` shows what the docker helper stored without its secret; `registry rm ID`
/// removes it.
#[test]
fn registry_ls_and_rm_manage_what_the_helper_stored() {
    let s = crate::Store::new();
    let mut helper = std::process::Command::new(env!("CARGO_BIN_EXE_docker-credential-zlayer"));
    helper
        .arg("store")
        .env("ZLAYER_SECRETS_DIR", s.path())
        .env_remove("ZLAYER_SECRETS_KEY")
        .env_remove("ZLAYER_SECRETS_PASSWORD");
    let run = zlayer_secrets_testsupport::process::run_command(
        helper,
        Some(br#"{"ServerURL":"ghcr.io","Username":"alice","Secret":"pat-never-shown"}"#),
    );
    run.ok();
    let r = s.run(&["registry", "ls"]);
    let out = r.ok().out();
    assert!(out.contains("ghcr.io") && out.contains("alice"), "{out}");
    assert!(!out.contains("pat-never-shown"), "{out}");
    let r = s.run(&["registry", "ls", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&r.ok().out()).unwrap();
    let id = doc["credentials"][0]["id"].as_str().unwrap().to_owned();
    s.run(&["registry", "rm", &id]).ok();
    let r = s.run(&["registry", "ls", "-o", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&r.ok().out()).unwrap();
    assert_eq!(doc["credentials"].as_array().unwrap().len(), 0);
}
