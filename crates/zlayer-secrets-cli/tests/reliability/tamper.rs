//! A tampered database: flipped bytes in every position of every ciphertext, ciphertexts
//! swapped between secrets and between versions, a deleted key record, a truncated file.
//! Every read of a touched secret fails with a clear error, untouched secrets still read, and
//! nothing panics or returns a wrong value.

use std::path::Path;

use rusqlite::{Connection, params};
use zlayer_secrets::{
    EncryptionKey, PersistentSecretsStore, Secret, SecretsError, SecretsProvider, SecretsStore,
    VersionedSecretsStore,
};

use crate::{Rng, cli, run, runtime, seed};

/// Scope of the tampered secrets (`--env tamper` on the command line).
const SCOPE: &str = "env:tamper";
const SECRETS: usize = 100;

/// One stored version of a secret, as SQLite holds it.
#[derive(Debug, Clone)]
struct Row {
    secret_id: i64,
    version: u32,
    ciphertext: Vec<u8>,
}

fn value_of(i: usize, version: u32) -> String {
    // Lengths from 6 to 105 bytes, so ciphertexts differ in length too.
    format!("v{version}-{i:03}-{}", "x".repeat(i))
}

fn rows(conn: &Connection) -> Vec<Row> {
    let mut stmt = conn
        .prepare(
            "SELECT s.id, v.version, v.ciphertext FROM secrets s \
             JOIN secret_versions v ON v.secret_id = s.id ORDER BY s.name, v.version",
        )
        .unwrap();
    stmt.query_map([], |r| {
        Ok(Row {
            secret_id: r.get(0)?,
            version: r.get(1)?,
            ciphertext: r.get(2)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

fn write_ciphertext(conn: &Connection, row: &Row, ciphertext: &[u8]) {
    conn.execute(
        "UPDATE secret_versions SET ciphertext = ?1 WHERE secret_id = ?2 AND version = ?3",
        params![ciphertext, row.secret_id, row.version],
    )
    .unwrap();
}

/// A store of 100 secrets with two versions each; returns the key and the expected values.
async fn populate(db: &Path) -> (EncryptionKey, Vec<[String; 2]>) {
    let key = EncryptionKey::generate();
    let store = PersistentSecretsStore::open(db, key.clone()).await.unwrap();
    let mut values = Vec::new();
    for i in 0..SECRETS {
        let name = format!("s{i:03}");
        let v = [value_of(i, 1), value_of(i, 2)];
        for value in &v {
            store
                .set_secret(SCOPE, &name, &Secret::new(value.clone()))
                .await
                .unwrap();
        }
        values.push(v);
    }
    (key, values)
}

/// [`populate`]s a store at `db` and opens it again: the store, the values written, and a
/// raw connection to its file.
async fn open_populated(db: &Path) -> (PersistentSecretsStore, Vec<[String; 2]>, Connection) {
    let (key, values) = populate(db).await;
    let store = PersistentSecretsStore::open(db, key).await.unwrap();
    let conn = Connection::open(db).unwrap();
    (store, values, conn)
}

/// Reads version `version` of secret `i` and checks the outcome: the stored value if
/// `intact`, else a decryption error that does not echo any value.
async fn expect_read(
    store: &PersistentSecretsStore,
    values: &[[String; 2]],
    i: usize,
    version: u32,
    intact: bool,
) {
    let name = format!("s{i:03}");
    let got = if version == 2 {
        store.get_secret(SCOPE, &name).await
    } else {
        store.get_secret_version(SCOPE, &name, version).await
    };
    let want = &values[i][usize::try_from(version).unwrap() - 1];
    match got {
        Ok(secret) => {
            assert!(intact, "{name} v{version}: a tampered ciphertext decrypted");
            assert_eq!(secret.expose(), want, "{name} v{version}");
        }
        Err(e) => {
            assert!(!intact, "{name} v{version}: an untouched secret fails: {e}");
            assert!(
                matches!(e, SecretsError::Decryption(_)),
                "{name} v{version}: {e:?}"
            );
            let text = e.to_string();
            assert!(
                !text.contains(want.as_str()),
                "the error shows the value: {text}"
            );
        }
    }
}

#[test]
fn every_flipped_byte_is_detected() {
    let seed = seed("tamper");
    let mut rng = Rng::new(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secrets.sqlite");
    let rt = runtime();
    rt.block_on(async {
        let (store, values, conn) = open_populated(&db).await;
        let original = rows(&conn);
        assert_eq!(original.len(), 2 * SECRETS);
        let longest = original.iter().map(|r| r.ciphertext.len()).max().unwrap();
        let mut flipped = 0usize;
        let mut reads = 0usize;
        for pos in 0..longest {
            // One secret (both versions) stays untouched in each pass.
            let spared = pos % SECRETS;
            let mask = u8::try_from(rng.below(255) + 1).unwrap();
            let tx = conn.unchecked_transaction().unwrap();
            let mut touched = [[false; 2]; SECRETS];
            for (idx, row) in original.iter().enumerate() {
                let i = idx / 2;
                if i == spared || pos >= row.ciphertext.len() {
                    continue;
                }
                let mut c = row.ciphertext.clone();
                c[pos] ^= mask;
                write_ciphertext(&tx, row, &c);
                touched[i][usize::try_from(row.version).unwrap() - 1] = true;
                flipped += 1;
            }
            tx.commit().unwrap();
            for (i, t) in touched.iter().enumerate() {
                for version in [1, 2] {
                    expect_read(&store, &values, i, version, !t[usize::try_from(version).unwrap() - 1]).await;
                    reads += 1;
                }
            }
            let tx = conn.unchecked_transaction().unwrap();
            for row in &original {
                write_ciphertext(&tx, row, &row.ciphertext);
            }
            tx.commit().unwrap();
        }
        // Restored: everything reads again.
        for i in 0..SECRETS {
            expect_read(&store, &values, i, 1, true).await;
            expect_read(&store, &values, i, 2, true).await;
        }
        eprintln!(
            "tamper: {flipped} bytes flipped over {longest} positions of {} ciphertexts, {reads} reads",
            original.len()
        );
    });
}

#[test]
fn swapped_ciphertexts_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secrets.sqlite");
    let rt = runtime();
    rt.block_on(async {
        let (store, values, conn) = open_populated(&db).await;
        let r = rows(&conn);
        // Rows are ordered by name then version: r[2i] is v1 and r[2i + 1] is v2 of s{i}.
        // Between secrets (same version): s000 <-> s001, current versions.
        write_ciphertext(&conn, &r[1], &r[3].ciphertext);
        write_ciphertext(&conn, &r[3], &r[1].ciphertext);
        // Between versions of one secret: s002 v1 <-> v2.
        write_ciphertext(&conn, &r[4], &r[5].ciphertext);
        write_ciphertext(&conn, &r[5], &r[4].ciphertext);
        // A copy: s003's current ciphertext also as s004's.
        write_ciphertext(&conn, &r[9], &r[7].ciphertext);
        let touched = [(0, 2), (1, 2), (2, 1), (2, 2), (4, 2)];
        for i in 0..SECRETS {
            for version in [1, 2] {
                let intact = !touched.contains(&(i, version));
                expect_read(&store, &values, i, version, intact).await;
            }
        }
        // Listing needs no decryption and still works.
        assert_eq!(store.list_secrets(SCOPE).await.unwrap().len(), SECRETS);
    });
}

/// A deleted key record: the open store keeps its unwrapped data key, but no process can open
/// the store again, with a clear error; the command line says so too.
#[test]
fn a_deleted_key_record_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("secrets.sqlite");
    let rt = runtime();
    let key = rt.block_on(async {
        let (key, _) = populate(&db).await;
        key
    });
    let conn = Connection::open(&db).unwrap();
    assert_eq!(conn.execute("DELETE FROM store_meta", []).unwrap(), 1);
    drop(conn);
    rt.block_on(async {
        let e = PersistentSecretsStore::open(&db, key.clone())
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(!matches!(e, SecretsError::WrongKey { .. }), "{e:?}");
        assert!(
            text.contains("key record") || text.contains("store_meta"),
            "{text}"
        );
    });
    let r = run({
        let mut c = cli(&data, &[("ZLAYER_SECRETS_KEY", key.to_hex().as_str())]);
        c.args(["get", "s001", "--reveal", "--env", "tamper"]);
        c
    });
    assert_eq!(r.code, Some(1), "{}", r.err());
    assert!(
        r.err().contains(&format!(
            "the secrets store {} has lost its key record but holds 200 encrypted values; \
             refusing",
            db.display()
        )),
        "{}",
        r.err()
    );
    assert!(r.stdout.is_empty());
}

/// A flipped byte through the command line: the tampered secret fails with exit code 1 and a
/// message naming it, its neighbour still reads.
#[test]
fn the_command_line_reports_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join("secrets.sqlite");
    let rt = runtime();
    let (key, values) = rt.block_on(populate(&db));
    let conn = Connection::open(&db).unwrap();
    let r = rows(&conn);
    let mut c = r[11].ciphertext.clone(); // s005 v2
    c[30] ^= 0x40;
    write_ciphertext(&conn, &r[11], &c);
    drop(conn);
    let key_hex = key.to_hex();
    let get = |name: &str| {
        let mut c = cli(&data, &[("ZLAYER_SECRETS_KEY", key_hex.as_str())]);
        c.args(["get", name, "--reveal", "--env", "tamper"]);
        run(c)
    };
    let bad = get("s005");
    assert_eq!(bad.code, Some(1), "{}", bad.err());
    assert!(bad.stdout.is_empty());
    bad.err_contains("s005").err_contains("decrypt");
    get("s006").ok();
    assert_eq!(get("s006").out(), values[6][1]);
    // An export touches every secret: it fails as a whole and prints no value.
    let mut c = cli(&data, &[("ZLAYER_SECRETS_KEY", key_hex.as_str())]);
    c.args(["export", "--format", "json", "--env", "tamper"]);
    let export = run(c);
    assert_eq!(export.code, Some(1), "{}", export.err());
    assert!(export.stdout.is_empty(), "a failed export printed values");
}

/// A truncated database file: opening fails with an error, or reads fail; no read returns a
/// wrong value and nothing panics.
#[test]
fn a_truncated_database_never_yields_a_wrong_value() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("secrets.sqlite");
    let rt = runtime();
    let (key, values) = rt.block_on(populate(&db));
    // Everything in the main file, none in the WAL.
    let conn = Connection::open(&db).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    let full = std::fs::read(&db).unwrap();
    let mut outcomes = Vec::new();
    for len in [full.len() / 2, full.len() - 1, 8192, 4096, 100, 0] {
        let case = dir.path().join(format!("t{len}"));
        std::fs::create_dir(&case).unwrap();
        let path = case.join("secrets.sqlite");
        std::fs::write(&path, &full[..len]).unwrap();
        let outcome = rt.block_on(async {
            let store = match PersistentSecretsStore::open(&path, key.clone()).await {
                Ok(store) => store,
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    return format!("{len} bytes: open fails: {e}");
                }
            };
            let (mut ok, mut failed) = (0, 0);
            for (i, v) in values.iter().enumerate() {
                match store.get_secret(SCOPE, &format!("s{i:03}")).await {
                    Ok(s) => {
                        assert_eq!(s.expose(), v[1], "{len} bytes: s{i:03}");
                        ok += 1;
                    }
                    Err(_) => failed += 1,
                }
            }
            format!("{len} bytes: opens, {ok} reads succeed, {failed} fail")
        });
        outcomes.push(outcome);
    }
    eprintln!("truncation: {outcomes:#?}");
    // A store cut short is never silently taken for a healthy one with different content.
    assert!(outcomes[0].contains("fails"), "{}", outcomes[0]);
}
