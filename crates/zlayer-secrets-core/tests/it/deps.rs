//! The crate stays light: no SQLite, no cryptography, no HTTP client among its normal
//! dependencies, with or without features.

use std::process::Command;

const FORBIDDEN: &[&str] = &[
    "rusqlite",
    "libsqlite3-sys",
    "chacha20poly1305",
    "aead",
    "argon2",
    "reqwest",
    "hyper",
    "ureq",
    "rustls",
    "openssl",
    "openssl-sys",
    "native-tls",
];

fn normal_dependencies(extra: &[&str]) -> Vec<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(cargo)
        .args(["tree", "--offline", "--manifest-path", manifest])
        .args([
            "-p",
            "zlayer-secrets-core",
            "-e",
            "normal",
            "--target",
            "all",
        ])
        .args(["--prefix", "none", "--format", "{p}"])
        .args(extra)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("cargo tree prints UTF-8")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_sqlite_crypto_or_http_in_normal_dependencies() {
    for features in [&[][..], &["--all-features"][..]] {
        let deps = normal_dependencies(features);
        for expected in ["zlayer-secrets-core", "zlayer-secrets-ref", "serde_json"] {
            assert!(
                deps.iter().any(|d| d == expected),
                "{expected} missing from the tree ({features:?}): {deps:?}"
            );
        }
        for forbidden in FORBIDDEN {
            assert!(
                !deps.iter().any(|d| d == forbidden),
                "{forbidden} is a dependency ({features:?}): {deps:?}"
            );
        }
    }
}
