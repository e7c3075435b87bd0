use std::sync::Arc;

use zeroize::Zeroizing;
use zlayer_secrets_core::MemoryStore;
use zlayer_secrets_credentials::git_credentials::normalize_git_location;

use super::location::{location_url, stored_path};
use super::operations::label;
use super::*;
use crate::{OpenError, Opened, StoreAccess};

fn parsed(input: &str) -> Request {
    parse(input.as_bytes()).unwrap()
}

#[test]
fn reads_the_attributes_git_sends() {
    let r = parsed(
        "protocol=https\nhost=example.com:8443\npath=org/repo.git\nusername=bob\npassword=p=a=ss\n\n",
    );
    assert_eq!(r.protocol.as_deref(), Some("https"));
    assert_eq!(r.host.as_deref(), Some("example.com:8443"));
    assert_eq!(r.path.as_deref(), Some("org/repo.git"));
    assert_eq!(r.username.as_deref(), Some("bob"));
    assert_eq!(r.password.as_deref().map(String::as_str), Some("p=a=ss"));
}

#[test]
fn a_blank_line_ends_the_request_and_eof_does_too() {
    let r = parsed("protocol=https\n\nhost=ignored\n");
    assert_eq!(r.host, None);
    let r = parsed("protocol=https\nhost=h");
    assert_eq!(r.host.as_deref(), Some("h"));
    assert_eq!(parsed(""), Request::default());
}

#[test]
fn unknown_and_newer_attributes_are_ignored() {
    let r = parsed(
        "capability[]=authtype\nprotocol=https\nhost=h\nwwwauth[]=Basic realm=\"x\"\npassword_expiry_utc=1700000000\noauth_refresh_token=r\nfuture=1\n",
    );
    assert_eq!(r.protocol.as_deref(), Some("https"));
    assert_eq!(r.host.as_deref(), Some("h"));
    assert!(r.password.is_none());
}

#[test]
fn the_last_value_wins_and_empty_means_absent() {
    let r = parsed("host=a\nhost=b\nusername=\n");
    assert_eq!(r.host.as_deref(), Some("b"));
    assert_eq!(r.username, None);
}

#[test]
fn url_sets_every_field() {
    let r = parsed("url=https://us%40er:pa%3Ass@git.example.com:8443/org/my%20repo.git\n");
    assert_eq!(r.protocol.as_deref(), Some("https"));
    assert_eq!(r.host.as_deref(), Some("git.example.com:8443"));
    assert_eq!(r.path.as_deref(), Some("org/my repo.git"));
    assert_eq!(r.username.as_deref(), Some("us@er"));
    assert_eq!(r.password.as_deref().map(String::as_str), Some("pa:ss"));
    let r = parsed("url=https://github.com\n");
    assert_eq!(r.host.as_deref(), Some("github.com"));
    assert_eq!(r.path, None);
    // Later lines refine what the URL gave.
    let r = parsed("url=https://github.com/o/r\nusername=x\n");
    assert_eq!(r.username.as_deref(), Some("x"));
    assert_eq!(r.path.as_deref(), Some("o/r"));
}

#[test]
fn bad_lines_are_refused_without_quoting_values() {
    for (input, why) in [
        (
            "protocol=https\nnovalue\n",
            "line 2 of the request has no `=`",
        ),
        ("=x\n", "empty key"),
        ("password=sec\0ret\n", "NUL"),
        ("password=secret\r\n", "carriage return"),
        ("url=no-scheme\n", "url"),
    ] {
        let err = parse(input.as_bytes()).unwrap_err().full_message();
        assert!(err.contains(why), "{input:?}: {err}");
        assert!(!err.contains("secret"), "{err}");
    }
    let err = parse(b"password=\xff\n").unwrap_err().to_string();
    assert!(err.contains("not UTF-8"), "{err}");
}

#[test]
fn debug_hides_the_password() {
    let r = parsed("password=hunter2\n");
    assert!(!format!("{r:?}").contains("hunter2"));
}

#[test]
fn locations_round_trip() {
    let url = location_url("HTTPS", "Example.com:8443", Some("org/a b%c.git"));
    assert_eq!(url, "https://Example.com:8443/org/a%20b%25c.git");
    assert_eq!(
        normalize_git_location(&url).unwrap(),
        "https://example.com:8443"
    );
    assert_eq!(stored_path(&url), Some("org/a b%c.git".to_owned()));
    assert_eq!(stored_path("github.com"), None);
    assert_eq!(stored_path("http://github.com/"), None);
    let url = location_url("smtp", "smtp.example.com:587", None);
    assert_eq!(
        normalize_git_location(&url).unwrap(),
        "smtp://smtp.example.com:587"
    );
}

#[test]
fn labels_fit_and_stay_on_char_boundaries() {
    let long = format!("https://h/{}", "é".repeat(300));
    let l = label("u", &long);
    assert!(l.len() <= 256);
    assert!(l.starts_with("git: u @ https://h/"));
}

#[test]
fn requests_are_written_as_git_writes_them_and_read_back() {
    let r = parsed("url=https://u:p%3Dw@h.example/o/r.git\nwwwauth[]=x\n");
    let text = r.to_text().unwrap();
    assert_eq!(
        text.as_str(),
        "protocol=https\nhost=h.example\npath=o/r.git\nusername=u\npassword=p=w\n"
    );
    assert_eq!(parsed(&text), r);
    assert_eq!(Request::default().to_text().unwrap().as_str(), "");
    // Only a percent-encoded URL can put a line break into an attribute.
    let r = parsed("url=https://h.example/a%0Ab\n");
    assert!(matches!(
        r.to_text(),
        Err(GitError::Unwritable { field: "path" })
    ));
}

fn request(text: &str) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(text.as_bytes().to_vec())
}

#[tokio::test]
async fn store_get_and_erase_over_any_store() {
    let access = Opened(Arc::new(MemoryStore::new()));
    let stored = "protocol=https\nhost=Example.com:443\nusername=bob\npassword=tok-1\n";
    assert!(
        serve(&access, "store", request(stored))
            .await
            .unwrap()
            .is_none()
    );
    let answer = serve(
        &access,
        "get",
        request("protocol=https\nhost=example.com\n"),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(answer.as_str(), "username=bob\npassword=tok-1\n");
    // Another protocol, user or unknown operation finds nothing.
    for (operation, text) in [
        ("get", "protocol=http\nhost=example.com\n"),
        ("get", "protocol=https\nhost=example.com\nusername=eve\n"),
        ("frobnicate", "protocol=https\nhost=example.com\n"),
    ] {
        assert!(
            serve(&access, operation, request(text))
                .await
                .unwrap()
                .is_none()
        );
    }
    // Erasing with another password leaves it; with its own it is gone.
    let erase_with = |password: &str| {
        request(&format!(
            "protocol=https\nhost=example.com\npassword={password}\n"
        ))
    };
    serve(&access, "erase", erase_with("other")).await.unwrap();
    assert!(
        get(&access, &parsed("protocol=https\nhost=example.com\n"))
            .await
            .unwrap()
            .is_some()
    );
    serve(&access, "erase", erase_with("tok-1")).await.unwrap();
    assert!(
        get(&access, &parsed("protocol=https\nhost=example.com\n"))
            .await
            .unwrap()
            .is_none()
    );
}

/// Counts how often a store was asked for, and has none.
#[derive(Default)]
struct NoStore(std::sync::atomic::AtomicUsize);

impl StoreAccess for NoStore {
    type Store = Arc<MemoryStore>;

    async fn open(&self, _create: bool) -> Result<Option<Arc<MemoryStore>>, OpenError> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(None)
    }
}

#[tokio::test]
async fn requests_that_ask_for_nothing_open_nothing() {
    let access = NoStore::default();
    for (operation, text) in [
        ("get", "protocol=https\n"),
        ("erase", "host=example.com\n"),
        ("store", "protocol=https\nhost=example.com\nusername=bob\n"),
    ] {
        serve(&access, operation, request(text)).await.unwrap();
    }
    assert_eq!(access.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    // A refused host is an error before any store is opened.
    let err = serve(
        &access,
        "get",
        request("protocol=https\nhost=a.example/b\n"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, GitError::RefusedLocation(_)), "{err}");
    assert_eq!(access.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    // Storing needs a store it can create.
    let stored = "protocol=https\nhost=example.com\nusername=bob\npassword=p\n";
    let err = serve(&access, "store", request(stored)).await.unwrap_err();
    assert!(matches!(err, GitError::NotCreated), "{err}");
}
