//! The server's refusals as [`SecretsError`]s that read as the local store's would.

use zlayer_secrets_api::ErrorBody;
use zlayer_secrets_core::{SecretsError, label};

/// What a request was about, for the errors of its refusal.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Subject<'a> {
    /// Nothing a local store would name.
    Other,
    /// The secret `name` of `scope`.
    Secret {
        /// Its scope.
        scope: &'a str,
        /// Its name.
        name: &'a str,
    },
    /// An exclusive create of the secret `name` of `scope` (409: it exists).
    Create {
        /// Its scope.
        scope: &'a str,
        /// Its name.
        name: &'a str,
    },
}

/// How the server's message of a 404 starts when a store said `NotFound` (the `Display`
/// of [`SecretsError::NotFound`]).
const NOT_FOUND_PREFIX: &str = "secret not found: ";
/// How the server's message of a 409 starts when a store said `AlreadyExists`.
const EXISTS_PREFIX: &str = "secret already exists: ";

/// The longest server message kept, in characters.
const MAX_MESSAGE: usize = 2000;

/// The error text of a refusal's body: `error` of an [`ErrorBody`] (with the `errors` list
/// of a refused import), else a sentence naming the status. The body is never quoted when
/// it is not such JSON: it could be anything a proxy sends.
pub(crate) fn message_of(status: u16, body: &[u8], server: &str) -> String {
    #[derive(serde::Deserialize)]
    struct WithList {
        #[serde(default)]
        errors: Vec<String>,
    }
    let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body) else {
        return format!(
            "the secrets server at {server} answered {status} without an error message \
             (is the URL that of a zlayer-secrets server?)"
        );
    };
    let mut text = one_line(&error);
    if let Ok(WithList { errors }) = serde_json::from_slice::<WithList>(body)
        && !errors.is_empty()
    {
        let list: Vec<String> = errors.iter().map(|e| one_line(e)).collect();
        text = format!("{text}: {}", list.join("; "));
    }
    if text.chars().count() > MAX_MESSAGE {
        text = text.chars().take(MAX_MESSAGE).collect::<String>() + "...";
    }
    text
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// The error for a refusal with `status` and the server's `message`.
///
/// - 404 whose message is a store's `NotFound` (`secret not found: X`):
///   [`SecretsError::NotFound`] naming `X`, the message a local store gives; other 404s
///   about a secret: `NotFound` naming `scope/name`;
/// - 409 of an exclusive create: [`SecretsError::AlreadyExists`] naming `scope/name`, and
///   any 409 whose message is a store's `AlreadyExists`: that;
/// - every other refusal: [`SecretsError::Server`] with the status and the message.
pub(crate) fn refusal(status: u16, message: String, about: Subject<'_>) -> SecretsError {
    match (status, about) {
        (404, _) if message.starts_with(NOT_FOUND_PREFIX) => SecretsError::NotFound {
            name: message[NOT_FOUND_PREFIX.len()..].to_owned(),
        },
        (404, Subject::Secret { scope, name } | Subject::Create { scope, name }) => {
            SecretsError::NotFound {
                name: label(scope, name),
            }
        }
        (409, Subject::Create { scope, name }) => SecretsError::AlreadyExists {
            name: label(scope, name),
        },
        (409, _) if message.starts_with(EXISTS_PREFIX) => SecretsError::AlreadyExists {
            name: message[EXISTS_PREFIX.len()..].to_owned(),
        },
        _ => SecretsError::Server { status, message },
    }
}

/// The text of a transport error: the innermost cause (`connection refused`), or what
/// timed out.
pub(crate) fn transport_reason(error: &reqwest::Error, timeout_secs: u64) -> String {
    if error.is_timeout() {
        return format!("no answer within {timeout_secs} s");
    }
    let mut inner: &(dyn std::error::Error + 'static) = error;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

/// The error of a request that got no answer.
pub(crate) fn unreachable(server: &str, reason: &str) -> SecretsError {
    SecretsError::Provider(format!(
        "cannot reach the secrets server at {server}: {reason}"
    ))
}

/// The error of an answer that is not the JSON expected. serde's message can quote the
/// input (a value), so only its position is kept.
pub(crate) fn bad_answer(server: &str, what: &str, error: &serde_json::Error) -> SecretsError {
    SecretsError::Provider(format!(
        "the secrets server at {server} sent an answer to {what} that is not what this \
         client reads ({:?} at line {}, column {}); are the client and the server of the \
         same version?",
        error.classify(),
        error.line(),
        error.column()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "http://127.0.0.1:8790";

    fn body(error: &str) -> Vec<u8> {
        serde_json::to_vec(&ErrorBody {
            error: error.to_owned(),
        })
        .unwrap()
    }

    #[test]
    fn a_stores_not_found_keeps_its_name() {
        let message = message_of(404, &body("secret not found: shop/db version 9"), SERVER);
        let err = refusal(
            404,
            message,
            Subject::Secret {
                scope: "shop",
                name: "db",
            },
        );
        assert!(matches!(&err, SecretsError::NotFound { name } if name == "shop/db version 9"));
        assert_eq!(err.to_string(), "secret not found: shop/db version 9");
    }

    #[test]
    fn other_not_founds_of_a_secret_name_it() {
        let err = refusal(
            404,
            "no such thing".to_owned(),
            Subject::Secret {
                scope: "env:prod",
                name: "API_KEY",
            },
        );
        assert_eq!(err.to_string(), "secret not found: env:prod/API_KEY");
        // A 404 about nothing a store names (an API key) stays the server's.
        let err = refusal(
            404,
            "API key `zk_x` does not exist".to_owned(),
            Subject::Other,
        );
        assert!(matches!(err, SecretsError::Server { status: 404, .. }));
        assert!(err.is_not_found());
        assert_eq!(err.to_string(), "API key `zk_x` does not exist");
    }

    #[test]
    fn conflicts_of_a_create_are_already_exists() {
        let err = refusal(
            409,
            "whatever".to_owned(),
            Subject::Create {
                scope: "default",
                name: "db",
            },
        );
        assert!(matches!(&err, SecretsError::AlreadyExists { name } if name == "default/db"));
        assert_eq!(err.to_string(), "secret already exists: default/db");
    }

    #[test]
    fn refusals_carry_status_and_message() {
        for status in [400, 401, 403, 413, 429, 500, 503] {
            let text =
                "user:bob lacks `write` on environment `env:prod` (needed to set; has `read`)";
            let err = refusal(
                status,
                message_of(status, &body(text), SERVER),
                Subject::Secret {
                    scope: "env:prod",
                    name: "x",
                },
            );
            assert!(
                matches!(&err, SecretsError::Server { status: s, message } if *s == status && message == text),
                "{status}: {err:?}"
            );
            assert_eq!(err.to_string(), text);
            assert_eq!(err.is_access_denied(), matches!(status, 401 | 403));
        }
    }

    #[test]
    fn bodies_that_are_not_error_json_are_not_quoted() {
        let message = message_of(502, b"<html>hunter2 Bad Gateway</html>", SERVER);
        assert!(!message.contains("hunter2"), "{message}");
        assert!(
            message.contains("502") && message.contains(SERVER),
            "{message}"
        );
    }

    #[test]
    fn an_import_refusal_lists_its_lines_on_one_line() {
        let body = serde_json::json!({
            "error": "the import has 2 bad entries; nothing was written",
            "errors": ["line 1: bad\nthing", "line 3: worse"],
        });
        let message = message_of(400, &serde_json::to_vec(&body).unwrap(), SERVER);
        assert_eq!(
            message,
            "the import has 2 bad entries; nothing was written: line 1: bad thing; line 3: worse"
        );
    }

    #[test]
    fn long_messages_are_cut() {
        let message = message_of(400, &body(&"x".repeat(5000)), SERVER);
        assert_eq!(message.chars().count(), MAX_MESSAGE + 3);
    }

    #[test]
    fn bad_answers_do_not_quote_the_input() {
        let e = serde_json::from_str::<u32>(r#""hunter2""#).unwrap_err();
        let err = bad_answer(SERVER, "a read", &e);
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
