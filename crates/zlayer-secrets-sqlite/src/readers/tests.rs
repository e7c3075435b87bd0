use zlayer_secrets_core::{SecretsError, StoreProblem};
use zlayer_secrets_crypto::EncryptionKey;

use super::*;
use crate::writer::Writer;

/// A new store's writer and a pool of at most `max` read connections to it.
fn pool(max: usize) -> (tempfile::TempDir, Writer, Readers) {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        read_connections: max,
        ..StoreOptions::default()
    };
    let writer = Writer::open(
        dir.path(),
        EncryptionKey::generate(),
        &options,
        &options.actor,
    )
    .unwrap();
    let readers = Readers::new(writer.path(), &options, Arc::clone(writer.keys()));
    (dir, writer, readers)
}

fn open_count(readers: &Readers) -> usize {
    readers.lock().open
}

fn cache_size(conn: &Connection) -> i64 {
    conn.pragma_query_value(None, "cache_size", |row| row.get(0))
        .unwrap()
}

#[test]
fn connections_are_opened_when_first_needed_and_reused() {
    let (_dir, _writer, readers) = pool(4);
    assert_eq!(open_count(&readers), 0);
    for _ in 0..5 {
        let generation = readers.read(|_, keys| Ok(keys.generation())).unwrap();
        assert_eq!(generation, 1);
    }
    assert_eq!(
        open_count(&readers),
        1,
        "one read at a time needs one connection"
    );
}

#[test]
fn a_full_pool_hands_out_a_returned_connection_and_opens_no_more() {
    let (_dir, _writer, readers) = pool(2);
    let mut first = readers.lease().unwrap();
    let second = readers.lease().unwrap();
    assert_eq!(open_count(&readers), 2);
    // A per-connection setting marks the first connection.
    first
        .conn()
        .pragma_update(None, "cache_size", -1234)
        .unwrap();
    std::thread::scope(|s| {
        let waiter = s.spawn(|| cache_size(readers.lease().unwrap().conn()));
        drop(first);
        assert_eq!(
            waiter.join().unwrap(),
            -1234,
            "got the connection given back"
        );
    });
    drop(second);
    assert_eq!(open_count(&readers), 2);
}

#[test]
fn a_connection_left_in_a_transaction_is_closed_and_its_place_freed() {
    let (_dir, _writer, readers) = pool(1);
    let mut lease = readers.lease().unwrap();
    lease.conn().execute_batch("BEGIN").unwrap();
    lease
        .conn()
        .pragma_update(None, "cache_size", -1234)
        .unwrap();
    drop(lease);
    assert_eq!(open_count(&readers), 0);
    let size = readers.unkeyed(|conn| Ok(cache_size(conn))).unwrap();
    assert_ne!(size, -1234, "a new connection");
    assert_eq!(open_count(&readers), 1);
}

#[test]
fn read_connections_refuse_writes() {
    let (_dir, _writer, readers) = pool(1);
    let err = readers
        .unkeyed(|conn| {
            conn.execute("DELETE FROM store_meta", [])
                .map_err(|e| database("deleting", e))
        })
        .unwrap_err();
    assert!(err.to_string().contains("readonly"), "{err}");
    let generation = readers.read(|_, keys| Ok(keys.generation())).unwrap();
    assert_eq!(generation, 1, "the key record is still there");
}

#[test]
fn a_read_connection_refuses_a_schema_newer_than_this_crate() {
    let (_dir, writer, readers) = pool(1);
    let raw = Connection::open(writer.path()).unwrap();
    raw.pragma_update(None, "user_version", schema::SCHEMA_VERSION + 1)
        .unwrap();
    let err = readers.read(|_, _| Ok(())).unwrap_err();
    assert!(
        matches!(
            err,
            SecretsError::Store {
                problem: StoreProblem::SchemaTooNew { .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        open_count(&readers),
        0,
        "the refused connection's place is free"
    );
}
