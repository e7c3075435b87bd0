//! `key status` and `key rotate`.

use std::path::Path;

use anyhow::Context as _;
use serde_json::json;
use zlayer_secrets::KeyManager;
use zlayer_secrets::crypto::KeySource;
use zlayer_secrets::sqlite::KeyInfo;

use crate::backend::{KEY_NAME, Pending, database_path, open_local_with_key, store_exists};
use crate::cli::Output;
use crate::output;
use crate::output::note;
use crate::progress::Progress;

/// Short name of a key source, for JSON.
fn source_kind(source: &KeySource) -> &'static str {
    match source {
        KeySource::Env => "env",
        KeySource::Password { .. } => "password",
        KeySource::Generated(_) => "generated",
        // `File` and any later kinds.
        _ => "file",
    }
}

/// `key status`: where the key comes from and what the store records. Creates nothing and
/// changes nothing: an unfinished rotation is reported, not finished.
pub(crate) async fn status(data_dir: &Path, out: Output) -> anyhow::Result<()> {
    let manager = KeyManager::with_base_dir(data_dir);
    let db = database_path(data_dir);
    let pending = manager
        .pending_rotation(KEY_NAME)
        .context("cannot read the pending key file")?
        .map(|r| r.pending_path().display().to_string());
    let mut locked_with_pending = false;
    let (key, store) = if store_exists(&db) {
        let opened = open_local_with_key(data_dir, Pending::Inspect).await?;
        locked_with_pending = opened.locked_with_pending.is_some();
        let info = opened.store.key_info().await?;
        (Some(opened.key), Some(info))
    } else {
        let key = manager
            .find_key(KEY_NAME)
            .context("cannot read the key of the store")?;
        (key, None)
    };
    match out {
        Output::Json => output::json(&json!({
            "data_dir": data_dir.display().to_string(),
            "database": db.display().to_string(),
            "database_exists": store.is_some(),
            "key": key.as_ref().map(|k| json!({
                "source": source_kind(&k.source),
                "description": k.source.to_string(),
                "fingerprint": k.fingerprint(),
                "warnings": k.warnings,
            })),
            "pending_rotation": pending,
            "store_locked_with_pending_key": locked_with_pending,
            "store": store.as_ref().map(|i| json!({
                "fingerprint": i.fingerprint,
                "data_key_generation": i.data_key_generation,
                "store_id": i.store_id,
                "created_at": i.created_at,
                "rekeyed_at": i.rekeyed_at,
                "reencrypted_at": i.reencrypted_at,
                "schema_version": i.schema_version,
            })),
        })),
        Output::Table => {
            let mut rows = vec![
                vec!["data directory".to_owned(), data_dir.display().to_string()],
                vec![
                    "database".to_owned(),
                    if store.is_some() {
                        db.display().to_string()
                    } else {
                        format!("{} (not created yet)", db.display())
                    },
                ],
            ];
            match &key {
                Some(k) => {
                    rows.push(vec!["key source".to_owned(), k.source.to_string()]);
                    rows.push(vec!["key fingerprint".to_owned(), k.fingerprint()]);
                    for w in &k.warnings {
                        rows.push(vec!["warning".to_owned(), w.clone()]);
                    }
                }
                None => rows.push(vec![
                    "key".to_owned(),
                    "none yet (created on the first write)".to_owned(),
                ]),
            }
            if let Some(p) = &pending {
                rows.push(vec!["pending rotation".to_owned(), p.clone()]);
                if locked_with_pending {
                    rows.push(vec![
                        "warning".to_owned(),
                        "the store is locked with the pending key, not the key above: run \
                         `zlayer-secret key rotate` to finish the rotation"
                            .to_owned(),
                    ]);
                }
            }
            if let Some(i) = &store {
                store_rows(i, &mut rows);
            }
            output::table(&["FIELD", "VALUE"], &rows)
        }
    }
}

/// The rows of `key status` about what the store records.
fn store_rows(i: &KeyInfo, rows: &mut Vec<Vec<String>>) {
    rows.push(vec!["store id".to_owned(), i.store_id.clone()]);
    rows.push(vec!["store created".to_owned(), output::time(i.created_at)]);
    rows.push(vec![
        "data key generation".to_owned(),
        i.data_key_generation.to_string(),
    ]);
    rows.push(vec![
        "last re-keyed".to_owned(),
        i.rekeyed_at
            .map_or_else(|| "never".to_owned(), output::time),
    ]);
    rows.push(vec![
        "last re-encrypted".to_owned(),
        i.reencrypted_at
            .map_or_else(|| "never".to_owned(), output::time),
    ]);
    rows.push(vec![
        "schema version".to_owned(),
        i.schema_version.to_string(),
    ]);
}

/// `key rotate`: a new key file, and the store re-protected by it.
///
/// Order (see `KeyManager::begin_rotation`): the new key is written to a pending file, the
/// store is re-keyed in one transaction, then the pending file replaces the key file. A crash
/// at any point leaves a store that opens with the key file or with the pending key. The
/// next `key rotate` finishes it: a store the key file still opens is re-keyed with the
/// pending key (the rotation resumes); one only the pending key opens has the pending file
/// committed first, then is rotated again. Other verbs never finish a rotation.
pub(crate) async fn rotate(data_dir: &Path, reencrypt: bool) -> anyhow::Result<()> {
    let db = database_path(data_dir);
    if !store_exists(&db) {
        anyhow::bail!(
            "there is no store in {} yet: nothing to rotate",
            data_dir.display()
        );
    }
    let opened = open_local_with_key(data_dir, Pending::Finish).await?;
    let (store, old) = (opened.store, opened.key);
    let manager = KeyManager::with_base_dir(data_dir);
    let rotation = manager
        .begin_rotation(KEY_NAME)
        .context("cannot start the key rotation")?;
    if rotation.resumed() {
        note!(
            "note: resuming an interrupted rotation with the key in {}",
            rotation.pending_path().display()
        );
    }
    let new_key = rotation.new_key().clone();
    if reencrypt {
        let progress = Progress::bar(1, "re-encrypting");
        let bar = progress.handle();
        let report = store
            .reencrypt_all_with_progress(new_key, move |done, total| {
                if let Some(bar) = &bar {
                    bar.set_length(total);
                    bar.set_position(done);
                }
            })
            .await;
        progress.finish();
        let report = report.context("cannot re-encrypt the store; the old key still opens it")?;
        note!(
            "re-encrypted {} stored versions under data key generation {}",
            report.versions,
            report.data_key_generation
        );
    } else {
        let progress = Progress::spinner("re-keying the store");
        let result = store.rekey(new_key).await;
        progress.finish();
        result.context("cannot re-key the store; the old key still opens it")?;
    }
    let key_path = rotation.key_path().to_path_buf();
    let new_key = rotation
        .commit()
        .context("the store is locked with the new key, but the key file could not be replaced; run `zlayer-secret key rotate` again to finish this")?;
    note!("replaced the key file {}", key_path.display());
    output::line(&format!(
        "{} → {}",
        old.fingerprint(),
        new_key.fingerprint()
    ))
}
