//! `key status` and `key rotate`.

use std::path::Path;

use serde_json::json;
use zlayer_secrets::crypto::KeySource;
use zlayer_secrets::sqlite::KeyInfo;

use crate::backend::{local_error, local_store, print_notice};
use crate::cli::Output;
use crate::output;
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
    let status = local_store(data_dir)
        .key_status()
        .await
        .map_err(local_error)?;
    let db = &status.database;
    let key = &status.key;
    let store = &status.store;
    let pending = status
        .pending_rotation
        .as_ref()
        .map(|p| p.display().to_string());
    let locked_with_pending = status.locked_with_pending_key;
    match out {
        Output::Json => output::json(&json!({
            "data_dir": data_dir.display().to_string(),
            "database": db.display().to_string(),
            "database_exists": store.is_some(),
            "key": key.as_ref().map(|k| json!({
                "source": source_kind(&k.source),
                "description": k.source.to_string(),
                "fingerprint": k.fingerprint,
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
                    rows.push(vec!["key fingerprint".to_owned(), k.fingerprint.clone()]);
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

/// `key rotate`: a new key file, and the store re-protected by it (see
/// [`LocalStore::rotate_key`](zlayer_secrets::LocalStore::rotate_key), which also finishes
/// an interrupted rotation). Other verbs never finish a rotation.
pub(crate) async fn rotate(data_dir: &Path, reencrypt: bool) -> anyhow::Result<()> {
    let progress = if reencrypt {
        Progress::bar(1, "re-encrypting")
    } else {
        Progress::spinner("re-keying the store")
    };
    let (bar, notice_bar) = (progress.handle(), progress.handle());
    // Notes go above the progress display, not through it.
    let local = local_store(data_dir).on_notice(move |notice| match &notice_bar {
        Some(bar) => bar.suspend(|| print_notice(notice)),
        None => print_notice(notice),
    });
    let rotated = local
        .rotate_key_with_progress(reencrypt, move |done, total| {
            if let Some(bar) = &bar {
                bar.set_length(total);
                bar.set_position(done);
            }
        })
        .await;
    progress.finish();
    let rotated = rotated.map_err(local_error)?;
    output::line(&format!(
        "{} {} {}",
        rotated.old_fingerprint,
        output::arrow(),
        rotated.new_fingerprint
    ))
}
