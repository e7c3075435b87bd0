//! The writer of JSON objects of name/string pairs.

use std::fmt;

use zeroize::Zeroizing;
use zlayer_secrets_core::Secret;

/// Writes a pretty-printed object, keys in the order given, and a final newline.
#[must_use]
pub fn write(entries: &[(String, Secret)]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(
        entries
            .iter()
            .map(|(k, v)| k.len() + v.len() * 2 + 12)
            .sum::<usize>()
            + 4,
    ));
    out.push('{');
    for (i, (key, value)) in entries.iter().enumerate() {
        out.push_str(if i == 0 { "\n  " } else { ",\n  " });
        push_json_string(&mut out, key);
        out.push_str(": ");
        push_json_string(&mut out, value.expose());
    }
    out.push_str(if entries.is_empty() { "}\n" } else { "\n}\n" });
    out
}

/// A JSON string literal, written by hand so that no temporary copy of the value is made.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                use fmt::Write as _;
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
