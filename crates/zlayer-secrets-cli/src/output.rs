//! Writing results: tables and JSON on stdout, times in UTC.

use std::io::Write;

use anyhow::Context as _;

/// Prints a message line on stderr, like `eprintln!` but without panicking when stderr is
/// closed (a pager or `head` that quit): the work is done, and a message nobody can read is
/// no reason to fail.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::output::note_line(&format!($($arg)*))
    };
}
pub(crate) use note;

/// `--quiet`: notes and warnings are not printed, errors are.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns `--quiet` on for the rest of the process.
pub(crate) fn set_quiet() {
    QUIET.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Whether `--quiet` is on.
pub(crate) fn is_quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// Writes one line to stderr, ignoring errors (see [`note!`]); with `--quiet`, only a line
/// that reports an error (`error: ...`).
pub(crate) fn note_line(text: &str) {
    if is_quiet() && !text.starts_with("error:") {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(text.as_bytes())
        .and_then(|()| err.write_all(b"\n"));
}

/// The arrow of `v1 -> v2` on stdout: `→` on a terminal, ASCII `->` for scripts and pipes.
pub(crate) fn arrow() -> &'static str {
    use std::io::IsTerminal as _;
    if std::io::stdout().is_terminal() {
        "→"
    } else {
        "->"
    }
}

/// Writes bytes to stdout and flushes.
pub(crate) fn stdout_bytes(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

/// Writes a line of text to stdout.
pub(crate) fn line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

/// Writes a value as pretty JSON and a newline to stdout.
pub(crate) fn json(value: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot format JSON")?;
    line(&text)
}

/// Writes rows as left-aligned columns under a header.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> anyhow::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut push_row = |cells: &mut dyn Iterator<Item = &str>| {
        let mut first = true;
        let mut row = String::new();
        for (cell, w) in cells.zip(&widths) {
            if !first {
                row.push_str("  ");
            }
            first = false;
            row.push_str(cell);
            row.extend(std::iter::repeat_n(
                ' ',
                w.saturating_sub(cell.chars().count()),
            ));
        }
        text.push_str(row.trim_end());
        text.push('\n');
    };
    push_row(&mut header.iter().copied());
    for row in rows {
        push_row(&mut row.iter().map(String::as_str));
    }
    stdout_bytes(text.as_bytes())
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
        assert_eq!(time(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(time(1_796_000_000), "2026-11-30T00:53:20Z");
        assert_eq!(time(-1), "1969-12-31T23:59:59Z");
    }
}
