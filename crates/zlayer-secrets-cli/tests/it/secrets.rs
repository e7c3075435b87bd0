//! The verbs on single secrets, their errors and the value sources.

use crate::{Store, bin};

#[test]
fn a_fresh_directory_lists_nothing_and_creates_nothing() {
    let s = Store::new();
    let r = s.run(&["ls"]);
    r.ok();
    assert!(r.out().is_empty());
    s.run(&["get", "x"]).code(1);
    assert!(s.files().is_empty(), "{:?}", s.files());
}

#[test]
fn set_get_and_reveal() {
    let s = Store::new();
    s.put("db-password", "hunter2", &[]);
    assert_eq!(s.reveal("db-password", &[]), "hunter2");
    let meta = s.run(&["get", "db-password"]);
    meta.ok();
    assert!(meta.out().contains("v1"), "{}", meta.out());
    assert!(!meta.out().contains("hunter2"));
    let json = s.run(&["get", "db-password", "--output", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["name"], "db-password");

    // A second write is version 2; both versions stay readable.
    s.put("db-password", "hunter3", &[]);
    assert_eq!(s.reveal("db-password", &[]), "hunter3");
    let old = s.run(&["get", "db-password", "--reveal", "--version", "1"]);
    assert_eq!(old.ok().out(), "hunter2");
    s.run(&["get", "db-password", "--version", "9"]).code(1);
}

#[test]
fn one_trailing_newline_is_stripped_from_stdin_and_files() {
    let s = Store::new();
    s.run_with(
        &["set", "a", "--from-stdin"],
        Some(b"line1\nline2\n\n"),
        &[],
    )
    .ok();
    assert_eq!(s.reveal("a", &[]), "line1\nline2\n");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "  spaced value \n").unwrap();
    s.run(&["set", "b", "--from-file", file.path().to_str().unwrap()])
        .ok();
    assert_eq!(s.reveal("b", &[]), "  spaced value ");
}

#[test]
fn create_refuses_an_existing_secret() {
    let s = Store::new();
    s.run_with(&["create", "token", "--from-stdin"], Some(b"one"), &[])
        .ok();
    let r = s.run_with(&["create", "token", "--from-stdin"], Some(b"two"), &[]);
    r.code(1).err_contains("already exists: default/token");
    assert_eq!(s.reveal("token", &[]), "one");
}

#[test]
fn a_missing_secret_is_named() {
    let s = Store::new();
    s.put("present", "x", &[]);
    for args in [
        &["get", "absent"][..],
        &["get", "absent", "--reveal"],
        &["history", "absent"],
        &["rollback", "absent", "--to", "1"],
        &["rm", "absent"],
        &["rotate", "absent", "--random"],
    ] {
        let r = s.run(args);
        r.code(1);
        assert!(r.err().contains("default/absent"), "{args:?}: {}", r.err());
    }
}

#[test]
fn rotate_prints_the_versions() {
    let s = Store::new();
    s.put("key", "v1-value", &[]);
    let r = s.run_with(&["rotate", "key", "--from-stdin"], Some(b"v2-value"), &[]);
    assert_eq!(r.ok().out(), "v1 -> v2\n");
    assert_eq!(s.reveal("key", &[]), "v2-value");
    let r = s.run(&["rotate", "key", "--random", "--length", "40"]);
    assert_eq!(r.ok().out(), "v2 -> v3\n");
    let value = s.reveal("key", &[]);
    assert_eq!(value.len(), 40);
    assert!(value.bytes().all(|b| b.is_ascii_alphanumeric()));
}

#[test]
fn history_and_rollback() {
    let s = Store::new();
    for v in ["a", "b", "c"] {
        s.put("k", v, &[]);
    }
    let h = s.run(&["history", "k", "--output", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&h.ok().stdout).unwrap();
    assert_eq!(doc["current"], 3);
    assert_eq!(doc["versions"].as_array().unwrap().len(), 3);
    let table = s.run(&["history", "k"]);
    assert!(table.ok().out().contains("current"));
    let r = s.run(&["rollback", "k", "--to", "1"]);
    assert_eq!(r.ok().out(), "v3 -> v4\n");
    assert_eq!(s.reveal("k", &[]), "a");
    s.run(&["rollback", "k", "--to", "99"]).code(1);
    s.run(&["rollback", "k", "--to", "0"]).code(2);
}

#[test]
fn rm_needs_every_name_and_unset_does_not() {
    let s = Store::new();
    s.put("a", "1", &[]);
    s.put("b", "2", &[]);
    let r = s.run(&["rm", "a", "missing"]);
    r.code(1);
    assert!(r.err().contains("default/missing"));
    // Nothing was deleted.
    assert_eq!(s.reveal("a", &[]), "1");
    s.run(&["rm", "a", "b"]).ok();
    s.run(&["get", "a"]).code(1);
    s.put("c", "3", &[]);
    s.run(&["unset", "c", "never-there"]).ok();
    s.run(&["get", "c"]).code(1);
    s.run(&["unset", "c"]).ok();
}

#[test]
fn value_sources_are_exactly_one() {
    let s = Store::new();
    let two = s.run(&["set", "x", "--value", "a", "--random"]);
    two.code(2).err_contains("cannot be used with");
    let none = s.run(&["set", "x"]);
    none.code(2).err_contains("the value is missing");
    s.run(&["set", "x", "--length", "5", "--value", "a"])
        .code(2)
        .err_contains("--length only applies to --random");
    s.run(&["set", "x", "--length", "5"])
        .code(2)
        .err_contains("add --random")
        .err_contains("Usage: zlayer-secret set");
    let unreadable = s.run(&["set", "x", "--from-file", "/nonexistent/dir/value.txt"]);
    unreadable
        .code(1)
        .err_contains("/nonexistent/dir/value.txt");
    let inline = s.run(&["set", "x", "--value", "visible"]);
    inline.ok().err_contains("process list");
    assert_eq!(s.reveal("x", &[]), "visible");
    s.run(&["set", "y", "--random", "--length", "0"]).code(2);
    s.run(&["set", "y", "--random", "--length", "5000"]).code(2);
}

#[test]
fn scopes_keep_secrets_apart() {
    let s = Store::new();
    s.put("k", "deployment", &[]);
    s.put("k", "other-deployment", &["--deployment", "shop"]);
    s.put(
        "k",
        "service",
        &["--deployment", "shop", "--service", "api"],
    );
    s.put("k", "environment", &["--env", "prod"]);
    s.put("k", "project-env", &["--env", "prod", "--project", "p"]);
    assert_eq!(s.reveal("k", &[]), "deployment");
    assert_eq!(s.reveal("k", &["--deployment", "shop"]), "other-deployment");
    assert_eq!(
        s.reveal("k", &["--deployment", "shop", "--service", "api"]),
        "service"
    );
    assert_eq!(s.reveal("k", &["--env", "prod"]), "environment");
    assert_eq!(
        s.reveal("k", &["--env", "prod", "--project", "p"]),
        "project-env"
    );

    let ls = s.run(&["ls", "--env", "prod", "--output", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&ls.ok().stdout).unwrap();
    assert_eq!(doc["scope"], "env:prod");
    assert_eq!(doc["secrets"].as_array().unwrap().len(), 1);

    s.run(&["ls", "--project", "p"]).code(2);
    s.run(&["ls", "--env", "prod", "--deployment", "shop"])
        .code(2);
    for bad in ["_zlayer", "env:prod", "a/b", ""] {
        let r = s.run(&["ls", "--deployment", bad]);
        r.code(1);
    }
}

#[test]
fn invalid_names_are_refused() {
    let s = Store::new();
    // A usage mistake (exit 2) in one sentence: what is wrong with the name, once.
    for name in ["a/b", " lead", "", "."] {
        let r = s.run(&["set", name, "--value", "x"]);
        r.code(2);
        let err = r.err();
        assert!(err.contains("invalid value"), "{name:?}: {err}");
        assert_eq!(err.matches("invalid").count(), 1, "{name:?}: {err}");
        assert!(!err.contains("invalid secret name"), "{name:?}: {err}");
    }
    for args in [
        &["get", "a/b"][..],
        &["rm", "ok", "a/b"],
        &["rotate", "a/b", "--random"],
    ] {
        s.run(args)
            .code(2)
            .err_contains("`/` is not allowed in a name");
    }
}

#[test]
fn every_verb_has_help_with_an_example() {
    let verbs: &[&[&str]] = &[
        &["ls"],
        &["create"],
        &["get"],
        &["set"],
        &["rm"],
        &["unset"],
        &["rotate"],
        &["history"],
        &["rollback"],
        &["import"],
        &["export"],
        &["grant"],
        &["revoke"],
        &["permissions"],
        &["run"],
        &["key", "status"],
        &["key", "rotate"],
    ];
    for verb in verbs {
        let out = std::process::Command::new(bin())
            .args(*verb)
            .arg("--help")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{verb:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Examples:"), "{verb:?}: {text}");
        assert!(text.contains("zlayer-secret "), "{verb:?}");
    }
    let out = std::process::Command::new(bin())
        .arg("frobnicate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = std::process::Command::new(bin())
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn listing_shows_metadata_only() {
    let s = Store::new();
    s.put("b-secret", "value-of-b", &[]);
    s.put("a-secret", "value-of-a", &[]);
    let ls = s.run(&["ls"]);
    let out = ls.ok().out();
    let a = out.find("a-secret").unwrap();
    let b = out.find("b-secret").unwrap();
    assert!(a < b, "sorted by name: {out}");
    assert!(!out.contains("value-of"));
}

#[test]
fn ls_takes_a_scope_argument_but_not_together_with_scope_options() {
    let s = Store::new();
    s.put("d", "1", &["--deployment", "shop"]);
    s.put("svc", "2", &["--deployment", "shop", "--service", "api"]);
    s.put("e", "3", &["--env", "prod"]);
    s.put("pe", "4", &["--env", "prod", "--project", "web"]);
    for (scope, name) in [
        ("shop", "d"),
        ("shop/api", "svc"),
        ("env:prod", "e"),
        ("project:web:env:prod", "pe"),
    ] {
        let r = s.run(&["ls", scope, "--output", "json"]);
        let doc: serde_json::Value = serde_json::from_slice(&r.ok().stdout).unwrap();
        assert_eq!(doc["scope"], scope);
        assert_eq!(doc["secrets"][0]["name"], name, "{scope}: {doc}");
        assert_eq!(
            doc["secrets"].as_array().unwrap().len(),
            1,
            "{scope}: {doc}"
        );
    }
    for option in [
        &["--deployment", "shop"][..],
        &["--env", "prod"],
        &["--service", "api"],
        &["--env", "prod", "--project", "web"],
    ] {
        let mut args = vec!["ls", "shop"];
        args.extend_from_slice(option);
        let r = s.run(&args);
        r.code(2);
        assert!(r.err().contains(option[0]), "{option:?}: {}", r.err());
    }
    for bad in [
        "_zlayer",
        "a/b/c",
        "env:",
        "project:web:prod",
        "env:a:b",
        "shop/",
    ] {
        let r = s.run(&["ls", bad]);
        r.code(1);
        assert!(r.err().contains("scope"), "{bad}: {}", r.err());
    }
}
