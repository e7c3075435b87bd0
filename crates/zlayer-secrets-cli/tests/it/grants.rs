//! `grant`, `revoke`, `permissions`, and the reserved scopes they use.

use crate::{Store, listed_names};

#[test]
fn grant_list_and_revoke() {
    let s = Store::new();
    s.run(&["grant", "alice", "--env", "prod", "--level", "read"])
        .ok();
    s.run(&["grant", "group:ops", "--env", "prod", "--level", "write"])
        .ok();
    s.run(&[
        "grant",
        "bob",
        "--env",
        "prod",
        "--project",
        "shop",
        "--level",
        "execute",
    ])
    .ok();
    let r = s.run(&["grant", "alice", "--env", "prod", "--level", "execute"]);
    assert!(r.ok().err().contains("read → execute"), "{}", r.err());

    let p = s.run(&["permissions", "--env", "prod", "--output", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&p.ok().stdout).unwrap();
    assert_eq!(doc["scope"], "env:prod");
    let grants = doc["grants"].as_array().unwrap();
    assert_eq!(grants.len(), 2);
    assert_eq!(grants[0]["subject"], "user:alice");
    assert_eq!(grants[0]["level"], "execute");
    assert_eq!(grants[1]["subject"], "group:ops");

    let table = s.run(&["permissions", "--env", "prod", "--project", "shop"]);
    assert!(table.ok().out().contains("user:bob"));

    s.run(&["revoke", "alice", "--env", "prod"]).ok();
    let r = s.run(&["revoke", "alice", "--env", "prod"]);
    r.code(1).err_contains("alice");
    let p = s.run(&["permissions", "--env", "prod"]);
    assert!(!p.ok().out().contains("alice"));
}

#[test]
fn bad_grant_input() {
    let s = Store::new();
    let r = s.run(&["grant", "alice", "--env", "prod", "--level", "admin"]);
    r.code(2).err_contains("admin");
    s.run(&["grant", "alice", "--level", "read"]).code(2);
    s.run(&["grant", "grup:ops", "--env", "prod", "--level", "read"])
        .code(1);
    s.run(&["grant", "alice", "--env", "a:b", "--level", "read"])
        .code(1);
}

#[test]
fn reserved_scopes_stay_hidden() {
    let s = Store::new();
    s.run(&["grant", "alice", "--env", "prod", "--level", "read"])
        .ok();
    s.put("mine", "x", &[]);
    let ls = s.run(&["ls", "--output", "json"]);
    assert_eq!(listed_names(&ls), ["mine"]);
    for args in [
        &["ls", "--deployment", "_zlayer"][..],
        &["ls", "--deployment", "_zlayer", "--service", "grants"],
        &["set", "x", "--value", "y", "--deployment", "_zlayer"],
    ] {
        let r = s.run(args);
        r.code(1);
        assert!(r.err().contains("reserved"), "{args:?}: {}", r.err());
    }
}

/// The help of `grant` defines the levels by what they give: `read` never a value, `execute`
/// the values (there is no "run without reading").
#[test]
fn the_help_says_execute_gives_access_to_values() {
    let s = Store::new();
    let help = s.run(&["grant", "--help"]).ok().out();
    let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!flat.contains("without reading"), "{help}");
    assert!(flat.contains("gives access to the values"), "{help}");
    assert!(flat.contains("never a value"), "{help}");
    assert!(flat.contains("`run`, reveal, export"), "{help}");
}
