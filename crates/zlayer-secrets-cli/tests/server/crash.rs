//! A crash during writes: SIGKILL while clients write, a restart on the same data
//! directory, and every acknowledged write is there, in a database SQLite finds sound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::sync::Notify;

use crate::{Api, DataDir, Req, client_builder};

const WRITERS: usize = 4;
/// Writes of one name (a set, then rotations) before a writer moves to the next name; fewer
/// than the ten versions a secret keeps, so every acknowledged version stays readable.
const WRITES_PER_NAME: u64 = 5;
/// Acknowledged writes (all writers) before the kill.
const BEFORE_KILL: usize = 120;
const ENV: &str = "environment=crash";

/// A writer's acknowledged writes: (name, version, value).
type Acked = Vec<(String, u64, String)>;

/// The count of acknowledged writes of all writers, and who waits for it to reach
/// [`BEFORE_KILL`].
#[derive(Default)]
struct Progress {
    acked: AtomicUsize,
    enough: Notify,
}

async fn writer(api: Api, token: String, id: usize, progress: Arc<Progress>) -> Acked {
    let mut acked = Vec::new();
    let t = Some(token.as_str());
    for n in 0.. {
        let name = format!("w{id}-{n:04}");
        for version in 1..=WRITES_PER_NAME {
            let value = format!("{name}-v{version}");
            let req = if version == 1 {
                Req::post(
                    format!("/api/v1/secrets?{ENV}"),
                    json!({"name": name, "value": value}),
                )
            } else {
                Req::post(
                    format!("/api/v1/secrets/{name}/rotate?{ENV}"),
                    json!({"value": value}),
                )
            };
            // After the kill the request fails (no answer): the writer is done.
            let Ok(reply) = api.try_send(&req.bearer(t)).await else {
                return acked;
            };
            assert!(
                (200..300).contains(&reply.status),
                "w{id}: {} {:.200}",
                reply.status,
                reply.text
            );
            let body = reply.json();
            let got = body["version"]
                .as_u64()
                .or_else(|| body["new_version"].as_u64())
                .unwrap();
            assert_eq!(got, version, "w{id}: {name}");
            acked.push((name.clone(), version, value));
            if progress.acked.fetch_add(1, Ordering::Relaxed) + 1 == BEFORE_KILL {
                progress.enough.notify_one();
            }
        }
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_sigkill() {
    let dir = DataDir::new();
    let root = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let token = api.token(&root).await;

    let progress = Arc::new(Progress::default());
    let mut tasks = Vec::new();
    for id in 0..WRITERS {
        let api = Api {
            base: api.base.clone(),
            http: client_builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        tasks.push(tokio::spawn(writer(
            api,
            token.clone(),
            id,
            progress.clone(),
        )));
    }
    tokio::time::timeout(Duration::from_secs(120), progress.enough.notified())
        .await
        .expect("the writers acknowledged enough writes");
    assert!(
        tasks.iter().all(|t| !t.is_finished()),
        "a writer stopped before the kill"
    );
    // Killed in the middle of the writers' requests.
    let (status, _) = tokio::task::spawn_blocking(move || server.kill())
        .await
        .unwrap();
    assert!(!status.success());
    let mut acked = Vec::new();
    for task in tasks {
        acked.extend(task.await.unwrap());
    }
    assert!(acked.len() >= BEFORE_KILL);

    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let token = api.token(&root).await;
    let t = Some(token.as_str());
    let mut missing = Vec::new();
    for (name, version, value) in &acked {
        let meta = api
            .send(&Req::get(format!("/api/v1/secrets/{name}?{ENV}")).bearer(t))
            .await;
        if meta.status != 200 {
            missing.push(format!("{name}: {} {}", meta.status, meta.text));
            continue;
        }
        let current = meta.json()["version"].as_u64().unwrap();
        if current < *version {
            missing.push(format!("{name}: version {current}, acknowledged {version}"));
        }
        let old = api
            .send(&Req::get(format!("/api/v1/secrets/{name}/versions/{version}?{ENV}")).bearer(t))
            .await;
        if old.status != 200 || old.json()["value"] != value.as_str() {
            missing.push(format!(
                "{name} version {version}: {} {:.200}",
                old.status, old.text
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost:\n{}",
        missing.len(),
        acked.len(),
        missing.join("\n")
    );
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}: {stderr}");

    let db = rusqlite::Connection::open(dir.database()).unwrap();
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
