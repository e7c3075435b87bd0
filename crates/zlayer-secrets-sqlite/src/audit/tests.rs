use rusqlite::Connection;
use zlayer_secrets_core::audit::{Actor, AuditAction, AuditDamage, AuditOutcome, AuditRecord};
use zlayer_secrets_crypto::EncryptionKey;

use super::*;
use crate::schema;

fn store() -> (Connection, Keys) {
    let mut conn = Connection::open_in_memory().unwrap();
    schema::migrate(&mut conn, None).unwrap();
    let mut keys = Keys::load_or_init(&mut conn, EncryptionKey::generate()).unwrap();
    schema::migrate(&mut conn, Some(&mut keys)).unwrap();
    (conn, keys)
}

fn alice() -> Actor {
    Actor {
        principal: "alice".into(),
        uid: Some(1000),
        address: None,
        via: "get".into(),
    }
}

fn reveal(name: &str) -> AuditRecord {
    AuditRecord::new(AuditAction::Reveal, "prod", name, AuditOutcome::Ok).with_version(Some(1))
}

/// Appends `n` entries, one transaction each.
fn fill(conn: &Connection, keys: &Keys, n: usize) {
    for i in 0..n {
        append(conn, keys, &alice(), vec![reveal(&format!("s{i}"))]).unwrap();
    }
}

fn unlock(conn: &Connection) {
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
}

fn problem(conn: &Connection, keys: &Keys) -> Option<AuditProblem> {
    verify(conn, keys).unwrap().problem
}

#[test]
fn an_untouched_log_verifies() {
    let (conn, keys) = store();
    let empty = verify(&conn, &keys).unwrap();
    assert!(empty.is_intact());
    assert_eq!((empty.entries, empty.first_seq, empty.last_seq), (0, 1, 0));
    fill(&conn, &keys, 5);
    append(&conn, &keys, &alice(), vec![reveal("a"), reveal("b")]).unwrap();
    let report = verify(&conn, &keys).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.entries, report.last_seq), (7, 7));
    let all = entries(&conn, &AuditFilter::default()).unwrap();
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=7).collect::<Vec<_>>()
    );
    assert_eq!(all[6].record.name.as_deref(), Some("b"));
}

#[test]
fn the_table_refuses_edits_and_deletes() {
    let (conn, keys) = store();
    fill(&conn, &keys, 2);
    let err = conn
        .execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 1", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("append-only"), "{err}");
    let err = conn
        .execute("DELETE FROM audit_log WHERE seq = 2", [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("append-only"), "{err}");
}

#[test]
fn a_changed_field_is_found() {
    let (conn, keys) = store();
    fill(&conn, &keys, 5);
    unlock(&conn);
    conn.execute(
        "UPDATE audit_log SET principal = 'mallory' WHERE seq = 3",
        [],
    )
    .unwrap();
    assert_eq!(
        problem(&conn, &keys),
        Some(AuditProblem {
            seq: 3,
            damage: AuditDamage::Altered
        })
    );
}

#[test]
fn a_nonsense_action_is_an_alteration() {
    let (conn, keys) = store();
    fill(&conn, &keys, 3);
    unlock(&conn);
    conn.execute("UPDATE audit_log SET action = 'peek' WHERE seq = 2", [])
        .unwrap();
    assert_eq!(
        problem(&conn, &keys),
        Some(AuditProblem {
            seq: 2,
            damage: AuditDamage::Altered
        })
    );
}

#[test]
fn a_removed_row_is_found() {
    let (conn, keys) = store();
    fill(&conn, &keys, 5);
    unlock(&conn);
    conn.execute("DELETE FROM audit_log WHERE seq = 2", [])
        .unwrap();
    assert_eq!(
        problem(&conn, &keys),
        Some(AuditProblem {
            seq: 2,
            damage: AuditDamage::Removed
        })
    );
}

#[test]
fn swapped_rows_are_found() {
    let (conn, keys) = store();
    fill(&conn, &keys, 5);
    unlock(&conn);
    conn.execute_batch(
        "UPDATE audit_log SET seq = 100 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 4;
         UPDATE audit_log SET seq = 4 WHERE seq = 100;",
    )
    .unwrap();
    assert_eq!(
        problem(&conn, &keys),
        Some(AuditProblem {
            seq: 2,
            damage: AuditDamage::Altered
        })
    );
}

#[test]
fn a_truncated_tail_is_found() {
    let (conn, keys) = store();
    fill(&conn, &keys, 5);
    unlock(&conn);
    conn.execute("DELETE FROM audit_log WHERE seq >= 4", [])
        .unwrap();
    assert_eq!(
        problem(&conn, &keys),
        Some(AuditProblem {
            seq: 4,
            damage: AuditDamage::Truncated
        })
    );
    // Moving the head back by hand does not help without the key.
    conn.execute(
        "UPDATE audit_state SET head_seq = 3, head_mac = (SELECT mac FROM audit_log WHERE seq = 3)",
        [],
    )
    .unwrap();
    assert_eq!(
        problem(&conn, &keys).map(|p| p.damage),
        Some(AuditDamage::Anchor)
    );
}

#[test]
fn another_key_does_not_verify() {
    let (conn, keys) = store();
    fill(&conn, &keys, 2);
    let (_, other) = store();
    assert_eq!(
        problem(&conn, &other).map(|p| p.damage),
        Some(AuditDamage::Anchor)
    );
}

#[test]
fn prune_leaves_a_checkpoint_that_verifies() {
    let (conn, keys) = store();
    fill(&conn, &keys, 4);
    let cut = now_ms() + 1;
    std::thread::sleep(std::time::Duration::from_millis(3));
    fill(&conn, &keys, 2);
    let report = prune(&conn, &keys, cut, &alice()).unwrap();
    assert_eq!(
        report,
        PruneReport {
            removed: 4,
            checkpoint_seq: 4
        }
    );
    let after = verify(&conn, &keys).unwrap();
    assert!(after.is_intact(), "{after:?}");
    assert_eq!((after.first_seq, after.last_seq, after.entries), (5, 7, 3));
    let last = entries(&conn, &AuditFilter::default())
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(last.record.action, AuditAction::AuditPrune);
    assert_eq!(last.record.outcome, AuditOutcome::Ok);
    // A pruned row put back is noticed.
    unlock(&conn);
    conn.execute(
        "INSERT INTO audit_log SELECT 1, at_ms, principal, uid, address, via, action, scope,
             name, version, outcome, detail, mac FROM audit_log WHERE seq = 5",
        [],
    )
    .unwrap();
    assert_eq!(
        problem(&conn, &keys),
        Some(AuditProblem {
            seq: 1,
            damage: AuditDamage::Altered
        })
    );
}

#[test]
fn a_prune_of_nothing_changes_nothing_but_is_recorded() {
    let (conn, keys) = store();
    fill(&conn, &keys, 2);
    let report = prune(&conn, &keys, 0, &alice()).unwrap();
    assert_eq!(
        report,
        PruneReport {
            removed: 0,
            checkpoint_seq: 0
        }
    );
    let after = verify(&conn, &keys).unwrap();
    assert!(after.is_intact());
    assert_eq!(after.entries, 3);
}

#[test]
fn reseal_moves_the_chain_to_a_new_key() {
    let (conn, keys) = store();
    fill(&conn, &keys, 3);
    let fresh = keys.with_new_data_key_for_tests();
    assert_eq!(reseal(&conn, &keys, &fresh).unwrap(), None);
    assert!(verify(&conn, &fresh).unwrap().is_intact());
    assert!(!verify(&conn, &keys).unwrap().is_intact());
}

#[test]
fn filters_select_entries() {
    let (conn, keys) = store();
    fill(&conn, &keys, 3);
    let bob = Actor {
        principal: "bob".into(),
        ..alice()
    };
    append(
        &conn,
        &keys,
        &bob,
        vec![AuditRecord::new(
            AuditAction::Set,
            "dev",
            "x",
            AuditOutcome::Ok,
        )],
    )
    .unwrap();
    let by_bob = entries(
        &conn,
        &AuditFilter {
            actor: Some("bob".into()),
            ..AuditFilter::default()
        },
    )
    .unwrap();
    assert_eq!(by_bob.len(), 1);
    assert_eq!(by_bob[0].seq, 4);
    let sets = entries(
        &conn,
        &AuditFilter {
            action: Some(AuditAction::Set),
            scope: Some("dev".into()),
            ..AuditFilter::default()
        },
    )
    .unwrap();
    assert_eq!(sets.len(), 1);
    let newest_two = entries(
        &conn,
        &AuditFilter {
            limit: Some(2),
            ..AuditFilter::default()
        },
    )
    .unwrap();
    assert_eq!(
        newest_two.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![3, 4]
    );
    let named = entries(
        &conn,
        &AuditFilter {
            name: Some("s1".into()),
            ..AuditFilter::default()
        },
    )
    .unwrap();
    assert_eq!(named.len(), 1);
}
