//! `audit`, `audit verify` and `audit prune`: the audit log of the local store (or, for
//! `audit` and `audit verify` with `--server`, of the server's store), and the TIME syntax of
//! their options ([`parse_time`]).
//!
//! The log is the store's own (`zlayer-secrets-sqlite`): entries name who did what to which
//! secret and how it ended, never a value. A data directory without a store lists nothing
//! and verifies as empty; none of these verbs creates a store.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::bail;
use zlayer_secrets::PersistentSecretsStore;
use zlayer_secrets::audit::{Actor, AuditEntry, AuditFilter, AuditLog as _, AuditVerification};

use crate::backend::{Location, Remote, local_error, local_store};
use crate::cli::Output;
use crate::output::{self, note};

/// The column headers of the `audit` table.
const COLUMNS: [&str; 9] = [
    "SEQ", "TIME", "ACTOR", "ACTION", "SCOPE", "NAME", "VERSION", "OUTCOME", "DETAIL",
];

/// What a TIME may be, for error messages.
const TIME_SYNTAX: &str = "write an RFC 3339 time (2026-12-01T10:00:00Z), a date \
                           (2026-12-01, midnight UTC) or an age (90s, 15m, 1h, 7d)";

/// `audit`: prints the entries `filter` selects, oldest first.
pub(crate) async fn list(
    location: &Location,
    remote: Option<&Remote>,
    filter: &AuditFilter,
    out: Output,
) -> anyhow::Result<()> {
    let entries = if let Some(remote) = remote {
        remote.connect().await?.audit_entries(filter).await?
    } else {
        match open(location, "audit").await? {
            Some(store) => store.entries(filter).await.map_err(local_error)?,
            None => Vec::new(),
        }
    };
    match out {
        Output::Json => output::json(&serde_json::to_value(&entries)?),
        Output::Table => {
            if entries.is_empty() {
                note!("no audit entries");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = entries.iter().map(row).collect();
            output::table(&COLUMNS, &rows)
        }
    }
}

/// One row of the `audit` table.
fn row(entry: &AuditEntry) -> Vec<String> {
    let record = &entry.record;
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    vec![
        entry.seq.to_string(),
        output::time(entry.at_ms.div_euclid(1000)),
        entry.actor.to_string(),
        record.action.to_string(),
        text(&record.scope),
        text(&record.name),
        record.version.map(|v| format!("v{v}")).unwrap_or_default(),
        record.outcome.to_string(),
        text(&record.detail),
    ]
}

/// `audit verify`: 0 when the chain is intact, 1 (and the first bad entry on stderr) when
/// not.
pub(crate) async fn verify(
    location: &Location,
    remote: Option<&Remote>,
    out: Output,
) -> anyhow::Result<u8> {
    let local = if remote.is_some() {
        None
    } else {
        open(location, "audit verify").await?
    };
    let report = match (remote, local) {
        (Some(remote), _) => remote.connect().await?.audit_verify().await?,
        (None, Some(store)) => store.verify().await.map_err(local_error)?,
        (None, None) => AuditVerification {
            entries: 0,
            first_seq: 1,
            last_seq: 0,
            head: String::new(),
            problem: None,
        },
    };
    match out {
        Output::Json => output::json(&serde_json::to_value(&report)?)?,
        Output::Table if report.is_intact() => output::line(&intact(&report))?,
        Output::Table => {}
    }
    Ok(match report.problem {
        None => 0,
        Some(problem) => {
            note!("audit log damaged: {problem}");
            1
        }
    })
}

/// The line `audit verify` prints for an intact log.
fn intact(report: &AuditVerification) -> String {
    if report.entries == 0 {
        return "audit log intact: empty".to_owned();
    }
    format!(
        "audit log intact: entries {}..{} ({} {}), head {}",
        report.first_seq,
        report.last_seq,
        report.entries,
        if report.entries == 1 {
            "entry"
        } else {
            "entries"
        },
        report.head
    )
}

/// `audit prune --before TIME`: removes the entries recorded before `before_ms` and prints
/// how many, and the checkpoint left in their place.
pub(crate) async fn prune(location: &Location, before_ms: i64) -> anyhow::Result<()> {
    let Some(store) = open(location, "audit prune").await? else {
        return output::line("removed 0 entries");
    };
    let report = store
        .prune(before_ms, &Actor::os_user("audit prune"))
        .await
        .map_err(local_error)?;
    let plural = if report.removed == 1 { "y" } else { "ies" };
    if report.checkpoint_seq == 0 {
        output::line(&format!("removed {} entr{plural}", report.removed))
    } else {
        output::line(&format!(
            "removed {} entr{plural}; the log now starts after the checkpoint at entry {}",
            report.removed, report.checkpoint_seq
        ))
    }
}

/// The local store of `location` without creating one, for `verb`; `None` when the data
/// directory has no store yet. Vault keeps no log of ours.
async fn open(location: &Location, verb: &str) -> anyhow::Result<Option<PersistentSecretsStore>> {
    let dir: &Path = match location {
        Location::Local(dir) => dir,
        Location::Vault => bail!(
            "`{verb}` does not apply to the Vault backend: Vault and OpenBao keep their own \
             audit devices (e.g. `bao audit enable file file_path=/var/log/bao-audit.log`)"
        ),
    };
    let store = local_store(dir).open_read().await.map_err(local_error)?;
    if store.is_none() {
        note!(
            "note: there is no store in {} yet; its audit log is empty",
            dir.display()
        );
    }
    Ok(store)
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Parses a TIME of the `audit` verbs into milliseconds since the Unix epoch: an RFC 3339
/// time (`2026-12-01T10:00:00Z`, `2026-12-01T11:00:00.5+01:00`), a date (`2026-12-01`,
/// midnight UTC), or an age meaning that long before `now_ms` (`90s`, `15m`, `1h`, `7d`, as
/// `serve --token-lifetime` takes them).
pub(crate) fn parse_time(text: &str, now_ms: i64) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("the time is empty: {TIME_SYNTAX}"));
    }
    if !text.contains(['-', ':', 'T', 't']) {
        let age = super::serve::parse_duration(text).map_err(|e| format!("{e}: {TIME_SYNTAX}"))?;
        let age_ms = i64::try_from(age.as_millis()).unwrap_or(i64::MAX);
        return Ok(now_ms.saturating_sub(age_ms));
    }
    parse_rfc3339(text)
        .ok_or_else(|| format!("`{}` is not a time: {TIME_SYNTAX}", text.escape_debug()))
}

/// `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS[.FRACTION](Z|+HH:MM|-HH:MM)`.
fn parse_rfc3339(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let date = bytes.get(..10)?;
    let (year, month, day) = (
        digits(&date[0..4])?,
        digits(&date[5..7])?,
        digits(&date[8..10])?,
    );
    if date[4] != b'-' || date[7] != b'-' || !(1..=12).contains(&month) {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let rest = &bytes[10..];
    if rest.is_empty() {
        return days.checked_mul(86_400_000);
    }
    let (&sep, rest) = rest.split_first()?;
    if !matches!(sep, b'T' | b't' | b' ') || rest.len() < 8 || rest[2] != b':' || rest[5] != b':' {
        return None;
    }
    let (hour, minute, second) = (
        digits(&rest[0..2])?,
        digits(&rest[3..5])?,
        digits(&rest[6..8])?,
    );
    // 60: a leap second, as RFC 3339 allows.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &rest[8..];
    let mut millis = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        // Milliseconds: the first three digits, padded; further digits are dropped.
        let mut scaled = fraction[..n.min(3)].to_vec();
        scaled.resize(3, b'0');
        millis = digits(&scaled)?;
        rest = &fraction[n..];
    }
    let offset_minutes = match rest {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    seconds.checked_mul(1000)?.checked_add(millis)
}

/// The number written by `bytes`, all ASCII digits.
fn digits(bytes: &[u8]) -> Option<i64> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

/// The days of `month` (1 to 12) of `year`, in the proleptic Gregorian calendar.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm, the inverse
/// of the one `output::time` uses).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000_000;

    #[test]
    fn rfc3339_times_and_dates() {
        for (text, ms) in [
            ("1970-01-01", 0),
            ("1970-01-01T00:00:00Z", 0),
            ("2000-02-29", 951_782_400_000),
            ("2026-11-30T00:53:20Z", 1_796_000_000_000),
            ("2026-11-30t00:53:20z", 1_796_000_000_000),
            ("2026-11-30 00:53:20Z", 1_796_000_000_000),
            ("2026-11-30T01:53:20+01:00", 1_796_000_000_000),
            ("2026-11-29T23:23:20-01:30", 1_796_000_000_000),
            ("2026-11-30T00:53:20.5Z", 1_796_000_000_500),
            ("2026-11-30T00:53:20.123456Z", 1_796_000_000_123),
            ("1969-12-31T23:59:59Z", -1000),
            ("  2026-12-01  ", 1_796_083_200_000),
        ] {
            assert_eq!(parse_time(text, NOW), Ok(ms), "{text}");
        }
    }

    #[test]
    fn dates_agree_with_the_printed_times() {
        for seconds in [
            0,
            951_782_400,
            1_796_000_000,
            -1,
            4_102_444_800,
            -62_135_596_800,
        ] {
            let printed = output::time(seconds);
            assert_eq!(parse_time(&printed, NOW), Ok(seconds * 1000), "{printed}");
        }
    }

    #[test]
    fn ages_count_back_from_now() {
        for (text, ago_ms) in [
            ("90s", 90_000),
            ("90", 90_000),
            ("15m", 900_000),
            ("1h", 3_600_000),
            ("7d", 604_800_000),
        ] {
            assert_eq!(parse_time(text, NOW), Ok(NOW - ago_ms), "{text}");
        }
    }

    #[test]
    fn bad_times_are_refused_with_the_syntax() {
        for bad in [
            "",
            "yesterday",
            "1w",
            "0s",
            "-5m",
            "2026-13-01",
            "2026-02-30",
            "2025-02-29",
            "2026-12-1",
            "2026/12/01",
            "2026-12-01T10:00Z",
            "2026-12-01T10:00:00",
            "2026-12-01T24:00:00Z",
            "2026-12-01T10:60:00Z",
            "2026-12-01T10:00:00.Z",
            "2026-12-01T10:00:00+0100",
            "2026-12-01T10:00:00+24:00",
            "2026-12-01T10:00:00ZZ",
            "2026-12-01X",
            "é026-12-01",
            "2026-12-01T10:00:00Zé",
        ] {
            let err = parse_time(bad, NOW).unwrap_err();
            assert!(
                err.contains("RFC 3339") && err.contains("7d"),
                "{bad}: {err}"
            );
        }
    }
}
