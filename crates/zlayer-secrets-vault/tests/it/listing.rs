//! Listings: leaf keys only, recursive on request.

use zlayer_secrets_core::testkit::steps::{names, put};

use crate::common::{provider_in_scope, unique_scope};

#[tokio::test]
#[ignore = "needs OpenBao; run by cargo xtask ci"]
async fn list_is_flat_and_recursive_on_request() {
    let (vault, base) = provider_in_scope("listing");
    for (scope, name) in [
        (base.clone(), "top"),
        (base.clone(), "svc"),
        (format!("{base}/svc"), "inner"),
        (format!("{base}/svc/deeper"), "deepest"),
        (format!("{base}/other"), "o"),
    ] {
        put(&vault, &scope, name, "v").await;
    }
    // `svc` is both a secret and a folder: only the secret is listed.
    assert_eq!(names(&vault, &base).await, ["svc", "top"]);

    let all: Vec<(String, String)> = vault
        .list_secrets_recursive(&base)
        .await
        .unwrap()
        .into_iter()
        .map(|(scope, m)| (scope, m.name))
        .collect();
    assert_eq!(
        all,
        [
            (base.clone(), "svc".to_owned()),
            (base.clone(), "top".to_owned()),
            (format!("{base}/other"), "o".to_owned()),
            (format!("{base}/svc"), "inner".to_owned()),
            (format!("{base}/svc/deeper"), "deepest".to_owned()),
        ]
    );
    assert!(
        vault
            .list_secrets_recursive(&unique_scope("listing-empty"))
            .await
            .unwrap()
            .is_empty()
    );
}
