//! git's credential requests: arbitrary bytes never panic the parser and its errors quote no value; an accepted request written as git writes it parses back to the same request and writes the same again (only an attribute holding a line break, which just a percent-encoded url= can give, is refused).
#![no_main]

use libfuzzer_sys::fuzz_target;
use zlayer_secrets_fuzz::MARK;
use zlayer_secrets_helpers::git::{GitError, Request, parse};

/// The attribute `field` of `request`.
fn attribute<'r>(request: &'r Request, field: &str) -> Option<&'r str> {
    match field {
        "protocol" => request.protocol.as_deref(),
        "host" => request.host.as_deref(),
        "path" => request.path.as_deref(),
        "username" => request.username.as_deref(),
        "password" => request.password.as_deref().map(String::as_str),
        other => panic!("an error names the unknown attribute {other:?}"),
    }
}

fn check_accepted(data: &[u8], request: &Request) {
    // An empty protocol, host, path or user name means "not given".
    for value in [
        &request.protocol,
        &request.host,
        &request.path,
        &request.username,
    ] {
        assert_ne!(value.as_deref(), Some(""), "an empty attribute was kept");
    }
    match request.to_text() {
        Ok(text) => {
            let again = parse(text.as_bytes()).expect("a written request parses");
            assert_eq!(&again, request, "a written request reads back differently");
            let rewritten = again.to_text().expect("a request read back writes again");
            assert_eq!(rewritten.as_str(), text.as_str(), "writing is not stable");
        }
        Err(GitError::Unwritable { field }) => {
            let value = attribute(request, field).expect("the refused attribute is set");
            assert!(
                value.contains(['\n', '\r', '\0']),
                "{field} refused without a line break"
            );
            assert!(
                data.windows(4).any(|w| w == b"url="),
                "a line break without a url= line"
            );
        }
        Err(e) => panic!("writing failed otherwise: {e}"),
    }
}

/// The `key=value` lines of the input that are UTF-8.
fn pairs(data: &[u8]) -> Vec<(&str, &str)> {
    data.split(|b| *b == b'\n')
        .filter_map(|line| std::str::from_utf8(line).ok())
        .filter_map(|line| line.split_once('='))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(request) => check_accepted(data, &request),
        Err(error) => {
            let message = error.full_message();
            assert!(!message.is_empty());
            let lines = data.split(|b| *b == b'\n').count();
            let line = match &error {
                GitError::NotUtf8 { line }
                | GitError::NoEquals { line }
                | GitError::EmptyKey { line }
                | GitError::Nul { line, .. }
                | GitError::CarriageReturn { line, .. }
                | GitError::Url { line, .. } => *line,
                other => panic!("parsing failed with an error of another step: {other}"),
            };
            assert!(
                line >= 1 && line <= lines,
                "error line {line} outside 1..={lines}"
            );
            // A key is shown (escaped, cut to 40 characters); a marked value never is.
            let pairs = pairs(data);
            for (_, value) in pairs.iter().filter(|(_, v)| v.contains(MARK)) {
                let in_a_key = pairs.iter().any(|(k, _)| k.contains(value));
                assert!(
                    in_a_key || !message.contains(value),
                    "an error quotes a value: {message}"
                );
            }
        }
    }
});
