//! `--backend vault`: the end-to-end flow against a real OpenBao (or Vault) server named by
//! `ZLAYER_TEST_VAULT_ADDR` and `ZLAYER_TEST_VAULT_TOKEN`. Each test works in its own
//! deployment, so tests sharing one server do not collide.

use zlayer_secrets_testsupport::openbao::{bao, bao_kv_fields, server};
use zlayer_secrets_testsupport::unique_scope;

use crate::{Rng, Run, Store, listed_names, script_args};

/// Runs the binary with `--backend vault` against the test server.
struct Vault {
    local: Store,
    addr: String,
    token: String,
}

impl Vault {
    fn new() -> Self {
        let (addr, token) = server();
        Self {
            local: Store::new(),
            addr,
            token,
        }
    }

    /// A runner and a deployment of its own, named after `label` (see [`unique_scope`]).
    fn with_deployment(label: &str) -> (Self, String) {
        (Self::new(), unique_scope(label))
    }

    /// The variables that point the binary at the test server.
    fn vars(&self) -> Vec<(&str, &str)> {
        vec![
            ("VAULT_ADDR", self.addr.as_str()),
            ("VAULT_TOKEN", self.token.as_str()),
            ("VAULT_MOUNT", "secret"),
            ("VAULT_NAMESPACE", ""),
            ("VAULT_CACERT", ""),
        ]
    }

    fn run_with(&self, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
        let mut all = vec!["--backend", "vault"];
        all.extend_from_slice(args);
        let mut vars = self.vars();
        vars.extend_from_slice(env);
        self.local.run_with(&all, stdin, &vars)
    }

    /// A command for `--backend vault` with these arguments, not started yet.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut all = vec!["--backend", "vault"];
        all.extend_from_slice(args);
        let mut cmd = self.local.command(&all);
        cmd.envs(self.vars());
        cmd
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    /// `run FLAGS... -- sh -c SCRIPT` with the extra variables `env`.
    fn run_script(&self, flags: &[&str], script: &str, env: &[(&str, &str)]) -> Run {
        self.run_with(&script_args(flags, script), None, env)
    }

    fn put(&self, name: &str, value: &str, scope: &[&str]) {
        let mut args = vec!["set", name, "--from-stdin"];
        args.extend_from_slice(scope);
        self.run_with(&args, Some(value.as_bytes()), &[]).ok();
    }

    fn reveal(&self, name: &str, scope: &[&str]) -> String {
        let mut args = vec!["get", name, "--reveal"];
        args.extend_from_slice(scope);
        self.run(&args).ok().out()
    }
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn set_get_rotate_history_on_vault() {
    let (v, dep) = Vault::with_deployment("cli-basic");
    let scope = ["--deployment", dep.as_str()];
    v.put("db-password", "first value", &scope);
    assert_eq!(v.reveal("db-password", &scope), "first value");

    let mut args = vec!["rotate", "db-password", "--from-stdin"];
    args.extend_from_slice(&scope);
    let r = v.run_with(&args, Some(b"second value"), &[]);
    assert!(r.ok().out().contains("v1 -> v2"), "{}", r.out());
    assert_eq!(v.reveal("db-password", &scope), "second value");

    let mut args = vec!["get", "db-password", "--reveal", "--version", "1"];
    args.extend_from_slice(&scope);
    assert_eq!(v.run(&args).ok().out(), "first value");

    let mut args = vec!["history", "db-password", "--output", "json"];
    args.extend_from_slice(&scope);
    let history: serde_json::Value = serde_json::from_str(&v.run(&args).ok().out()).unwrap();
    let text = history.to_string();
    assert!(!text.contains("first value") && !text.contains("second value"));
    let versions: Vec<u64> = history
        .as_array()
        .or_else(|| history["versions"].as_array())
        .unwrap_or_else(|| panic!("unexpected history JSON: {text}"))
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert!(versions.contains(&1) && versions.contains(&2), "{text}");

    let mut args = vec!["ls", "--output", "json"];
    args.extend_from_slice(&scope);
    let ls = v.run(&args).ok().out();
    assert!(
        ls.contains("db-password") && !ls.contains("second value"),
        "{ls}"
    );

    let mut args = vec!["rm", "db-password"];
    args.extend_from_slice(&scope);
    v.run(&args).ok();
    let mut args = vec!["get", "db-password"];
    args.extend_from_slice(&scope);
    v.run(&args).code(1);
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn export_then_import_into_another_deployment_is_lossless() {
    let v = Vault::new();
    let from = unique_scope("cli-export");
    let to = unique_scope("other");
    let mut rng = Rng::new(0x5eed_1234);
    // Loaded with a JSON import: `set --from-stdin` would drop a final newline.
    let values: Vec<(String, String)> = (0..12)
        .map(|i| (format!("SECRET_{i}"), rng.tricky_value()))
        .collect();
    let json = serde_json::Value::Object(
        values
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    );
    v.run_with(
        &["import", "-", "--format", "json", "--deployment", &from],
        Some(json.to_string().as_bytes()),
        &[],
    )
    .ok();
    let exported = v
        .run(&["export", "--format", "json", "--deployment", &from])
        .ok()
        .stdout
        .clone();
    let r = v.run_with(&["import", "-", "--deployment", &to], Some(&exported), &[]);
    r.ok().err_contains("all-or-nothing");
    for (name, value) in &values {
        assert_eq!(&v.reveal(name, &["--deployment", &to]), value, "{name}");
    }
    let again = v
        .run(&["export", "--format", "json", "--deployment", &to])
        .ok()
        .stdout
        .clone();
    assert_eq!(again, exported);
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn run_resolves_references_from_vault() {
    let (v, dep) = Vault::with_deployment("cli-run");
    v.put("db-password", "abcdef", &["--deployment", &dep]);
    let script = r#"printf '%s|%s' "$DB" "$PLAIN""#;
    let env = [("DB", "$S:db-password"), ("PLAIN", "plain-value")];
    let direct = v.run_script(&["--deployment", &dep, "--no-masking"], script, &env);
    assert_eq!(direct.ok().out(), "abcdef|plain-value");
    let masked = v.run_script(&["--deployment", &dep], script, &env);
    assert_eq!(masked.ok().out(), "<concealed>|plain-value");
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn key_verbs_are_refused_and_a_missing_token_is_named() {
    let v = Vault::new();
    for verb in [["key", "status"], ["key", "rotate"]] {
        let r = v.run(&verb);
        r.code(1).err_contains("keys are managed by Vault");
    }
    let r = v.run_with(&["ls"], None, &[("VAULT_TOKEN", "")]);
    r.code(1).err_contains("VAULT_TOKEN");
    assert!(v.local.files().is_empty(), "nothing is written locally");
}

/// A token holding only a new policy made of `hcl` (without the default policy).
fn token_with_policy(name: &str, hcl: &str) -> String {
    bao(&["policy", "write", name, "-"], Some(hcl));
    bao(
        &[
            "token",
            "create",
            "-no-default-policy",
            "-ttl=15m",
            &format!("-policy={name}"),
            "-field=token",
        ],
        None,
    )
    .trim()
    .to_owned()
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn set_keeps_the_fields_bao_kv_put_wrote() {
    let (v, dep) = Vault::with_deployment("cli-fields");
    let path = format!("{dep}/x");
    bao(
        &["kv", "put", "-mount=secret", &path, "value=v", "other=o"],
        None,
    );
    v.put("x", "new value", &["--deployment", &dep]);
    assert_eq!(
        bao_kv_fields("secret", &path),
        serde_json::json!({"value": "new value", "other": "o"})
    );
    let r = v.run_with(
        &["rotate", "x", "--from-stdin", "--deployment", &dep],
        Some(b"rotated"),
        &[],
    );
    assert_eq!(r.ok().out(), "v2 -> v3\n");
    assert_eq!(
        bao_kv_fields("secret", &path),
        serde_json::json!({"value": "rotated", "other": "o"})
    );
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn secrets_without_a_value_string_are_read_exported_and_removed() {
    let (v, dep) = Vault::with_deployment("cli-no-value");
    let put = |name: &str, args: &[&str], stdin: Option<&str>| {
        let path = format!("{dep}/{name}");
        let mut all = vec!["kv", "put", "-mount=secret", path.as_str()];
        all.extend_from_slice(args);
        bao(&all, stdin);
    };
    put("db", &["username=app", "password=p4ss-w0rd"], None);
    put("null", &["-"], Some(r#"{"value": null}"#));
    put("number", &["-"], Some(r#"{"value": 4242424242}"#));
    v.put("plain", "plain value", &["--deployment", &dep]);

    // Fields without `value`: the JSON object of the fields.
    let shown = v.reveal("db", &["--deployment", &dep]);
    let parsed: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(
        parsed,
        serde_json::json!({"username": "app", "password": "p4ss-w0rd"})
    );
    let r = v.run_script(
        &["--deployment", &dep, "--no-masking"],
        r#"printf %s "$P""#,
        &[("P", "$S:db/password")],
    );
    assert_eq!(r.ok().out(), "p4ss-w0rd");

    // A `value` that is not a string: named by its type, never shown.
    let r = v.run(&["get", "null", "--reveal", "--deployment", &dep]);
    r.code(1).err_contains("null").err_lacks("no `value` field");
    let r = v.run(&["get", "number", "--reveal", "--deployment", &dep]);
    r.code(1).err_contains("number").err_lacks("4242424242");

    // `export` skips those two with a warning naming them.
    let r = v.run(&["export", "--format", "json", "--deployment", &dep]);
    r.ok();
    let exported: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(exported["plain"], "plain value");
    assert_eq!(exported["db"].as_str(), Some(shown.as_str()));
    assert!(exported.get("null").is_none() && exported.get("number").is_none());
    let err = r.err();
    assert!(
        err.contains(&format!("{dep}/null")) && err.contains(&format!("{dep}/number")),
        "{err}"
    );
    assert!(err.contains("warning"), "{err}");
    assert!(!err.contains("4242424242") && !r.out().contains("4242424242"));

    // `rm` of several of them works.
    v.run(&["rm", "null", "number", "db", "--deployment", &dep])
        .ok();
    let r = v.run(&["ls", "--deployment", &dep, "--output", "json"]);
    assert_eq!(listed_names(&r), ["plain"]);
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn a_namespace_that_does_not_exist_is_an_error() {
    let v = Vault::new();
    let ns = unique_scope("no-such-ns");
    let r = v.run_with(&["ls"], None, &[("VAULT_NAMESPACE", &ns)]);
    r.code(1);
    assert!(
        r.err().contains("VAULT_NAMESPACE") && r.err().contains(&ns),
        "{}",
        r.err()
    );

    // The docker helper says so instead of "not found" (which makes docker pull anonymously).
    let helper = std::process::Command::new(env!("CARGO_BIN_EXE_docker-credential-zlayer"))
        .arg("get")
        .env("ZLAYER_SECRETS_DIR", v.local.path())
        .env("ZLAYER_SECRETS_BACKEND", "vault")
        .env("VAULT_ADDR", &v.addr)
        .env("VAULT_TOKEN", &v.token)
        .env("VAULT_NAMESPACE", &ns)
        .env_remove("VAULT_MOUNT")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut helper = helper;
    {
        use std::io::Write as _;
        helper
            .stdin
            .take()
            .unwrap()
            .write_all(b"https://ghcr.io")
            .unwrap();
    }
    let out = helper.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(!stdout.contains("credentials not found"), "{stdout}");
    assert!(stdout.contains("VAULT_NAMESPACE"), "{stdout}");
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn set_with_a_token_that_cannot_read_metadata_reports_the_version_written() {
    let (v, dep) = Vault::with_deployment("cli-no-metadata");
    v.put("x", "one", &["--deployment", &dep]);
    let token = token_with_policy(
        &format!("{dep}-write"),
        &format!(r#"path "secret/data/{dep}/*" {{ capabilities = ["create", "read", "update"] }}"#),
    );
    let r = v.run_with(
        &["set", "x", "--from-stdin", "--deployment", &dep],
        Some(b"two"),
        &[("VAULT_TOKEN", &token)],
    );
    r.ok().err_contains(&format!("stored {dep}/x (v2)"));
    assert!(!r.err().contains(&token));
    assert_eq!(v.reveal("x", &["--deployment", &dep]), "two");
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn history_after_the_current_version_was_deleted_with_bao() {
    let (v, dep) = Vault::with_deployment("cli-deleted");
    let path = format!("{dep}/x");
    for value in ["one", "two", "three"] {
        v.put("x", value, &["--deployment", &dep]);
    }
    bao(&["kv", "delete", "-mount=secret", &path], None);

    let history = |v: &Vault| {
        let r = v.run(&["history", "x", "--deployment", &dep, "--output", "json"]);
        let doc: serde_json::Value = serde_json::from_str(&r.ok().out()).unwrap();
        doc
    };
    let doc = history(&v);
    assert_eq!(doc["current"], 3, "{doc}");
    assert_eq!(doc["current_state"], "deleted", "{doc}");
    let versions: Vec<u64> = doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [2, 1], "newest first: {doc}");
    let table = v.run(&["history", "x", "--deployment", &dep]);
    assert!(
        table.ok().out().contains("current (deleted)"),
        "{}",
        table.out()
    );

    bao(
        &["kv", "destroy", "-mount=secret", "-versions=3", &path],
        None,
    );
    assert_eq!(history(&v)["current_state"], "destroyed");

    // Rolling back brings it back as version 4.
    let r = v.run(&["rollback", "x", "--to", "2", "--deployment", &dep]);
    assert_eq!(r.ok().out(), "v3 -> v4\n");
    let doc = history(&v);
    assert_eq!(
        (doc["current"].as_u64(), doc["current_state"].as_str()),
        (Some(4), Some("live")),
        "{doc}"
    );
    assert_eq!(v.reveal("x", &["--deployment", &dep]), "two");
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn create_over_a_deleted_current_version_reports_the_version_written() {
    let (v, dep) = Vault::with_deployment("cli-create-deleted");
    for value in ["one", "two", "three", "four"] {
        v.put("x", value, &["--deployment", &dep]);
    }
    bao(
        &["kv", "delete", "-mount=secret", &format!("{dep}/x")],
        None,
    );
    let r = v.run_with(
        &["create", "x", "--from-stdin", "--deployment", &dep],
        Some(b"five"),
        &[],
    );
    r.ok().err_contains(&format!("created {dep}/x (v5)"));
    assert_eq!(v.reveal("x", &["--deployment", &dep]), "five");
    // It exists now: a second create is refused.
    let r = v.run_with(
        &["create", "x", "--from-stdin", "--deployment", &dep],
        Some(b"six"),
        &[],
    );
    r.code(1).err_contains("already exists");
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn ls_takes_the_scope_as_an_argument() {
    let (v, dep) = Vault::with_deployment("cli-ls-scope");
    v.put("in-deployment", "a", &["--deployment", &dep]);
    v.put(
        "in-service",
        "b",
        &["--deployment", &dep, "--service", "api"],
    );
    let names = |scope: &str| {
        let r = v.run(&["ls", scope, "--output", "json"]);
        let doc: serde_json::Value = serde_json::from_str(&r.ok().out()).unwrap();
        assert_eq!(doc["scope"], scope);
        listed_names(&r)
    };
    assert_eq!(names(&dep), ["in-deployment"]);
    assert_eq!(names(&format!("{dep}/api")), ["in-service"]);
    let r = v.run(&["ls", &dep, "--deployment", &dep]);
    r.code(2).err_contains("--deployment");
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn a_refusal_says_whether_the_token_or_its_policy_is_at_fault() {
    let (v, dep) = Vault::with_deployment("cli-denied");
    v.put("x", "v", &["--deployment", &dep]);
    let bogus = "s.not-a-real-token-0123456789abcdef";
    let r = v.run_with(
        &["get", "x", "--reveal", "--deployment", &dep],
        None,
        &[("VAULT_TOKEN", bogus)],
    );
    r.code(1)
        .err_contains("invalid or expired")
        .err_lacks(bogus);

    let token = token_with_policy(
        &format!("{dep}-other"),
        &format!(r#"path "secret/data/{dep}/other" {{ capabilities = ["read"] }}"#),
    );
    let r = v.run_with(
        &["get", "x", "--reveal", "--deployment", &dep],
        None,
        &[("VAULT_TOKEN", &token)],
    );
    r.code(1)
        .err_contains(&format!(
            "the token is valid but its policies do not allow read on secret/data/{dep}/x"
        ))
        .err_lacks(&token);
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn run_on_vault_does_not_pass_the_token_on() {
    let (v, dep) = Vault::with_deployment("cli-run-token");
    v.put("db-password", "abcdef", &["--deployment", &dep]);
    let script = r#"printf '%s|%s' "${VAULT_TOKEN-unset}" "$DB""#;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("m");
    let dir = dir.to_str().unwrap();
    for flags in [
        &[][..],
        &["--no-masking"][..],
        &["--mount-dir", dir][..],
        &["--mount-dir", dir, "--no-masking"][..],
    ] {
        let mut args = vec!["run", "--deployment", &dep];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "sh", "-c", script]);
        let r = v.run_with(&args, None, &[("DB", "$S:db-password")]);
        let out = r.ok().out();
        assert!(out.starts_with("unset|"), "{flags:?}: {out}");
        assert!(!out.contains(&v.token), "{flags:?}: {out}");
    }
    let r = v.run_script(
        &[
            "--deployment",
            &dep,
            "--no-masking",
            "--keep-env",
            "VAULT_TOKEN",
        ],
        script,
        &[("DB", "$S:db-password")],
    );
    assert_eq!(r.ok().out(), format!("{}|abcdef", v.token));
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn concurrent_creates_of_one_name_have_one_winner_on_vault() {
    let (v, dep) = Vault::with_deployment("cli-create-race");
    let children: Vec<_> = (0..8)
        .map(|p| {
            let value = format!("value of process {p}");
            let mut cmd = v.command(&[
                "create",
                "same-name",
                "--value",
                &value,
                "--deployment",
                &dep,
            ]);
            cmd.stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            (value, cmd.spawn().unwrap())
        })
        .collect();
    let mut winners = Vec::new();
    for (value, child) in children {
        let run: Run = child.wait_with_output().unwrap().into();
        match run.code {
            Some(0) => {
                run.err_contains(&format!("created {dep}/same-name (v1)"));
                winners.push(value);
            }
            Some(1) => assert!(
                run.err()
                    .contains(&format!("secret already exists: {dep}/same-name")),
                "{}",
                run.err()
            ),
            other => panic!("exit {other:?}: {}", run.err()),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(v.reveal("same-name", &["--deployment", &dep]), winners[0]);
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn run_watch_restarts_on_a_vault_rotation() {
    let (v, dep) = Vault::with_deployment("cli-watch");
    let scope = ["--deployment", dep.as_str()];
    v.put("watched", "first-value", &scope);
    crate::watch::rotations_restart_the_program_once(
        |args| {
            let mut all = args.to_vec();
            // The scope flags go before `--`.
            let at = all.iter().position(|a| *a == "--").unwrap();
            all.splice(at..at, scope);
            v.command(&all)
        },
        |value| v.put("watched", value, &scope),
        "watched",
    );
}
