//! Errors as a program shows them.

/// `error` and each of its sources, joined by `: ` (as `anyhow` shows a chain with `{:#}`).
pub(crate) fn full_message(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
