//! `--backend vault`: the end-to-end flow against a real OpenBao (or Vault) server named by
//! `ZLAYER_TEST_VAULT_ADDR` and `ZLAYER_TEST_VAULT_TOKEN`. Each test works in its own
//! deployment, so tests sharing one server do not collide.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::{Rng, Run, Store};

/// The server and token of the test server; a clear failure when they are not given.
fn server() -> (String, String) {
    let get = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: these tests need an OpenBao server (e.g. `bao server -dev`)")
        })
    };
    (
        get("ZLAYER_TEST_VAULT_ADDR"),
        get("ZLAYER_TEST_VAULT_TOKEN"),
    )
}

/// A deployment name no other test (or earlier run) uses.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

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

    fn run_with(&self, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
        let mut all = vec!["--backend", "vault"];
        all.extend_from_slice(args);
        let mut vars = vec![
            ("VAULT_ADDR", self.addr.as_str()),
            ("VAULT_TOKEN", self.token.as_str()),
            ("VAULT_MOUNT", "secret"),
            ("VAULT_NAMESPACE", ""),
            ("VAULT_CACERT", ""),
        ];
        vars.extend_from_slice(env);
        self.local.run_with(&all, stdin, &vars)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
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
    let v = Vault::new();
    let dep = unique("cli-basic");
    let scope = ["--deployment", dep.as_str()];
    v.put("db-password", "first value", &scope);
    assert_eq!(v.reveal("db-password", &scope), "first value");

    let mut args = vec!["rotate", "db-password", "--from-stdin"];
    args.extend_from_slice(&scope);
    let r = v.run_with(&args, Some(b"second value"), &[]);
    assert!(r.ok().out().contains("v1 → v2"), "{}", r.out());
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
    let from = unique("cli-export");
    let to = unique("other");
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
    r.ok();
    assert!(r.err().contains("all-or-nothing"), "{}", r.err());
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
    let v = Vault::new();
    let dep = unique("cli-run");
    v.put("db-password", "abcdef", &["--deployment", &dep]);
    let script = r#"printf '%s|%s' "$DB" "$PLAIN""#;
    let env = [("DB", "$S:db-password"), ("PLAIN", "plain-value")];
    let direct = v.run_with(
        &[
            "run",
            "--deployment",
            &dep,
            "--no-masking",
            "--",
            "sh",
            "-c",
            script,
        ],
        None,
        &env,
    );
    assert_eq!(direct.ok().out(), "abcdef|plain-value");
    let masked = v.run_with(
        &["run", "--deployment", &dep, "--", "sh", "-c", script],
        None,
        &env,
    );
    assert_eq!(masked.ok().out(), "<concealed>|plain-value");
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn key_verbs_are_refused_and_a_missing_token_is_named() {
    let v = Vault::new();
    for verb in [["key", "status"], ["key", "rotate"]] {
        let r = v.run(&verb);
        r.code(1);
        assert!(r.err().contains("keys are managed by Vault"), "{}", r.err());
    }
    let r = v.run_with(&["ls"], None, &[("VAULT_TOKEN", "")]);
    r.code(1);
    assert!(r.err().contains("VAULT_TOKEN"), "{}", r.err());
    assert!(v.local.files().is_empty(), "nothing is written locally");
}

#[test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
fn run_on_vault_does_not_pass_the_token_on() {
    let v = Vault::new();
    let dep = unique("cli-run-token");
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
    let r = v.run_with(
        &[
            "run",
            "--deployment",
            &dep,
            "--no-masking",
            "--keep-env",
            "VAULT_TOKEN",
            "--",
            "sh",
            "-c",
            script,
        ],
        None,
        &[("DB", "$S:db-password")],
    );
    assert_eq!(r.ok().out(), format!("{}|abcdef", v.token));
}
