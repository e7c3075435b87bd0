use std::path::PathBuf;

use super::{
    Member, VersionDecl, binary_artifact, hex_lower, members_from_metadata, merge_sums,
    package_version_decl, version_problems, workspace_version,
};

const ROOT: &str = r#"[workspace]
resolver = "3"
members = ["crates/*", "xtask"]

[workspace.package]
version = "0.1.0" # released together
edition = "2024"

[workspace.dependencies]
zlayer-secrets-core = { path = "crates/zlayer-secrets-core", version = "0.1.0" }
"#;

#[test]
fn reads_the_workspace_version() {
    assert_eq!(workspace_version(ROOT).as_deref(), Some("0.1.0"));
    assert_eq!(workspace_version("[workspace]\nmembers = []\n"), None);
    // A `version` in another section is not the workspace's.
    assert_eq!(
        workspace_version(
            "[package]\nversion = \"9.9.9\"\n[workspace.package]\nedition = \"2024\"\n"
        ),
        None
    );
}

#[test]
fn tells_inherited_from_overridden_versions() {
    let inherited = "[package]\nname = \"a\"\nversion.workspace = true\n";
    assert_eq!(package_version_decl(inherited), VersionDecl::Inherited);
    let table = "[package]\nname = \"a\"\nversion = { workspace = true } # same\n";
    assert_eq!(package_version_decl(table), VersionDecl::Inherited);
    let explicit = "[package]\nname = \"a\"\nversion = \"0.2.0\"\n";
    assert_eq!(
        package_version_decl(explicit),
        VersionDecl::Explicit("0.2.0".to_owned())
    );
    let missing =
        "[package]\nname = \"a\"\n\n[dependencies]\nfoo = { version = \"1\" }\nversion = \"3\"\n";
    assert_eq!(package_version_decl(missing), VersionDecl::Missing);
}

fn member(name: &str, version: &str, decl: VersionDecl, deps: &[(&str, &str)]) -> Member {
    Member {
        name: name.to_owned(),
        version: version.to_owned(),
        decl,
        path_deps: deps
            .iter()
            .map(|(d, r)| ((*d).to_owned(), (*r).to_owned()))
            .collect(),
    }
}

#[test]
fn agreeing_versions_have_no_problems() {
    let members = [
        member(
            "core",
            "0.1.0",
            VersionDecl::Inherited,
            &[("ref", "^0.1.0")],
        ),
        member(
            "cli",
            "0.1.0",
            VersionDecl::Explicit("0.1.0".to_owned()),
            &[("core", "=0.1.0")],
        ),
    ];
    assert!(version_problems("0.1.0", &members).is_empty());
}

#[test]
fn every_disagreement_is_named() {
    let members = [
        member("core", "0.1.0", VersionDecl::Inherited, &[("ref", "^0.1")]),
        member(
            "cli",
            "0.2.0",
            VersionDecl::Explicit("0.2.0".to_owned()),
            &[],
        ),
        member("old", "0.0.0", VersionDecl::Missing, &[]),
        member("odd", "0.3.0", VersionDecl::Inherited, &[]),
    ];
    let problems = version_problems("0.1.0", &members);
    assert_eq!(
        problems,
        [
            "core depends on ref `^0.1`, which does not name version 0.1.0",
            "cli sets version 0.2.0, the workspace is at 0.1.0",
            "old states no version (use `version.workspace = true`)",
            "cargo resolves odd to version 0.3.0, the workspace is at 0.1.0",
        ]
    );
}

#[test]
fn members_come_from_cargo_metadata() {
    let metadata = r#"{"packages":[
      {"name":"zlayer-secrets-cli","version":"0.1.0","manifest_path":"/r/crates/cli/Cargo.toml",
       "dependencies":[
         {"name":"zlayer-secrets","req":"^0.1.0","path":"/r/crates/zlayer-secrets"},
         {"name":"clap","req":"^4","path":null}
       ]}
    ]}"#;
    let members = members_from_metadata(metadata, |path| {
        assert_eq!(path, "/r/crates/cli/Cargo.toml");
        Ok("[package]\nversion.workspace = true\n".to_owned())
    })
    .unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].decl, VersionDecl::Inherited);
    assert_eq!(
        members[0].path_deps,
        [("zlayer-secrets".to_owned(), "^0.1.0".to_owned())]
    );
    assert!(members_from_metadata("[]", |_| Ok(String::new())).is_err());
}

#[test]
fn finds_binaries_in_cargo_messages() {
    let bin = r#"{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"zlayer-secret"},"executable":"/t/release/zlayer-secret"}"#;
    assert_eq!(
        binary_artifact(bin),
        Some(PathBuf::from("/t/release/zlayer-secret"))
    );
    let lib =
        r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"x"},"executable":null}"#;
    assert_eq!(binary_artifact(lib), None);
    let build_script =
        r#"{"reason":"compiler-artifact","target":{"kind":["custom-build"]},"executable":null}"#;
    assert_eq!(binary_artifact(build_script), None);
    assert_eq!(
        binary_artifact(r#"{"reason":"build-finished","success":true}"#),
        None
    );
    assert_eq!(binary_artifact("warning: not json"), None);
}

#[test]
fn sums_file_keeps_other_existing_archives() {
    let existing = "aaaa  zlayer-secrets-0.1.0-aarch64-unknown-linux-gnu.tar.gz\n\
                    bbbb  zlayer-secrets-0.1.0-x86_64-unknown-linux-gnu.tar.gz\n\
                    cccc  zlayer-secrets-0.0.9-x86_64-unknown-linux-gnu.tar.gz\n";
    let merged = merge_sums(
        existing,
        "zlayer-secrets-0.1.0-x86_64-unknown-linux-gnu.tar.gz",
        "dddd",
        |f| !f.contains("0.0.9"),
    );
    assert_eq!(
        merged,
        "aaaa  zlayer-secrets-0.1.0-aarch64-unknown-linux-gnu.tar.gz\n\
         dddd  zlayer-secrets-0.1.0-x86_64-unknown-linux-gnu.tar.gz\n"
    );
    assert_eq!(merge_sums("", "a.tar.gz", "ff", |_| true), "ff  a.tar.gz\n");
}

#[test]
fn hex_is_lowercase_and_padded() {
    assert_eq!(hex_lower(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
}
