use std::path::Path;

use serde_json::json;

use super::{
    DEV_ONLY, KEPT_OUT, NO_STD, STACK, check_kept_out, check_no_std, check_stack,
    line_of_dependency,
};

/// A dependency and its kind (`None`: normal, as cargo writes it).
type Dep<'a> = (&'a str, Option<&'a str>);

/// `cargo metadata --no-deps` output for a workspace of `(name, dependencies)`.
fn metadata(root: &Path, packages: &[(&str, &[Dep<'_>])]) -> serde_json::Value {
    let packages: Vec<serde_json::Value> = packages
        .iter()
        .map(|(name, deps)| {
            json!({
                "name": name,
                "manifest_path": root.join("crates").join(name).join("Cargo.toml"),
                "dependencies": deps
                    .iter()
                    .map(|(dep, kind)| json!({ "name": dep, "kind": kind }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "packages": packages })
}

const SMALL_STACK: &[(&str, &[&str])] = &[("low", &[]), ("mid", &["low"]), ("top", &["mid"])];

#[test]
fn dependencies_down_the_stack_are_accepted() {
    let root = Path::new("/repo");
    let meta = metadata(
        root,
        &[
            ("low", &[("serde", None), ("top", Some("dev"))]),
            ("mid", &[("low", None), ("low", Some("build"))]),
            ("top", &[("mid", None), ("low", Some("dev"))]),
        ],
    );
    assert!(check_stack(&meta, root, SMALL_STACK, &[]).is_empty());
}

#[test]
fn a_dependency_up_or_across_the_stack_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("crates/mid/Cargo.toml");
    std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
    std::fs::write(
        &manifest,
        "[package]\nname = \"mid\"\n\n[dependencies]\nlow = { workspace = true }\ntop.workspace = true\n",
    )
    .unwrap();
    let meta = metadata(
        dir.path(),
        &[
            ("low", &[]),
            ("mid", &[("low", None), ("top", None)]),
            ("top", &[("mid", None)]),
        ],
    );
    let found = check_stack(&meta, dir.path(), SMALL_STACK, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        "crates/mid/Cargo.toml:6: `mid` depends on `top` (normal), which the stack does not \
         allow: it may use `low` (docs/architecture.md, code map)"
    );

    // A build dependency counts as much as a normal one.
    let meta = metadata(
        dir.path(),
        &[
            ("low", &[("mid", Some("build"))]),
            ("mid", &[]),
            ("top", &[]),
        ],
    );
    let found = check_stack(&meta, dir.path(), SMALL_STACK, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].what.contains("`low` depends on `mid` (build)"),
        "{}",
        found[0]
    );
    assert!(
        found[0].what.contains("it may use none of our crates"),
        "{}",
        found[0]
    );
}

#[test]
fn a_dev_only_crate_is_refused_as_a_normal_dependency() {
    let root = Path::new("/repo");
    let stack: &[(&str, &[&str])] = &[
        ("helpers", &["low"]),
        ("low", &[]),
        ("mid", &["low", "helpers"]),
    ];
    let meta = metadata(
        root,
        &[
            ("helpers", &[("low", None)]),
            ("low", &[("helpers", Some("dev"))]),
            ("mid", &[("helpers", None)]),
        ],
    );
    let found = check_stack(&meta, root, stack, &["helpers"]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].what.contains(
            "`mid` has `helpers` as a normal dependency; it may only be a dev-dependency"
        ),
        "{}",
        found[0]
    );
}

#[test]
fn a_crate_without_a_row_and_a_row_without_a_crate_are_refused() {
    let root = Path::new("/repo");
    let meta = metadata(
        root,
        &[
            ("low", &[]),
            ("mid", &[("low", None)]),
            ("new", &[("low", None)]),
        ],
    );
    let found: Vec<String> = check_stack(&meta, root, SMALL_STACK, &[])
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].starts_with("crates/new/Cargo.toml: `new` has no row"),
        "{found:?}"
    );
    assert_eq!(
        found[1],
        "xtask/src/tidy/deps.rs: `STACK` has a row for `top`, which is not a crate of the workspace"
    );
}

#[test]
fn the_stack_table_is_consistent() {
    for (krate, allowed) in STACK {
        for dep in *allowed {
            assert!(
                STACK.iter().any(|(k, _)| k == dep),
                "{krate} may use {dep}, which has no row"
            );
            assert!(
                !DEV_ONLY.contains(dep),
                "{krate} may use the dev-only {dep}"
            );
            assert_ne!(krate, dep);
        }
    }
    let checked = KEPT_OUT
        .iter()
        .map(|(k, _)| k)
        .chain(NO_STD.iter().map(|(k, _)| k));
    for krate in checked {
        assert!(STACK.iter().any(|(k, _)| k == krate), "{krate} has no row");
    }
}

#[test]
fn manifest_lines_are_found_for_either_spelling() {
    let text = "[dev-dependencies]\nzlayer-secrets-core-extra = 1\nzlayer-secrets-core = { workspace = true }\n";
    assert_eq!(line_of_dependency(text, "zlayer-secrets-core"), 3);
    assert_eq!(line_of_dependency("a.workspace = true\n", "a"), 1);
    assert_eq!(line_of_dependency("b = 1\n", "a"), 0);
}

const CORE_TREE: &str = "\
zlayer-secrets-core v0.1.0 (/repo/crates/zlayer-secrets-core)
async-trait v0.1.89 (proc-macro)
zlayer-secrets-ref v0.1.0 (/repo/crates/zlayer-secrets-ref)
serde_json v1.0.145";

#[test]
fn a_light_crate_with_a_heavy_dependency_is_refused() {
    let groups = KEPT_OUT[0].1;
    assert!(check_kept_out("zlayer-secrets-core", "all features", CORE_TREE, groups).is_empty());

    let heavy = format!(
        "{CORE_TREE}\nrusqlite v0.37.0\nlibsqlite3-sys v0.35.0\nreqwest v0.12.24\nrusqlite v0.37.0 (*)"
    );
    let found: Vec<String> = check_kept_out("zlayer-secrets-core", "all features", &heavy, groups)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(
        found[0],
        "crates/zlayer-secrets-core/Cargo.toml: `zlayer-secrets-core` (all features) has \
         `rusqlite` (SQLite) among its normal dependencies; docs/architecture.md keeps it out"
    );
    assert!(found[2].contains("`reqwest` (HTTP or TLS)"), "{found:?}");
}

#[test]
fn an_empty_tree_never_passes() {
    let groups = KEPT_OUT[0].1;
    let found = check_kept_out("zlayer-secrets-core", "default features", "", groups);
    assert_eq!(found.len(), 1);
    assert!(found[0].what.contains("does not list the crate itself"));
    let found = check_no_std("zlayer-secrets-ref", "default features", "");
    assert_eq!(found.len(), 1);
    assert!(found[0].what.contains("does not list the crate itself"));
}

#[test]
fn a_std_feature_in_a_no_std_tree_is_refused() {
    let ok = "zlayer-secrets-ref v0.1.0 (/repo/crates/zlayer-secrets-ref)|default,serde\n\
              nom v8.0.0|alloc\nmemchr v2.8.3|\nserde v1.0.229|alloc,derive,serde_derive";
    assert!(check_no_std("zlayer-secrets-ref", "features serde", ok).is_empty());

    let bad = format!("{ok}\nmemchr v2.8.3|alloc,std\nserde_core v1.0.229|result,std_detect");
    let found = check_no_std("zlayer-secrets-ref", "features serde", &bad);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].to_string(),
        "crates/zlayer-secrets-ref/Cargo.toml: `zlayer-secrets-ref` (features serde) must \
         build without std, but `memchr` has its `std` feature on"
    );
}
