//! docker's helper input: arbitrary bytes as the credentials JSON of store, or as the server URL of get and erase, never panic and no answer quotes the secret; accepted credentials written as JSON read back the same, and what store accepts, get gives back for its server URL.
#![no_main]

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use zlayer_secrets_core::MemoryStore;
use zlayer_secrets_fuzz::{MARK, block_on, marked};
use zlayer_secrets_helpers::Opened;
use zlayer_secrets_helpers::docker::{self, Action, Credentials, DockerError, NOT_FOUND};

/// Credentials as docker sends them, perhaps with other fields and one byte changed.
#[derive(Debug, Arbitrary)]
struct Sent {
    server_url: String,
    username: String,
    secret: String,
    other_fields: Vec<(String, String)>,
    damage: Option<(u16, u8)>,
}

/// The JSON text of `sent`, its secret marked.
fn json_text(sent: &Sent, secret: &str) -> Vec<u8> {
    let mut object = serde_json::Map::new();
    for (key, value) in &sent.other_fields {
        object.insert(key.clone(), serde_json::Value::String(value.clone()));
    }
    object.insert("ServerURL".into(), sent.server_url.clone().into());
    object.insert("Username".into(), sent.username.clone().into());
    object.insert("Secret".into(), secret.into());
    let mut text = serde_json::to_vec(&object).expect("a map of strings serialises");
    if let Some((at, byte)) = sent.damage
        && !text.is_empty()
    {
        let at = usize::from(at) % text.len();
        text[at] = byte;
    }
    text
}

/// Accepted credentials are written as JSON that reads back the same.
fn check_round_trip(creds: &Credentials) {
    let text = creds.to_json();
    assert!(text.ends_with("}\n"), "the answer is not one line of JSON");
    let back = Credentials::from_json(text.as_bytes()).expect("written credentials read back");
    assert_eq!(&back, creds, "written credentials read back differently");
}

/// No answer of the helper shows the secret (unless the server URL or the user name,
/// which answers may show, hold it too).
fn assert_hidden(answer: &str, secret: &str, sent: &Sent) {
    let shown_anyway = sent.server_url.contains(secret) || sent.username.contains(secret);
    assert!(
        shown_anyway || !answer.contains(secret),
        "an answer quotes the secret: {answer}"
    );
}

fn check_store_then_get(sent: &Sent) {
    let secret = marked(&sent.secret);
    let text = json_text(sent, &secret);
    let access = Opened(Arc::new(MemoryStore::new()));
    let stored = block_on(docker::serve(&access, Action::Store, &text));
    let creds = match Credentials::from_json(&text) {
        Ok(creds) => creds,
        Err(e) => {
            assert_hidden(&e.answer(), &secret, sent);
            assert!(stored.is_err(), "store accepted what does not read");
            return;
        }
    };
    check_round_trip(&creds);
    match stored {
        Err(e) => assert_hidden(&e.answer(), &secret, sent),
        Ok(printed) => {
            assert!(printed.is_empty(), "store printed something");
            let url = creds.server_url().trim();
            let got = block_on(docker::serve(&access, Action::Get, url.as_bytes()))
                .expect("get finds what store kept");
            let back = Credentials::from_json(got.as_bytes()).expect("get answers JSON");
            assert_eq!(back.secret(), creds.secret(), "get gives another secret");
            assert_eq!(back.server_url(), url);
            let listed = block_on(docker::serve(&access, Action::List, b"")).expect("list");
            assert_hidden(&listed, &secret, sent);
        }
    }
}

/// A server URL for get and erase: one that is accepted is trimmed and holds no user
/// information; a refused one is answered as not found (or missing), and the reason for a
/// URL with user information shows nothing of it.
fn check_server_url(input: &[u8]) {
    match docker::server_url(input) {
        Ok(url) => {
            assert!(!url.is_empty(), "an empty server URL accepted");
            assert_eq!(url.trim(), url, "an accepted server URL is not trimmed");
            assert!(!url.contains('@'), "user information accepted");
        }
        Err(DockerError::MissingServerUrl) => {
            let text = std::str::from_utf8(input).expect("only UTF-8 input is missing");
            assert!(text.trim().is_empty(), "a server URL taken for missing");
        }
        Err(e @ DockerError::NotARegistry { .. }) => {
            assert_eq!(e.answer(), NOT_FOUND);
            let DockerError::NotARegistry { reason } = e else {
                unreachable!("matched above")
            };
            // With a `@`, nothing of the URL is shown: it may hold a password.
            if std::str::from_utf8(input).is_ok_and(|text| text.contains('@')) {
                assert!(
                    !reason.contains(MARK),
                    "the reason shows user information: {reason}"
                );
            }
        }
        Err(other) => panic!("a server URL refused otherwise: {other}"),
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses: raw bytes (as both inputs), or credentials built as JSON.
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        check_server_url(rest);
        match Credentials::from_json(rest) {
            Ok(creds) => check_round_trip(&creds),
            Err(e) => assert!(
                matches!(e, DockerError::BadJson { .. }),
                "reading failed otherwise: {e}"
            ),
        }
    } else if let Ok(sent) = Sent::arbitrary_take_rest(Unstructured::new(rest)) {
        check_store_then_get(&sent);
    }
});
