//! The audit log in the store's own database: an append-only table of entries chained by
//! MACs under a key derived from the data key, its head and its pruning checkpoint.
//!
//! Each entry's MAC covers its content and its sequence number and the MAC of the entry
//! before it (for the first entry, the checkpoint's, or 32 zero bytes), under the audit key
//! (HMAC-SHA-256 of the store id under the data key, see [`AuditKey`]). The head
//! (`audit_state.head_*`: the last sequence number and MAC, with a tag under the same key) is
//! written in the same transaction as every append, so a removed tail is noticed; the
//! checkpoint (`audit_state.base_*`) stands in for the entries a prune removed. Someone who can
//! write the file but lacks the key can change, remove or reorder entries only by making
//! [`verify`] fail. The format is in `docs/format.md` ("Audit log").

use hmac::{Hmac, Mac};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::Sha256;
use zeroize::Zeroizing;
use zlayer_secrets_core::audit::{
    Actor, AuditAction, AuditDamage, AuditEntry, AuditFilter, AuditOutcome, AuditProblem,
    AuditRecord, AuditVerification, PruneReport,
};
use zlayer_secrets_core::{Result, SecretsError};

use crate::error::database;
use crate::keys::Keys;

type HmacSha256 = Hmac<Sha256>;

/// Length of every MAC of the log.
const MAC_LEN: usize = 32;

/// The MAC "before" the first entry of a log that was never pruned.
const ZERO_MAC: [u8; MAC_LEN] = [0; MAC_LEN];

/// How many rows a re-seal reads at a time.
const PAGE: i64 = 512;

/// The schema step that adds the log (run by `schema.rs`, with keys).
pub(crate) const SCHEMA: &str = "
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY CHECK (seq >= 1),
    at_ms     INTEGER NOT NULL,
    principal TEXT    NOT NULL,
    uid       INTEGER,
    address   TEXT,
    via       TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    scope     TEXT,
    name      TEXT,
    version   INTEGER,
    outcome   TEXT    NOT NULL,
    detail    TEXT,
    mac       BLOB    NOT NULL
) STRICT;

CREATE TABLE audit_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    enabled  INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    head_seq INTEGER NOT NULL,
    head_mac BLOB    NOT NULL,
    head_tag BLOB    NOT NULL,
    base_seq INTEGER NOT NULL,
    base_mac BLOB    NOT NULL,
    base_tag BLOB    NOT NULL
) STRICT;

CREATE TRIGGER audit_log_no_update
BEFORE UPDATE OF seq, at_ms, principal, uid, address, via, action, scope, name, version,
    outcome, detail ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete
BEFORE DELETE ON audit_log
WHEN OLD.seq > (SELECT base_seq FROM audit_state WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only (entries leave it only by pruning)');
END;
";

/// The key of the log's MACs, derived from the data key and the store id.
pub(crate) struct AuditKey(Zeroizing<[u8; MAC_LEN]>);

impl AuditKey {
    /// The audit key of `keys`' data key.
    pub(crate) fn of(keys: &Keys) -> Self {
        let mut mac = new_mac(keys.dek().as_bytes());
        mac.update(b"zlayer-secrets audit key v1\0");
        mac.update(keys.store_id());
        let mut out = Zeroizing::new([0u8; MAC_LEN]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        Self(out)
    }

    fn mac(&self) -> HmacSha256 {
        new_mac(&*self.0)
    }

    /// The MAC of an anchor (`head` or `base`), fed with its sequence number and the MAC it
    /// names.
    fn anchor(&self, which: &[u8], seq: u64, mac: &[u8]) -> HmacSha256 {
        let mut h = self.mac();
        h.update(b"zlayer-secrets audit anchor v1\0");
        h.update(which);
        h.update(&seq.to_be_bytes());
        h.update(mac);
        h
    }

    /// The tag of an anchor.
    fn anchor_tag(&self, which: &[u8], seq: u64, mac: &[u8]) -> Vec<u8> {
        self.anchor(which, seq, mac)
            .finalize()
            .into_bytes()
            .to_vec()
    }

    /// Whether `tag` is the anchor's tag (compared in constant time).
    fn check_anchor(&self, which: &[u8], seq: u64, mac: &[u8], tag: &[u8]) -> bool {
        self.anchor(which, seq, mac).verify_slice(tag).is_ok()
    }

    /// The MAC of `row`, chained to `prev`, not yet finalized.
    fn entry(&self, prev: &[u8], row: &Row) -> HmacSha256 {
        let mut h = self.mac();
        feed_entry(&mut h, prev, row);
        h
    }

    /// The MAC of `row`, chained to `prev`.
    fn entry_mac(&self, prev: &[u8], row: &Row) -> Vec<u8> {
        self.entry(prev, row).finalize().into_bytes().to_vec()
    }

    /// Whether `mac` is the MAC of `row` chained to `prev` (compared in constant time).
    fn check_entry(&self, prev: &[u8], row: &Row, mac: &[u8]) -> bool {
        self.entry(prev, row).verify_slice(mac).is_ok()
    }
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length; this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// Feeds an entry to a MAC: a domain label, the previous MAC, then every field with its
/// presence and length, so no two different entries encode alike.
fn feed_entry(h: &mut HmacSha256, prev: &[u8], row: &Row) {
    h.update(b"zlayer-secrets audit entry v1\0");
    h.update(prev);
    h.update(&row.seq.to_be_bytes());
    h.update(&row.entry.at_ms.to_be_bytes());
    let actor = &row.entry.actor;
    let record = &row.entry.record;
    feed_text(h, Some(&actor.principal));
    feed_int(h, actor.uid.map(i64::from));
    feed_text(h, actor.address.as_deref());
    feed_text(h, Some(&actor.via));
    feed_text(h, Some(record.action.as_str()));
    feed_text(h, record.scope.as_deref());
    feed_text(h, record.name.as_deref());
    feed_int(h, record.version.map(i64::from));
    feed_text(h, Some(record.outcome.as_str()));
    feed_text(h, record.detail.as_deref());
}

fn feed_text(h: &mut HmacSha256, text: Option<&str>) {
    match text {
        None => h.update(&[0]),
        Some(t) => {
            h.update(&[1]);
            h.update(&(t.len() as u64).to_be_bytes());
            h.update(t.as_bytes());
        }
    }
}

fn feed_int(h: &mut HmacSha256, n: Option<i64>) {
    match n {
        None => h.update(&[0]),
        Some(n) => {
            h.update(&[1]);
            h.update(&n.to_be_bytes());
        }
    }
}

/// One entry with its sequence number (the entry's own copy included, for the MAC).
struct Row {
    seq: u64,
    entry: AuditEntry,
}

/// The log's state row.
struct State {
    enabled: bool,
    head_seq: u64,
    head_mac: Vec<u8>,
    head_tag: Vec<u8>,
    base_seq: u64,
    base_mac: Vec<u8>,
    base_tag: Vec<u8>,
}

fn read_state(conn: &Connection) -> Result<State> {
    conn.prepare_cached(
        "SELECT enabled, head_seq, head_mac, head_tag, base_seq, base_mac, base_tag
         FROM audit_state WHERE id = 1",
    )
    .and_then(|mut stmt| {
        stmt.query_row([], |row| {
            Ok(State {
                enabled: row.get(0)?,
                head_seq: row.get(1)?,
                head_mac: row.get(2)?,
                head_tag: row.get(3)?,
                base_seq: row.get(4)?,
                base_mac: row.get(5)?,
                base_tag: row.get(6)?,
            })
        })
        .optional()
    })
    .map_err(|e| database("reading the audit log's state", e))?
    .ok_or_else(|| SecretsError::Database {
        operation: "reading the audit log's state".to_owned(),
        path: None,
        source: "the row of table audit_state is missing (removed outside zlayer-secrets)".into(),
    })
}

/// Creates the state row of a new log (the schema step, inside its transaction).
pub(crate) fn init(conn: &Connection, keys: &Keys) -> Result<()> {
    let key = AuditKey::of(keys);
    let tag = key.anchor_tag(b"head", 0, &ZERO_MAC);
    let base_tag = key.anchor_tag(b"base", 0, &ZERO_MAC);
    conn.execute(
        "INSERT INTO audit_state (id, enabled, head_seq, head_mac, head_tag, base_seq, base_mac,
             base_tag)
         VALUES (1, 1, 0, ?1, ?2, 0, ?1, ?3)",
        params![&ZERO_MAC[..], tag, base_tag],
    )
    .map_err(|e| database("creating the audit log", e))?;
    Ok(())
}

/// The milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// An entry waiting to be appended: when, who, what.
pub(crate) struct Pending {
    pub(crate) at_ms: i64,
    pub(crate) actor: std::sync::Arc<Actor>,
    pub(crate) record: AuditRecord,
}

/// Appends `records` of `actor`, dated now, at the end of the chain, inside `tx`, and moves
/// the head. The caller decides whether auditing is on.
pub(crate) fn append(
    tx: &Connection,
    keys: &Keys,
    actor: &Actor,
    records: Vec<AuditRecord>,
) -> Result<()> {
    let at_ms = now_ms();
    let actor = std::sync::Arc::new(actor.clone());
    append_pending(
        tx,
        keys,
        records.into_iter().map(|record| Pending {
            at_ms,
            actor: std::sync::Arc::clone(&actor),
            record,
        }),
    )
}

/// Appends `entries` in their order at the end of the chain, inside `tx`, and moves the head.
pub(crate) fn append_pending(
    tx: &Connection,
    keys: &Keys,
    entries: impl IntoIterator<Item = Pending>,
) -> Result<()> {
    let mut entries = entries.into_iter().peekable();
    if entries.peek().is_none() {
        return Ok(());
    }
    append_iter(tx, keys, entries)
}

/// [`append_pending`] of copies of `entries`, which stay with the caller (to be queued
/// again if the transaction fails).
pub(crate) fn append_copies(tx: &Connection, keys: &Keys, entries: &[Pending]) -> Result<()> {
    append_pending(
        tx,
        keys,
        entries.iter().map(|p| Pending {
            at_ms: p.at_ms,
            actor: std::sync::Arc::clone(&p.actor),
            record: p.record.clone(),
        }),
    )
}

fn append_iter(tx: &Connection, keys: &Keys, entries: impl Iterator<Item = Pending>) -> Result<()> {
    let key = AuditKey::of(keys);
    let state = read_state(tx)?;
    let mut seq = state.head_seq;
    let mut prev = state.head_mac;
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO audit_log (seq, at_ms, principal, uid, address, via, action, scope,
                 name, version, outcome, detail, mac)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .map_err(|e| database("preparing an audit entry", e))?;
    for pending in entries {
        seq += 1;
        let row = Row {
            seq,
            entry: AuditEntry {
                seq,
                at_ms: pending.at_ms,
                actor: std::sync::Arc::unwrap_or_clone(pending.actor),
                record: pending.record,
            },
        };
        let mac = key.entry_mac(&prev, &row);
        let (a, r) = (&row.entry.actor, &row.entry.record);
        insert
            .execute(params![
                seq,
                row.entry.at_ms,
                a.principal,
                a.uid,
                a.address,
                a.via,
                r.action.as_str(),
                r.scope,
                r.name,
                r.version,
                r.outcome.as_str(),
                r.detail,
                mac,
            ])
            .map_err(|e| database("writing an audit entry", e))?;
        prev = mac;
    }
    set_head(tx, &key, seq, &prev)
}

fn set_head(tx: &Connection, key: &AuditKey, seq: u64, mac: &[u8]) -> Result<()> {
    let tag = key.anchor_tag(b"head", seq, mac);
    tx.prepare_cached(
        "UPDATE audit_state SET head_seq = ?1, head_mac = ?2, head_tag = ?3 WHERE id = 1",
    )
    .and_then(|mut stmt| stmt.execute(params![seq, mac, tag]))
    .map_err(|e| database("moving the audit log's head", e))?;
    Ok(())
}

/// Whether the store's recorded audit setting is on (the setting of the last handle that
/// opened it).
pub(crate) fn recorded_enabled(conn: &Connection) -> Result<bool> {
    Ok(read_state(conn)?.enabled)
}

/// Records that auditing was turned on or off by `actor` (the entry is written whichever
/// way), and stores the new setting, inside `tx`.
pub(crate) fn set_enabled(
    tx: &Connection,
    keys: &Keys,
    actor: &Actor,
    enabled: bool,
) -> Result<()> {
    let action = if enabled {
        AuditAction::AuditEnable
    } else {
        AuditAction::AuditDisable
    };
    append(
        tx,
        keys,
        actor,
        vec![AuditRecord {
            action,
            scope: None,
            name: None,
            version: None,
            outcome: AuditOutcome::Ok,
            detail: None,
        }],
    )?;
    tx.execute(
        "UPDATE audit_state SET enabled = ?1 WHERE id = 1",
        params![enabled],
    )
    .map_err(|e| database("recording the audit setting", e))?;
    Ok(())
}

fn entry_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Row, Vec<u8>)> {
    let seq: u64 = row.get(0)?;
    let text = |i: usize| row.get::<_, String>(i);
    let action: String = text(6)?;
    let outcome: String = text(10)?;
    let bad = |i: usize, what: &str, value: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown audit {what} `{value}`").into(),
        )
    };
    let entry = AuditEntry {
        seq,
        at_ms: row.get(1)?,
        actor: Actor {
            principal: text(2)?,
            uid: row.get(3)?,
            address: row.get(4)?,
            via: text(5)?,
        },
        record: AuditRecord {
            action: action.parse().map_err(|_| bad(6, "action", &action))?,
            scope: row.get(7)?,
            name: row.get(8)?,
            version: row.get(9)?,
            outcome: outcome.parse().map_err(|_| bad(10, "outcome", &outcome))?,
            detail: row.get(11)?,
        },
    };
    Ok((Row { seq, entry }, row.get(12)?))
}

const COLUMNS: &str =
    "seq, at_ms, principal, uid, address, via, action, scope, name, version, outcome, detail, mac";

/// The entries `filter` selects, oldest first (with a limit, the newest that many).
pub(crate) fn entries(conn: &Connection, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    use std::fmt::Write as _;

    use rusqlite::types::Value;

    let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    let mut and_where = |clause: &str, value: Value| {
        args.push(value);
        let _ = write!(sql, " AND {clause} ?{}", args.len());
    };
    if let Some(t) = filter.since_ms {
        and_where("at_ms >=", Value::Integer(t));
    }
    if let Some(t) = filter.until_ms {
        and_where("at_ms <", Value::Integer(t));
    }
    if let Some(s) = &filter.scope {
        and_where("scope =", Value::Text(s.clone()));
    }
    if let Some(n) = &filter.name {
        and_where("name =", Value::Text(n.clone()));
    }
    if let Some(a) = &filter.actor {
        and_where("principal =", Value::Text(a.clone()));
    }
    if let Some(a) = filter.action {
        and_where("action =", Value::Text(a.as_str().to_owned()));
    }
    sql.push_str(" ORDER BY seq DESC");
    if let Some(limit) = filter.limit {
        let _ = write!(sql, " LIMIT {limit}");
    }
    let mut stmt = conn
        .prepare(&sql)
        .map_err(|e| database("preparing to read the audit log", e))?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args), entry_from_row)
        .map_err(|e| database("reading the audit log", e))?;
    let mut out = rows
        .map(|r| r.map(|(row, _)| row.entry))
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| database("reading the audit log", e))?;
    out.reverse();
    Ok(out)
}

/// Walks the chain from the checkpoint to the head: the first entry that was altered,
/// removed or moved. `key` is the key the log should be under.
fn walk(conn: &Connection, key: &AuditKey) -> Result<AuditVerification> {
    let state = read_state(conn)?;
    let first_seq = state.base_seq + 1;
    let fingerprint = |mac: &[u8]| hex::encode(&mac[..mac.len().min(8)]);
    let mut report = AuditVerification {
        entries: 0,
        first_seq,
        last_seq: state.base_seq,
        head: fingerprint(&state.head_mac),
        problem: None,
    };
    let fail = |mut report: AuditVerification, seq: u64, damage: AuditDamage| {
        report.problem = Some(AuditProblem { seq, damage });
        Ok(report)
    };
    if !key.check_anchor(b"base", state.base_seq, &state.base_mac, &state.base_tag) {
        return fail(report, first_seq, AuditDamage::Anchor);
    }
    if !key.check_anchor(b"head", state.head_seq, &state.head_mac, &state.head_tag) {
        return fail(report, state.head_seq.max(first_seq), AuditDamage::Anchor);
    }
    let mut stmt = conn
        .prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))
        .map_err(|e| database("preparing to verify the audit log", e))?;
    let mut rows = stmt
        .query([])
        .map_err(|e| database("verifying the audit log", e))?;
    let mut expected = first_seq;
    let mut prev = state.base_mac.clone();
    while let Some(row) = rows
        .next()
        .map_err(|e| database("verifying the audit log", e))?
    {
        // A field that does not even parse (an action renamed to nonsense) was altered.
        let Ok((row, mac)) = entry_from_row(row) else {
            return fail(report, expected, AuditDamage::Altered);
        };
        if row.seq < expected {
            // A row at or below the checkpoint: put back after a prune.
            return fail(report, row.seq, AuditDamage::Altered);
        }
        if row.seq > expected {
            return fail(report, expected, AuditDamage::Removed);
        }
        if !key.check_entry(&prev, &row, &mac) {
            return fail(report, row.seq, AuditDamage::Altered);
        }
        report.entries += 1;
        report.last_seq = row.seq;
        prev = mac;
        expected += 1;
    }
    if report.last_seq < state.head_seq {
        let seq = report.last_seq + 1;
        return fail(report, seq, AuditDamage::Truncated);
    }
    if report.last_seq > state.head_seq || prev != state.head_mac {
        // Entries beyond the head, or a head that names another chain.
        return fail(report, state.head_seq + 1, AuditDamage::Altered);
    }
    Ok(report)
}

/// Checks the log of `conn` under the key of `keys`.
pub(crate) fn verify(conn: &Connection, keys: &Keys) -> Result<AuditVerification> {
    walk(conn, &AuditKey::of(keys))
}

/// Removes the entries before `before_ms` (the longest prefix of the log recorded before it),
/// leaves a checkpoint for the last one removed, and records the prune as an entry of
/// `actor`; inside `tx`.
pub(crate) fn prune(
    tx: &Connection,
    keys: &Keys,
    before_ms: i64,
    actor: &Actor,
) -> Result<PruneReport> {
    let key = AuditKey::of(keys);
    let found = verify(tx, keys)?;
    let state = read_state(tx)?;
    // The first entry at or after the cut ends the prefix; clocks that went back do not
    // let a prune skip over it.
    let first_kept: Option<u64> = tx
        .query_row(
            "SELECT min(seq) FROM audit_log WHERE at_ms >= ?1",
            params![before_ms],
            |row| row.get(0),
        )
        .map_err(|e| database("finding the entries to prune", e))?;
    let cut = first_kept.map_or(state.head_seq, |s| s.saturating_sub(1));
    let mut report = PruneReport {
        removed: 0,
        checkpoint_seq: state.base_seq,
    };
    if cut > state.base_seq {
        let mac: Option<Vec<u8>> = tx
            .query_row(
                "SELECT mac FROM audit_log WHERE seq = ?1",
                params![cut],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| database("reading the checkpoint entry", e))?;
        let mac = mac.unwrap_or_else(|| ZERO_MAC.to_vec());
        let tag = key.anchor_tag(b"base", cut, &mac);
        tx.execute(
            "UPDATE audit_state SET base_seq = ?1, base_mac = ?2, base_tag = ?3 WHERE id = 1",
            params![cut, mac, tag],
        )
        .map_err(|e| database("writing the audit checkpoint", e))?;
        let removed = tx
            .execute("DELETE FROM audit_log WHERE seq <= ?1", params![cut])
            .map_err(|e| database("pruning the audit log", e))?;
        report = PruneReport {
            removed: removed as u64,
            checkpoint_seq: cut,
        };
    }
    let mut detail = format!(
        "removed {} entries recorded before {before_ms} ms",
        report.removed
    );
    let mut outcome = AuditOutcome::Ok;
    if let Some(problem) = found.problem {
        detail = format!("{detail}; before pruning, {problem}");
        outcome = AuditOutcome::Error;
    }
    append(
        tx,
        keys,
        actor,
        vec![AuditRecord {
            action: AuditAction::AuditPrune,
            scope: None,
            name: None,
            version: None,
            outcome,
            detail: Some(detail),
        }],
    )?;
    Ok(report)
}

/// Re-seals the whole log under the keys `fresh` (a re-encryption replaced the data key),
/// inside `tx`, chaining the entries as they are. What the log looked like under `old` is
/// returned: a problem found there is no longer visible afterwards, so the caller records it.
pub(crate) fn reseal(tx: &Connection, old: &Keys, fresh: &Keys) -> Result<Option<AuditProblem>> {
    let found = verify(tx, old)?;
    let key = AuditKey::of(fresh);
    let state = read_state(tx)?;
    let base_tag = key.anchor_tag(b"base", state.base_seq, &state.base_mac);
    tx.execute(
        "UPDATE audit_state SET base_tag = ?1 WHERE id = 1",
        params![base_tag],
    )
    .map_err(|e| database("re-sealing the audit checkpoint", e))?;
    let mut prev = state.base_mac;
    let mut last_seq = state.base_seq;
    let mut after = 0u64;
    loop {
        let page: Vec<(Row, Vec<u8>)> = {
            let mut stmt = tx
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT {PAGE}"
                ))
                .map_err(|e| database("preparing to re-seal the audit log", e))?;
            stmt.query_map(params![after], entry_from_row)
                .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
                .map_err(|e| database("reading the audit log to re-seal it", e))?
        };
        let Some((tail, _)) = page.last() else { break };
        after = tail.seq;
        let mut update = tx
            .prepare_cached("UPDATE audit_log SET mac = ?1 WHERE seq = ?2")
            .map_err(|e| database("preparing to re-seal the audit log", e))?;
        for (row, _) in &page {
            let mac = key.entry_mac(&prev, row);
            update
                .execute(params![mac, row.seq])
                .map_err(|e| database("re-sealing an audit entry", e))?;
            prev = mac;
            last_seq = row.seq;
        }
    }
    set_head(tx, &key, last_seq, &prev)?;
    Ok(found.problem)
}

#[cfg(test)]
mod tests;
