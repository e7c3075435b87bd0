//! `audit`, `audit verify`, `audit prune` and `--no-audit`: what the verbs record in the
//! store's audit log, as the real binary lists it.

use serde_json::Value;

use crate::{Run, Store, contains};

/// The user every command of these tests runs as (`USER`), so entries name a known one.
const USER: &str = "audit-tester";

/// The real user id of this process (the uid entries record).
fn uid() -> u32 {
    nix::unistd::getuid().as_raw()
}

/// Runs `args` as [`USER`] with `stdin`.
fn run_as(s: &Store, args: &[&str], stdin: Option<&[u8]>) -> Run {
    s.run_with(args, stdin, &[("USER", USER)])
}

/// Every entry `audit --output json` lists, after checking that the output is a JSON array.
fn entries(s: &Store, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["audit", "--output", "json"];
    args.extend_from_slice(filters);
    let run = run_as(s, &args, None);
    let doc: Value = serde_json::from_slice(&run.ok().stdout).unwrap();
    doc.as_array()
        .unwrap_or_else(|| panic!("not an array: {doc}"))
        .clone()
}

/// An entry as `ACTION SCOPE NAME VERSION OUTCOME VIA` (`-` for a missing field).
fn summary(entry: &Value) -> String {
    let text = |key: &str| match &entry[key] {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    format!(
        "{} {} {} {} {} {}",
        text("action"),
        text("scope"),
        text("name"),
        text("version"),
        text("outcome"),
        entry["actor"]["via"].as_str().unwrap()
    )
}

/// The API key id of the JSON `api-key create` printed.
fn created_key(run: &Run) -> (String, String) {
    let doc: Value = serde_json::from_slice(&run.ok().stdout).unwrap();
    (
        doc["api_key"].as_str().unwrap().to_owned(),
        doc["api_secret"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn every_verb_records_what_it_did_as_whom() {
    let s = Store::new();
    let value = |v: &str| Some(v.as_bytes().to_vec());
    run_as(
        &s,
        &["create", "db", "--from-stdin"],
        value("one").as_deref(),
    )
    .ok();
    run_as(&s, &["set", "db", "--from-stdin"], value("two").as_deref()).ok();
    run_as(&s, &["get", "db", "--reveal"], None).ok();
    run_as(&s, &["get", "nothing", "--reveal"], None).code(1);
    run_as(
        &s,
        &["rotate", "db", "--from-stdin"],
        value("three").as_deref(),
    )
    .ok();
    run_as(&s, &["rollback", "db", "--to", "1"], None).ok();
    run_as(&s, &["history", "db"], None).ok();
    run_as(&s, &["export", "--format", "env"], None).ok();
    s.run_with(
        &["run", "--", "sh", "-c", "true"],
        None,
        &[("USER", USER), ("DB", "$S:db")],
    )
    .ok();
    run_as(&s, &["rm", "db"], None).ok();
    run_as(
        &s,
        &["grant", "alice", "--env", "prod", "--level", "read"],
        None,
    )
    .ok();
    run_as(&s, &["revoke", "alice", "--env", "prod"], None).ok();
    let (key_id, _) = created_key(&run_as(
        &s,
        &["api-key", "create", "bot", "--output", "json"],
        None,
    ));
    run_as(&s, &["api-key", "rm", &key_id], None).ok();
    run_as(&s, &["key", "rotate"], None).ok();
    let file = s.path().join("import.env");
    std::fs::write(&file, "A=alpha\nB=beta\n").unwrap();
    run_as(&s, &["import", file.to_str().unwrap()], None).ok();

    let listed = entries(&s, &[]);
    let got: Vec<String> = listed.iter().map(summary).collect();
    let grant = "_zlayer/grants";
    let keys = "_zlayer/api_keys";
    let expected = [
        "create default db 1 ok create".to_owned(),
        "set default db 2 ok set".to_owned(),
        "reveal default db 2 ok get".to_owned(),
        "reveal default nothing - not-found get".to_owned(),
        "rotate default db 3 ok rotate".to_owned(),
        "rollback default db 4 ok rollback".to_owned(),
        "export default db 4 ok export".to_owned(),
        "resolve default db 4 ok run".to_owned(),
        "delete default db - ok rm".to_owned(),
        format!("grant {grant} env:prod 1 ok grant"),
        format!("revoke {grant} env:prod - ok revoke"),
        format!("api-key-create {keys} {key_id} 1 ok api-key create"),
        format!("api-key-delete {keys} {key_id} - ok api-key rm"),
        "key-rotation - - - ok key rotate".to_owned(),
        // (import's reads only compare the file with the store, and are not recorded)
        "import default A 1 ok import".to_owned(),
        "import default B 1 ok import".to_owned(),
    ];
    assert_eq!(got, expected, "{listed:#?}");
    let mut last_seq = 0;
    for entry in &listed {
        assert_eq!(entry["actor"]["principal"], USER, "{entry}");
        assert_eq!(entry["actor"]["uid"], uid(), "{entry}");
        assert!(entry["actor"].get("address").is_none(), "{entry}");
        let seq = entry["seq"].as_u64().unwrap();
        assert_eq!(seq, last_seq + 1, "{entry}");
        last_seq = seq;
        assert!(
            entry["at_ms"].as_i64().unwrap() > 1_700_000_000_000,
            "{entry}"
        );
    }
    assert_eq!(listed[5]["detail"], "from version 1");

    check_filters(&s, expected.len());
    check_table(&s);
    let verify = run_as(&s, &["audit", "verify"], None);
    let line = verify.ok().out();
    assert!(
        line.starts_with(&format!(
            "audit log intact: entries 1..{} ({} entries), head ",
            expected.len(),
            expected.len()
        )),
        "{line}"
    );
}

/// The filters of `audit` over the log of `every_verb_records_what_it_did_as_whom` (of
/// `total` entries) select what they name, oldest first.
fn check_filters(s: &Store, total: usize) {
    // The filters select what they name, still oldest first.
    let reveals: Vec<String> = entries(s, &["--action", "reveal"])
        .iter()
        .map(summary)
        .collect();
    assert_eq!(
        reveals,
        [
            "reveal default db 2 ok get",
            "reveal default nothing - not-found get",
        ]
    );
    let db: Vec<String> = entries(s, &["--name", "db", "--limit", "2"])
        .iter()
        .map(summary)
        .collect();
    assert_eq!(
        db,
        ["resolve default db 4 ok run", "delete default db - ok rm"]
    );
    let grants = entries(s, &["--scope", "_zlayer/grants"]);
    assert_eq!(grants.len(), 2);
    assert_eq!(entries(s, &["--actor", "someone-else"]).len(), 0);
    assert_eq!(entries(s, &["--actor", USER]).len(), total);
    assert_eq!(entries(s, &["--env", "prod"]).len(), 0);
    assert_eq!(
        entries(s, &["--deployment", "default"]).len(),
        entries(s, &["--scope", "default"]).len()
    );
    assert_eq!(entries(s, &["--since", "1h"]).len(), total);
    assert_eq!(entries(s, &["--until", "1h"]).len(), 0);
    assert_eq!(entries(s, &["--until", "2999-01-01"]).len(), total);
}

/// The `audit` table over the log of `every_verb_records_what_it_did_as_whom`.
fn check_table(s: &Store) {
    // The table: one row per entry under the columns, times in RFC 3339 UTC.
    let table = run_as(s, &["audit", "--name", "db"], None).ok().out();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "SEQ", "TIME", "ACTOR", "ACTION", "SCOPE", "NAME", "VERSION", "OUTCOME", "DETAIL"
        ]
    );
    // Cells are separated by two spaces or more; none holds two spaces itself.
    let first: Vec<&str> = lines
        .next()
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|cell| !cell.is_empty())
        .collect();
    let actor = format!("{USER} (uid {}) via create", uid());
    assert_eq!(first.len(), 8, "{table}");
    assert_eq!(first[0], "1");
    assert_eq!(first[2..], [&actor, "create", "default", "db", "v1", "ok"]);
    let time = first[1];
    assert_eq!(time.len(), "2026-12-01T10:00:00Z".len(), "{time}");
    assert!(time.ends_with('Z') && time.as_bytes()[10] == b'T', "{time}");
    let detail = table.lines().find(|l| l.contains(" rollback ")).unwrap();
    assert!(detail.ends_with("  from version 1"), "{table}");
    assert_eq!(table.lines().count(), 1 + 8, "{table}");
}

#[test]
fn the_log_never_holds_a_value_or_an_api_secret() {
    let s = Store::new();
    let values = [
        "first-distinctive-value-5c1f",
        "second-distinctive-value-9ad2",
        "rotated-distinctive-value-e7b0",
        "imported-distinctive-value-33aa",
    ];
    run_as(
        &s,
        &["set", "pw", "--from-stdin"],
        Some(values[0].as_bytes()),
    )
    .ok();
    run_as(
        &s,
        &["set", "pw", "--from-stdin", "--env", "prod"],
        Some(values[1].as_bytes()),
    )
    .ok();
    run_as(
        &s,
        &["rotate", "pw", "--from-stdin"],
        Some(values[2].as_bytes()),
    )
    .ok();
    let file = s.path().join("in.env");
    std::fs::write(&file, format!("IMPORTED={}\n", values[3])).unwrap();
    run_as(
        &s,
        &["import", file.to_str().unwrap(), "--env", "prod"],
        None,
    )
    .ok();
    run_as(&s, &["get", "pw", "--reveal"], None).ok();
    run_as(&s, &["get", "pw", "--reveal", "--version", "1"], None).ok();
    run_as(&s, &["export", "--env", "prod"], None).ok();
    s.run_with(
        &["run", "--env", "prod", "--", "sh", "-c", "true"],
        None,
        &[("USER", USER), ("X", "$S:pw"), ("Y", "$S:IMPORTED")],
    )
    .ok();
    run_as(&s, &["rollback", "pw", "--to", "1"], None).ok();
    let (key_id, secret) = created_key(&run_as(
        &s,
        &["api-key", "create", "bot", "--output", "json"],
        None,
    ));
    assert!(secret.len() >= 16, "{secret}");
    run_as(&s, &["key", "rotate", "--reencrypt"], None).ok();

    let forbidden: Vec<&str> = values.iter().copied().chain([secret.as_str()]).collect();
    let mut scanned = Vec::new();
    for args in [
        &["audit"][..],
        &["audit", "--output", "json"],
        &["audit", "verify"],
        &["audit", "verify", "--output", "json"],
    ] {
        let run = run_as(&s, args, None);
        run.ok();
        scanned.push((args.join(" "), [run.stdout, run.stderr].concat()));
    }
    // Every cell of every row of the table, as SQLite gives it.
    let db = s.path().join("secrets.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn.prepare("SELECT * FROM audit_log").unwrap();
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut table = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        for i in 0..columns {
            match row.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    table.extend_from_slice(t);
                }
                rusqlite::types::ValueRef::Integer(n) => {
                    table.extend_from_slice(n.to_string().as_bytes());
                }
                _ => {}
            }
            table.push(b'\n');
        }
    }
    assert!(table.len() > 1000, "the log holds entries");
    assert!(contains(&table, key_id.as_bytes()), "the key id is named");
    scanned.push(("the audit_log table".to_owned(), table));
    for (what, bytes) in &scanned {
        for value in &forbidden {
            assert!(
                !contains(bytes, value.as_bytes()),
                "{what} holds the value {value:?}"
            );
        }
    }
}

#[test]
fn no_audit_records_only_that_auditing_was_turned_off() {
    let s = Store::new();
    run_as(&s, &["set", "pw", "--from-stdin"], Some(b"v")).ok();
    run_as(&s, &["--no-audit", "get", "pw", "--reveal"], None).ok();
    s.run_with(
        &["get", "pw", "--reveal"],
        None,
        &[("USER", USER), ("ZLAYER_SECRETS_NO_AUDIT", "1")],
    )
    .ok();
    run_as(&s, &["get", "pw", "--reveal"], None).ok();
    let got: Vec<String> = entries(&s, &[]).iter().map(summary).collect();
    assert_eq!(
        got,
        [
            "set default pw 1 ok set",
            "audit-disable - - - ok get",
            "audit-enable - - - ok get",
            "reveal default pw 1 ok get",
        ]
    );
    let listed = entries(&s, &["--action", "audit-disable"]);
    assert_eq!(listed[0]["actor"]["principal"], USER);
    assert_eq!(listed[0]["actor"]["uid"], uid());
    // A false value of the variable leaves auditing on.
    s.run_with(
        &["get", "pw", "--reveal"],
        None,
        &[("USER", USER), ("ZLAYER_SECRETS_NO_AUDIT", "0")],
    )
    .ok();
    assert_eq!(entries(&s, &["--action", "reveal"]).len(), 2);
    run_as(&s, &["audit", "verify"], None).ok();
}

#[test]
fn prune_removes_the_older_entries_and_the_log_still_verifies() {
    let s = Store::new();
    run_as(&s, &["set", "a", "--from-stdin"], Some(b"1")).ok();
    run_as(&s, &["set", "a", "--from-stdin"], Some(b"2")).ok();
    run_as(&s, &["get", "a", "--reveal"], None).ok();
    let before = entries(&s, &[]);
    assert_eq!(before.len(), 3);
    // A time after the third entry and before the next: its time plus one millisecond,
    // written as RFC 3339 with milliseconds (the entry after it is at least a process
    // start later).
    let cut_ms = before[2]["at_ms"].as_i64().unwrap() + 1;
    let cut = rfc3339_ms(cut_ms);
    run_as(&s, &["set", "b", "--from-stdin"], Some(b"3")).ok();
    let after_cut = entries(&s, &["--since", &cut]);
    assert_eq!(after_cut.len(), 1, "{after_cut:?}");

    let run = run_as(&s, &["audit", "prune", "--before", &cut], None);
    let out = run.ok().out();
    assert_eq!(
        out,
        "removed 3 entries; the log now starts after the checkpoint at entry 3\n"
    );
    let left: Vec<String> = entries(&s, &[]).iter().map(summary).collect();
    assert_eq!(
        left,
        ["set default b 1 ok set", "audit-prune - - - ok audit prune"]
    );
    let verify = run_as(&s, &["audit", "verify"], None);
    assert!(
        verify
            .ok()
            .out()
            .starts_with("audit log intact: entries 4..5 (2 entries), head "),
        "{}",
        verify.out()
    );
    let json: Value = serde_json::from_slice(
        &run_as(&s, &["audit", "verify", "--output", "json"], None)
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["first_seq"], 4);
    assert_eq!(json["last_seq"], 5);
    assert_eq!(json["entries"], 2);
    assert!(json.get("problem").is_none(), "{json}");

    // A prune in the future is refused as a usage error, and changes nothing.
    let run = run_as(&s, &["audit", "prune", "--before", "2999-01-01"], None);
    run.code(2).err_contains("--before is in the future");
    assert_eq!(entries(&s, &[]).len(), 2);
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn rfc3339_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // H. Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

#[test]
fn a_directory_without_a_store_has_an_empty_log_and_gets_no_store() {
    let s = Store::new();
    let dir = s.path().join("fresh");
    let dir_text = dir.to_str().unwrap();
    for args in [
        &["audit"][..],
        &["audit", "verify"],
        &["audit", "prune", "--before", "1d"],
    ] {
        let mut full = vec!["--data-dir", dir_text];
        full.extend_from_slice(args);
        run_as(&s, &full, None).ok();
    }
    let verify = run_as(&s, &["--data-dir", dir_text, "audit", "verify"], None);
    assert_eq!(verify.ok().out(), "audit log intact: empty\n");
    let json = run_as(
        &s,
        &["--data-dir", dir_text, "audit", "--output", "json"],
        None,
    );
    assert_eq!(json.ok().out(), "[]\n");
    assert!(!dir.join("secrets.sqlite").exists());
    assert!(!dir.join("secrets_default.key").exists());
}

#[test]
fn audit_verbs_refuse_vault_and_server_prunes_with_where_to_look() {
    let s = Store::new();
    let vault = s.run_with(
        &["--backend", "vault", "audit"],
        None,
        &[("VAULT_ADDR", "http://127.0.0.1:1"), ("VAULT_TOKEN", "t")],
    );
    vault
        .code(1)
        .err_contains("Vault and OpenBao keep their own audit devices");
    // Listing and verifying go to the server (one that is not there, here); pruning is
    // for the server's host.
    for verb in [&["audit"][..], &["audit", "verify"]] {
        let mut args = vec!["--server", "https://127.0.0.1:1"];
        args.extend_from_slice(verb);
        s.run(&args).code(1);
    }
    s.run(&[
        "--server",
        "https://127.0.0.1:1",
        "audit",
        "prune",
        "--before",
        "1d",
    ])
    .code(1)
    .err_contains("pruned on the server's host");
}

#[test]
fn bad_filters_are_usage_errors() {
    let s = Store::new();
    s.run(&["audit", "--action", "peek"])
        .code(2)
        .err_contains("helper-get");
    s.run(&["audit", "--since", "yesterday"])
        .code(2)
        .err_contains("RFC 3339");
    s.run(&["audit", "--until", "2026-02-30"]).code(2);
    s.run(&["audit", "--scope", "a/b/c"])
        .code(2)
        .err_contains("invalid scope");
    s.run(&["audit", "--limit", "0"]).code(2);
    s.run(&["audit", "--service", "api"]).code(2);
    s.run(&["audit", "prune"]).code(2);
}

#[test]
fn credential_helpers_read_as_helper_get_through_their_names() {
    let s = Store::new();
    let git = |op: &str, request: &str| {
        run_as(&s, &["git-credential", op], Some(request.as_bytes())).ok();
    };
    git(
        "store",
        "protocol=https\nhost=git.example\nusername=u\npassword=git-pass-7f3a\n",
    );
    git("get", "protocol=https\nhost=git.example\n");
    let docker = |action: &str, request: &str, env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_docker-credential-zlayer"));
        cmd.arg(action)
            .env("ZLAYER_SECRETS_DIR", s.path())
            .env("USER", USER)
            .env_remove("ZLAYER_SECRETS_KEY")
            .env_remove("ZLAYER_SECRETS_PASSWORD")
            .env_remove("ZLAYER_SECRETS_NO_AUDIT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        zlayer_secrets_testsupport::process::run_command(cmd, Some(request.as_bytes())).ok();
    };
    docker(
        "store",
        r#"{"ServerURL":"https://reg.example","Username":"u","Secret":"docker-token-91ce"}"#,
        &[],
    );
    docker("get", "https://reg.example", &[]);
    docker(
        "get",
        "https://reg.example",
        &[("ZLAYER_SECRETS_NO_AUDIT", "1")],
    );

    let listed = entries(&s, &[]);
    let got: Vec<String> = listed
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["action"].as_str().unwrap(),
                e["scope"].as_str().unwrap_or("-"),
                e["outcome"].as_str().unwrap(),
                e["actor"]["via"].as_str().unwrap()
            )
        })
        .collect();
    let git_scope = "_zlayer/git_credentials";
    let docker_scope = "_zlayer/registry_credentials";
    assert_eq!(
        got,
        [
            // A `get` reads the credentials of the scope to find the one that matches, then
            // reads that one: two reads of values, each recorded.
            format!("create {git_scope} ok git-credential"),
            format!("helper-get {git_scope} ok git-credential"),
            format!("helper-get {git_scope} ok git-credential"),
            format!("create {docker_scope} ok docker-credential-zlayer"),
            format!("helper-get {docker_scope} ok docker-credential-zlayer"),
            format!("helper-get {docker_scope} ok docker-credential-zlayer"),
            "audit-disable - ok docker-credential-zlayer".to_owned(),
            // Opened by `audit` itself, which reads the log without recording a read.
            "audit-enable - ok audit".to_owned(),
        ],
        "{listed:#?}"
    );
    for entry in &listed {
        assert_eq!(entry["actor"]["principal"], USER, "{entry}");
    }
    let table = run_as(&s, &["audit"], None);
    for listing in [table.ok().out(), serde_json::to_string(&listed).unwrap()] {
        for value in ["git-pass-7f3a", "docker-token-91ce"] {
            assert!(!listing.contains(value), "{listing}");
        }
    }
}
