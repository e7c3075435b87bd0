//! `--server`: the CLI as the client of a real `zlayer-secret serve`, each verb's output and
//! exit code compared with the same verb on a fresh local store.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{Run, Store, kill};

/// An API key: its id and secret.
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) id: String,
    pub(crate) secret: String,
}

/// A `zlayer-secret serve` on a data directory of its own (the server's host), listening on
/// 127.0.0.1 at a port it chose, with an admin key made before it started.
pub(crate) struct Served {
    /// The server's data directory, where `api-key` and `grant` run as on its host.
    pub(crate) host: Store,
    /// `http://127.0.0.1:PORT` or `https://...`.
    pub(crate) url: String,
    pub(crate) admin: Key,
    child: Child,
    /// Everything the server wrote to stderr so far (its request log).
    log: Arc<Mutex<String>>,
    drain: Option<JoinHandle<()>>,
}

impl Served {
    /// Starts `serve --listen 127.0.0.1:0 EXTRA...` (request log on, `RUST_LOG=info`).
    pub(crate) fn start(extra: &[&str]) -> Self {
        let host = Store::new();
        let admin = api_key(&host, "admin", &["--role", "admin"]);
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut cmd = host.command(&args);
        cmd.env("RUST_LOG", "info")
            .env_remove("ZLAYER_SECRETS_SERVER")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let url = loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "serve ended before listening: {seen}"
            );
            seen.push_str(&line);
            if let Some(url) = line.trim().strip_prefix("listening on ") {
                break url.to_owned();
            }
        };
        let log = Arc::new(Mutex::new(seen));
        let sink = log.clone();
        let drain = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self {
            host,
            url,
            admin,
            child,
            log,
            drain: Some(drain),
        }
    }

    /// A new API key of user `name` made on the server's host (`api-key create`).
    pub(crate) fn key(&self, name: &str, args: &[&str]) -> Key {
        api_key(&self.host, name, args)
    }

    /// A client with `key`: a data directory of its own (which stays empty) and the
    /// variables of `--server`.
    pub(crate) fn client(&self, key: &Key) -> Client {
        Client {
            store: Store::new(),
            env: vec![
                ("ZLAYER_SECRETS_SERVER".to_owned(), self.url.clone()),
                ("ZLAYER_SECRETS_API_KEY".to_owned(), key.id.clone()),
                ("ZLAYER_SECRETS_API_SECRET".to_owned(), key.secret.clone()),
            ],
        }
    }

    /// Waits until the request log holds `text` `count` times (the server logs a request
    /// before it answers, but this process reads the log a little later); the log then.
    pub(crate) fn await_log(&self, text: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let log = self.log.lock().unwrap().clone();
            if log.matches(text).count() >= count {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "the server's log never held {text:?} {count} times: {log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        kill("-TERM", self.child.id());
        let _ = self.child.wait();
        if let Some(drain) = self.drain.take() {
            let _ = drain.join();
        }
    }
}

/// `api-key create NAME ARGS... --output json` on `host`.
fn api_key(host: &Store, name: &str, args: &[&str]) -> Key {
    let mut all = vec!["api-key", "create", name, "--output", "json"];
    all.extend_from_slice(args);
    let run = host.run(&all);
    let doc: serde_json::Value = serde_json::from_slice(&run.ok().stdout).unwrap();
    Key {
        id: doc["api_key"].as_str().unwrap().to_owned(),
        secret: doc["api_secret"].as_str().unwrap().to_owned(),
    }
}

/// The CLI as a client of a server.
pub(crate) struct Client {
    /// Its own data directory: nothing may be written there.
    pub(crate) store: Store,
    env: Vec<(String, String)>,
}

impl Client {
    /// The command for `args` against the server, not started yet.
    pub(crate) fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.store.command(args);
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    pub(crate) fn run_with(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
    ) -> Run {
        let mut all: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(env);
        self.store.run_with(args, stdin, &all)
    }
}

/// Output with times made comparable: `YYYY-MM-DDTHH:MM:SSZ` becomes `<time>`, and in JSON
/// every number of a key ending in `_at` becomes 0.
pub(crate) fn without_times(text: &str) -> String {
    if let Ok(mut doc) = serde_json::from_str::<serde_json::Value>(text) {
        zero_times(&mut doc);
        return serde_json::to_string_pretty(&doc).unwrap();
    }
    let chars: Vec<char> = text.chars().collect();
    let is_time = |w: &[char]| {
        w.len() == 20
            && w.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == '-',
                10 => *c == 'T',
                13 | 16 => *c == ':',
                19 => *c == 'Z',
                _ => c.is_ascii_digit(),
            })
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if i + 20 <= chars.len() && is_time(&chars[i..i + 20]) {
            out.push_str("<time>");
            i += 20;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn zero_times(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key.ends_with("_at") && v.is_number() {
                    *v = 0.into();
                } else {
                    zero_times(v);
                }
            }
        }
        serde_json::Value::Array(list) => list.iter_mut().for_each(zero_times),
        _ => {}
    }
}

/// Stderr without the local store's note that it does not exist yet (a server has no such
/// note) and with times made comparable.
fn messages(run: &Run) -> String {
    let err = run.err();
    let kept: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with("note: there is no store in"))
        .collect();
    without_times(&kept.join("\n"))
}

/// One step of the comparison: arguments, standard input, extra variables.
struct Step {
    args: Vec<String>,
    stdin: Option<&'static str>,
    env: Vec<(&'static str, &'static str)>,
}

fn step(args: &[&str]) -> Step {
    Step {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        stdin: None,
        env: Vec::new(),
    }
}

fn with_stdin(args: &[&str], stdin: &'static str) -> Step {
    Step {
        stdin: Some(stdin),
        ..step(args)
    }
}

fn with_env(args: &[&str], env: &[(&'static str, &'static str)]) -> Step {
    Step {
        env: env.to_vec(),
        ..step(args)
    }
}

/// The verbs on single secrets, their versions and their errors.
fn secret_steps() -> Vec<Step> {
    vec![
        step(&["ls"]),
        step(&["ls", "--output", "json"]),
        with_stdin(&["set", "db", "--from-stdin"], "first-password"),
        with_stdin(&["set", "db", "--from-stdin"], "second-password"),
        with_stdin(&["create", "db", "--from-stdin"], "third-password"),
        with_stdin(
            &["create", "token", "--from-stdin", "--env", "prod"],
            "prod-token-value",
        ),
        with_stdin(
            &[
                "set",
                "api",
                "--from-stdin",
                "--deployment",
                "shop",
                "--service",
                "web",
            ],
            r#"{"user":"app","port":5432}"#,
        ),
        step(&["get", "db"]),
        step(&["get", "db", "--output", "json"]),
        step(&["get", "db", "--reveal"]),
        step(&["get", "db", "--reveal", "--version", "1"]),
        step(&["get", "db", "--version", "1", "--output", "json"]),
        step(&["get", "db", "--version", "9"]),
        step(&["get", "db", "--reveal", "--version", "9"]),
        step(&["get", "nope"]),
        step(&["get", "nope", "--reveal"]),
        step(&["ls"]),
        step(&["ls", "env:prod", "--output", "json"]),
        step(&["ls", "shop/web"]),
        step(&["ls", "--deployment", "_zlayer"]),
        with_stdin(&["rotate", "db", "--from-stdin"], "rotated-password"),
        with_stdin(&["rotate", "nope", "--from-stdin"], "x-value"),
        step(&["history", "db"]),
        step(&["history", "db", "--output", "json"]),
        step(&["history", "nope"]),
        step(&["rollback", "db", "--to", "1"]),
        step(&["rollback", "db", "--to", "99"]),
        step(&["get", "db", "--reveal"]),
        step(&["set", "a/b", "--value", "x"]),
    ]
}

/// `import` (of the files `dotenv`, `json` and `bad`) and `export`.
fn transfer_steps(dotenv: &str, json: &str, bad: &str) -> Vec<Step> {
    vec![
        step(&["import", dotenv, "--dry-run"]),
        step(&["import", dotenv, "--env", "prod"]),
        step(&["import", json, "--env", "prod", "--output", "json"]),
        step(&["import", json, "--env", "prod"]),
        step(&["import", bad, "--env", "prod"]),
        step(&["export", "--env", "prod"]),
        step(&["export", "--env", "prod", "--format", "json"]),
    ]
}

/// `run` with every kind of reference, and with references that fail.
fn run_steps() -> Vec<Step> {
    let script = r#"printf '%s|%s|%s' "$DB" "$TOKEN" "$PLAIN""#;
    vec![
        with_env(
            &["run", "--", "sh", "-c", script],
            &[
                ("DB", "$S:db"),
                ("TOKEN", "$secret://prod/token"),
                ("PLAIN", "plain-value"),
            ],
        ),
        with_env(
            &[
                "run",
                "--no-masking",
                "--deployment",
                "shop",
                "--",
                "sh",
                "-c",
                script,
            ],
            &[
                ("DB", "$S:@web/api/port"),
                ("TOKEN", "$S::prod/SECOND"),
                ("PLAIN", "x"),
            ],
        ),
        with_env(&["run", "--", "sh", "-c", "exit 3"], &[("DB", "$S:db")]),
        with_env(
            &["run", "--", "sh", "-c", "echo never"],
            &[("MISSING", "$S:does-not-exist")],
        ),
        with_env(
            &["run", "--", "sh", "-c", "echo never"],
            &[("MALFORMED", "$S:@/x")],
        ),
        with_env(
            &["run", "--", "sh", "-c", r#"printf '%s|%s' "$URL" "$STRAY""#],
            &[
                (
                    "URL",
                    "postgres://app:{{ $S:db }}@db/{{ $secret://prod/token }}",
                ),
                ("STRAY", "x $S:db"),
            ],
        ),
        with_env(
            &["run", "--", "sh", "-c", "echo never"],
            &[("URL", "postgres://app:{{ $S:does-not-exist }}@db")],
        ),
        with_stdin(
            &["inject", "-i", "-"],
            "a: {{ $S:db }}\nb: {{$secret://prod/token}}\nc: \\{{ $S:db }}\nd: {{ $S:db }}\n",
        ),
        with_stdin(
            &["inject", "-i", "-"],
            "a: {{ $S:db }} {{ $S:does-not-exist }}\n",
        ),
        with_stdin(&["inject", "-i", "-"], "a: {{ $S:@/x }}\n"),
        step(&["read", "$S:db"]),
        step(&["read", "$secret://prod/token", "-n"]),
        step(&["read", "$S:does-not-exist"]),
        with_env(
            &[
                "run",
                "--all",
                "--env",
                "prod",
                "--merge",
                "staging",
                "--no-masking",
                "--",
                "sh",
                "-c",
                r#"printf '%s|%s' "$SECOND" "${token-unset}""#,
            ],
            &[("SECOND", "inherited")],
        ),
        step(&["run", "--all", "--env", "prod", "--dry-run"]),
        step(&[
            "run", "--all", "--env", "prod", "--only", "NOPE", "--", "true",
        ]),
    ]
}

/// Deletions, then the grant verbs.
fn delete_and_grant_steps() -> Vec<Step> {
    vec![
        step(&["rm", "FIRST", "SECOND", "--env", "prod"]),
        step(&["rm", "nope"]),
        step(&["rm", "THIRD", "nope", "--env", "prod"]),
        step(&["unset", "THIRD", "nope", "--env", "prod"]),
        step(&["ls", "--env", "prod"]),
        step(&["grant", "alice", "--env", "prod", "--level", "read"]),
        step(&["grant", "alice", "--env", "prod", "--level", "execute"]),
        step(&["grant", "alice", "--env", "prod", "--level", "execute"]),
        step(&["grant", "group:ops", "--env", "prod", "--level", "write"]),
        step(&[
            "grant",
            "bob",
            "--env",
            "prod",
            "--project",
            "shop",
            "--level",
            "read",
        ]),
        step(&["grant", "grup:ops", "--env", "prod", "--level", "read"]),
        step(&["permissions", "--env", "prod"]),
        step(&["permissions", "--env", "prod", "--output", "json"]),
        step(&["permissions", "--env", "prod", "--project", "shop"]),
        step(&["revoke", "alice", "--env", "prod"]),
        step(&["revoke", "alice", "--env", "prod"]),
        step(&["permissions", "--env", "staging"]),
        step(&["rm", "db"]),
        step(&["ls"]),
    ]
}

/// Every secret verb, run in the same order on a fresh local store and against a server:
/// the same exit codes, the same standard output and the same messages (times aside).
#[test]
fn every_verb_answers_as_it_does_locally() {
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = files.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let dotenv = write("app.env", "FIRST=one\nSECOND=\"two words\"\n");
    let json = write("app.json", r#"{"FIRST": "one", "THIRD": "three"}"#);
    let bad = write("bad.env", "GOOD=1\nbad/name=2\n");
    let mut steps = secret_steps();
    steps.extend(transfer_steps(&dotenv, &json, &bad));
    steps.extend(run_steps());
    steps.extend(delete_and_grant_steps());

    let local = Store::new();
    let served = Served::start(&[]);
    let remote = served.client(&served.admin);
    for Step { args, stdin, env } in &steps {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let stdin = stdin.map(str::as_bytes);
        let l = local.run_with(&args, stdin, env);
        let r = remote.run_with(&args, stdin, env);
        let shown = args.join(" ");
        assert_eq!(
            r.code,
            l.code,
            "{shown}: exit code\nlocal: {}\nremote: {}",
            l.err(),
            r.err()
        );
        assert_eq!(
            without_times(&r.out()),
            without_times(&l.out()),
            "{shown}: stdout"
        );
        assert_eq!(messages(&r), messages(&l), "{shown}: stderr");
    }
    // The client's own data directory stayed empty: everything went to the server.
    assert!(
        remote.store.files().is_empty(),
        "{:?}",
        remote.store.files()
    );
    // And the server's store holds what the verbs wrote.
    let listed = served
        .host
        .run(&["ls", "--env", "prod", "--output", "json"]);
    assert_eq!(crate::listed_names(&listed), ["token"]);
}

/// A key that may only read an environment is refused `set` with the server's message,
/// naming the subject, the right and the environment; nothing is written.
#[test]
fn a_read_only_key_gets_the_servers_refusal() {
    let served = Served::start(&[]);
    let admin = served.client(&served.admin);
    admin
        .run_with(
            &["set", "API_KEY", "--from-stdin", "--env", "prod"],
            Some(b"k-123"),
            &[],
        )
        .ok();
    let bob_key = served.key("bob", &[]);
    served
        .host
        .run(&["grant", "bob", "--env", "prod", "--level", "read"])
        .ok();
    let bob = served.client(&bob_key);

    let r = bob.run_with(
        &["set", "API_KEY", "--from-stdin", "--env", "prod"],
        Some(b"overwritten"),
        &[],
    );
    r.code(1).err_contains(
        "error: user:bob lacks `write` on environment `env:prod` (needed to set; has `read`)",
    );
    bob.run(&["ls", "--env", "prod"]).ok();
    bob.run(&["get", "API_KEY", "--env", "prod", "--reveal"])
        .code(1)
        .err_contains("lacks `execute` on environment `env:prod`");
    bob.run(&["ls"])
        .code(1)
        .err_contains("user:bob may not list in scope `default`");
    bob.run(&["permissions", "--env", "prod"])
        .code(1)
        .err_contains("only an API key with role admin");
    let value = served.host.reveal("API_KEY", &["--env", "prod"]);
    assert_eq!(value, "k-123");
}

/// `run` resolves every reference with one request, and its program gets neither the API
/// key pair nor the token.
#[test]
fn run_resolves_in_one_request_and_keeps_the_credentials() {
    let served = Served::start(&[]);
    let admin = served.client(&served.admin);
    admin
        .run_with(&["set", "one", "--from-stdin"], Some(b"first-value"), &[])
        .ok();
    admin
        .run_with(
            &["set", "two", "--from-stdin", "--env", "prod"],
            Some(b"second-value"),
            &[],
        )
        .ok();
    let before = served.await_log("route=\"/api/v1/secrets\"", 2);
    let resolves_before = before.matches("/api/v1/resolve").count();

    let r = admin.run_with(
        &[
            "run",
            "--no-masking",
            "--",
            "sh",
            "-c",
            r#"printf '%s %s|' "$A" "$B"; env"#,
        ],
        None,
        &[("A", "$S:one"), ("B", "$secret://prod/two")],
    );
    let out = r.ok().out();
    assert!(out.starts_with("first-value second-value|"), "{out}");
    for absent in [
        "ZLAYER_SECRETS_API_KEY",
        "ZLAYER_SECRETS_API_SECRET",
        served.admin.secret.as_str(),
        "Bearer",
    ] {
        assert!(!out.contains(absent), "{absent} reached the program: {out}");
    }
    // The server's URL is no credential: it passes on.
    assert!(out.contains("ZLAYER_SECRETS_SERVER="), "{out}");

    let log = served.await_log("/api/v1/resolve", resolves_before + 1);
    assert_eq!(log.matches("/api/v1/resolve").count(), resolves_before + 1);
    // No secret was read one by one.
    assert_eq!(
        log.matches("route=\"/api/v1/secrets").count(),
        before.matches("route=\"/api/v1/secrets").count(),
        "{log}"
    );
}

/// The verbs of a local store only say so, with `--server` or `ZLAYER_SECRETS_SERVER`;
/// `--server` with `--backend vault` is a usage error; a missing key is named.
#[test]
fn what_a_server_does_not_offer_is_refused_clearly() {
    let served = Served::start(&[]);
    let admin = served.client(&served.admin);
    for args in [
        &["key", "status"][..],
        &["key", "rotate"],
        &["api-key", "ls"],
        &["serve", "--listen", "127.0.0.1:0"],
    ] {
        let r = admin.run(args);
        r.code(1)
            .err_contains("does not work against a secrets server");
    }
    let r = admin.run_with(
        &["git-credential", "get"],
        Some(b"protocol=https\nhost=x\n\n"),
        &[],
    );
    r.code(1).err_contains("`git-credential` does not work");
    admin
        .run(&["--backend", "vault", "ls"])
        .code(2)
        .err_contains("--server cannot be used with --backend vault");
    let r = admin.run_with(&["ls"], None, &[("ZLAYER_SECRETS_API_SECRET", "")]);
    r.code(1)
        .err_contains("ZLAYER_SECRETS_API_SECRET is not set");
    let r = admin.run_with(
        &["ls"],
        None,
        &[("ZLAYER_SECRETS_API_SECRET", "not-the-secret")],
    );
    r.code(1)
        .err_contains("refused the API key")
        .err_contains(&served.admin.id)
        .err_lacks("not-the-secret");
    // The option wins over the variable.
    let unreachable = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let r = admin.run(&["--server", &unreachable, "ls"]);
    r.code(1)
        .err_contains(&format!("cannot reach the secrets server at {unreachable}"));
    assert!(admin.store.files().is_empty());
}

/// With tokens of one second every verb still works: a token that expired since the
/// client asked for it is replaced.
#[test]
fn short_lived_tokens_do_not_fail_the_verbs() {
    let served = Served::start(&["--token-lifetime", "1s"]);
    let admin = served.client(&served.admin);
    for n in 0..5 {
        let value = format!("value-number-{n}");
        admin
            .run_with(&["set", "s", "--from-stdin"], Some(value.as_bytes()), &[])
            .ok();
        assert_eq!(admin.run(&["get", "s", "--reveal"]).ok().out(), value);
    }
}

#[test]
fn audit_and_audit_verify_read_the_servers_log() {
    let served = Served::start(&[]);
    let admin = served.client(&served.admin);
    admin
        .run_with(
            &["set", "db", "--from-stdin"],
            Some(b"remote-audit-value"),
            &[],
        )
        .ok();
    admin.run(&["get", "db", "--reveal"]).ok();
    let listed = admin.run(&["audit", "--output", "json"]).ok().out();
    let entries: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let summary: Vec<String> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["action"].as_str().unwrap(),
                e["name"].as_str().unwrap_or("-"),
                e["outcome"].as_str().unwrap(),
                e["actor"]["principal"].as_str().unwrap()
            )
        })
        .collect();
    // The server records its own subjects; the API key's own lookup is not an entry.
    assert!(
        summary.ends_with(&[
            "set db ok admin".to_owned(),
            "reveal db ok admin".to_owned()
        ]),
        "{summary:?}"
    );
    assert!(!listed.contains("remote-audit-value"));
    let verify = admin.run(&["audit", "verify"]).ok().out();
    assert!(
        verify.starts_with("audit log intact: entries 1.."),
        "{verify}"
    );
    // Pruning is for the server's host.
    admin
        .run(&["audit", "prune", "--before", "1d"])
        .code(1)
        .err_contains("pruned on the server's host");
    // A key that is not admin is refused by the server.
    let bob = served.client(&served.key("bob", &[]));
    bob.run(&["audit"]).code(1);
}

/// `run --watch` against a server: the versions are polled there, with the client's key.
#[test]
fn run_watch_restarts_on_a_rotation_on_the_server() {
    let served = Served::start(&[]);
    let client = served.client(&served.admin);
    client
        .run_with(
            &["set", "watched", "--from-stdin"],
            Some(b"first-value"),
            &[],
        )
        .ok();
    crate::watch::rotations_restart_the_program_once(
        |args| client.command(args),
        |value| {
            client
                .run_with(
                    &["set", "watched", "--from-stdin"],
                    Some(value.as_bytes()),
                    &[],
                )
                .ok();
        },
        "watched",
    );
}
