use std::sync::Arc;

use zlayer_secrets_core::MemoryStore;
use zlayer_secrets_credentials::registry_credentials::{RegistryAuthType, RegistryCredential};

use super::registry::docker_username;
use super::request::check_server_url;
use super::*;
use crate::Opened;

#[test]
fn server_urls_are_trimmed_and_required() {
    assert_eq!(
        server_url(b" https://ghcr.io \n").unwrap(),
        "https://ghcr.io"
    );
    assert!(matches!(
        server_url(b"\n"),
        Err(DockerError::MissingServerUrl)
    ));
    for bad in [&b"\xff"[..], b"https://bob:hunter2@ghcr.io", b"ghcr.io\\x"] {
        let err = server_url(bad).unwrap_err();
        assert_eq!(err.answer(), NOT_FOUND);
        let DockerError::NotARegistry { reason } = err else {
            panic!("{err:?}");
        };
        assert!(!reason.contains("hunter2"), "{reason}");
    }
    assert!(matches!(
        check_server_url("https://bob:hunter2@ghcr.io"),
        Err(DockerError::UserInformation)
    ));
}

#[test]
fn urls_that_name_a_registry_as_a_whole() {
    for url in [
        "ghcr.io",
        "https://ghcr.io",
        "https://ghcr.io/",
        "https://index.docker.io/v1/",
        "registry.example.com:5000/v2/",
        " docker.io ",
    ] {
        assert!(names_registry(url), "{url}");
    }
    for url in [
        "https://index.docker.io/v1/access-token",
        "https://index.docker.io/v1/refresh-token",
        "https://index.docker.io/v1",
        "https://ghcr.io/org",
        "https://ghcr.io/?x",
        "https://ghcr.io#x",
        "ghcr.io//",
    ] {
        assert!(!names_registry(url), "{url}");
    }
}

#[test]
fn tokens_show_as_the_token_user() {
    let mut cred = RegistryCredential {
        id: "i".into(),
        registry: "ghcr.io".into(),
        username: String::new(),
        auth_type: RegistryAuthType::Token,
    };
    assert_eq!(docker_username(&cred), TOKEN_USER);
    cred.username = "ci-bot".into();
    assert_eq!(docker_username(&cred), "ci-bot");
    cred.auth_type = RegistryAuthType::Basic;
    assert_eq!(docker_username(&cred), "ci-bot");
}

#[test]
fn credentials_json_round_trips_and_its_errors_quote_nothing() {
    let creds = Credentials::new("ghcr.io", "<token>", "s\"3\nMARK\u{1}t");
    let text = creds.to_json();
    assert!(text.ends_with("}\n"));
    assert_eq!(Credentials::from_json(text.as_bytes()).unwrap(), creds);
    assert!(!format!("{creds:?}").contains("MARK"), "{creds:?}");
    let err = Credentials::from_json(br#"{"ServerURL":"x","Secret":987654321}"#).unwrap_err();
    assert!(err.answer().contains("Data error at line 1"), "{err}");
    assert!(!err.answer().contains("987654321"), "{err}");
}

#[test]
fn actions_and_what_they_read() {
    assert_eq!(Action::from_name("get").unwrap(), Action::Get);
    assert!(Action::Store.reads_input() && !Action::List.reads_input());
    let err = Action::from_name("frobnicate").unwrap_err();
    assert_eq!(err.answer(), "Unknown credential action `frobnicate`");
    assert_eq!(
        DockerError::Usage.answer(),
        "Usage: docker-credential-zlayer <store|get|erase|list|version>"
    );
}

#[tokio::test]
async fn store_get_list_and_erase_over_any_store() {
    let access = Opened(Arc::new(MemoryStore::new()));
    let stored =
        br#"{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"pw-1"}"#;
    assert_eq!(
        serve(&access, Action::Store, stored)
            .await
            .unwrap()
            .as_str(),
        ""
    );
    // The registry as a whole is found under another of its names.
    let got = serve(&access, Action::Get, b"docker.io\n").await.unwrap();
    assert_eq!(
        got.as_str(),
        "{\"ServerURL\":\"docker.io\",\"Username\":\"alice\",\"Secret\":\"pw-1\"}\n"
    );
    let listed = serve(&access, Action::List, b"").await.unwrap();
    assert_eq!(
        listed.as_str(),
        "{\"https://index.docker.io/v1/\":\"alice\"}\n"
    );
    let missing = serve(
        &access,
        Action::Get,
        b"https://index.docker.io/v1/access-token",
    )
    .await
    .unwrap_err();
    assert!(matches!(missing, DockerError::NotFound), "{missing}");
    serve(&access, Action::Erase, b"https://index.docker.io/v1/")
        .await
        .unwrap();
    let gone = serve(&access, Action::Erase, b"docker.io")
        .await
        .unwrap_err();
    assert_eq!(gone.answer(), NOT_FOUND);
    let version = serve(&access, Action::Version, b"").await.unwrap();
    assert!(version.starts_with("docker-credential-zlayer (zlayer-secrets) v"));
}
