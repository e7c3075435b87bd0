//! Bounded load: 16 clients × 125 mixed requests (writes, reveals, lists, rotations) on
//! names of their own and names they share, each client on its own keep-alive connection.
//! No 5xx; every acknowledged write reads back; versions go up by exactly one per
//! acknowledged write.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::{Api, DataDir, Req, Rng, client_builder};

const CLIENTS: usize = 16;
const REQUESTS: usize = 125;
const OWN_NAMES: usize = 2;
const SHARED: [&str; 3] = ["shared-0", "shared-1", "shared-2"];
const ENV: &str = "environment=load";

/// What one client saw.
#[derive(Default)]
struct Seen {
    /// Problems, each a line.
    problems: Vec<String>,
    /// Requests answered with a 5xx.
    server_errors: usize,
    /// Own name → (last acknowledged version, its value).
    own: BTreeMap<String, (u64, String)>,
    /// Shared name → acknowledged rotations (version, value).
    shared_writes: Vec<(String, u64, String)>,
    /// Shared name → revealed (version, value).
    shared_reads: Vec<(String, u64, String)>,
    /// Requests sent.
    sent: usize,
}

fn own_name(client: usize, i: usize) -> String {
    format!("c{client:02}-n{i}")
}

#[allow(clippy::too_many_lines)] // one client's whole script
async fn client(api: Api, token: String, id: usize) -> Seen {
    let mut seen = Seen::default();
    for i in 0..OWN_NAMES {
        seen.own
            .insert(own_name(id, i), (1, format!("{}-v1", own_name(id, i))));
    }
    let mut rng = Rng::new(0x5eed_0000 + id as u64);
    let t = Some(token.as_str());
    for step in 0..REQUESTS {
        seen.sent += 1;
        let pick = rng.below(4);
        let shared = rng.below(2) == 0;
        let own = own_name(id, rng.below(OWN_NAMES));
        let name = if shared {
            SHARED[rng.below(SHARED.len())].to_owned()
        } else {
            own.clone()
        };
        let target = if pick == 0 { &own } else { &name };
        let value = format!("{target}-by-c{id}-step{step}");
        let req = match pick {
            // A set of an own name (a shared name is only rotated, whose answer names the
            // version it wrote).
            0 => Req::post(
                format!("/api/v1/secrets?{ENV}"),
                json!({"name": own, "value": value}),
            ),
            1 => Req::post(
                format!("/api/v1/secrets/{name}/rotate?{ENV}"),
                json!({"value": value}),
            ),
            2 => Req::get(format!("/api/v1/secrets/{name}?{ENV}&reveal=true")),
            _ => Req::get(format!("/api/v1/secrets?{ENV}")),
        }
        .bearer(t);
        let reply = match api.try_send(&req).await {
            Ok(reply) => reply,
            Err(e) => {
                seen.problems
                    .push(format!("c{id} step {step}: no answer: {e}"));
                continue;
            }
        };
        if reply.status >= 500 {
            seen.server_errors += 1;
        }
        if !(200..300).contains(&reply.status) {
            seen.problems.push(format!(
                "c{id} step {step} {} {}: {} {:.200}",
                req.method, req.path, reply.status, reply.text
            ));
            continue;
        }
        let body = reply.json();
        match pick {
            0 => {
                let version = body["version"].as_u64().unwrap();
                let last = seen.own.get_mut(&own).unwrap();
                if version != last.0 + 1 {
                    seen.problems.push(format!(
                        "c{id} step {step}: set of {own} answered version {version} after {}",
                        last.0
                    ));
                }
                *last = (version, value);
            }
            1 => {
                let new = body["new_version"].as_u64().unwrap();
                let previous = body["previous_version"].as_u64().unwrap();
                if new != previous + 1 {
                    seen.problems.push(format!(
                        "c{id} step {step}: rotate of {name}: {previous} → {new}"
                    ));
                }
                if shared {
                    seen.shared_writes.push((name, new, value));
                } else {
                    let last = seen.own.get_mut(&name).unwrap();
                    if new != last.0 + 1 || previous != last.0 {
                        seen.problems.push(format!(
                            "c{id} step {step}: rotate of {name} answered {previous} → {new} \
                             after {}",
                            last.0
                        ));
                    }
                    *last = (new, value);
                }
            }
            2 => {
                let version = body["version"].as_u64().unwrap();
                let got = body["value"].as_str().unwrap().to_owned();
                if shared {
                    seen.shared_reads.push((name, version, got));
                } else {
                    let last = &seen.own[&name];
                    if (version, got.as_str()) != (last.0, last.1.as_str()) {
                        seen.problems.push(format!(
                            "c{id} step {step}: {name} read back as version {version} {got:?}, \
                             written as {} {:?}",
                            last.0, last.1
                        ));
                    }
                }
            }
            _ => {
                let listed: BTreeSet<&str> = body
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["name"].as_str().unwrap())
                    .collect();
                for own in seen.own.keys() {
                    if !listed.contains(own.as_str()) {
                        seen.problems
                            .push(format!("c{id} step {step}: the list lacks {own}"));
                    }
                }
            }
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // setup, load, and the checks of every name
async fn mixed_load_loses_no_acknowledged_write() {
    let dir = DataDir::new();
    let root = dir.api_key("root", &["admin"], &[]);
    let writer = dir.api_key("loader", &[], &[]);
    dir.grant("loader", "load", "write");
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let admin = api.token(&root).await;
    let write_token = api.token(&writer).await;
    let a = Some(admin.as_str());
    let mut names: Vec<String> = SHARED.iter().map(|s| (*s).to_owned()).collect();
    for c in 0..CLIENTS {
        for i in 0..OWN_NAMES {
            names.push(own_name(c, i));
        }
    }
    for name in &names {
        api.send(
            &Req::post(
                format!("/api/v1/secrets?{ENV}"),
                json!({"name": name, "value": format!("{name}-v1")}),
            )
            .bearer(a),
        )
        .await
        .expect(201);
    }

    // Every client its own connection pool; half act as admin, half by their grant.
    let mut tasks = Vec::new();
    for id in 0..CLIENTS {
        let api = Api {
            base: api.base.clone(),
            http: client_builder().build().unwrap(),
        };
        let token = if id % 2 == 0 {
            admin.clone()
        } else {
            write_token.clone()
        };
        tasks.push(tokio::spawn(client(api, token, id)));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.push(task.await.unwrap());
    }
    let sent: usize = all.iter().map(|s| s.sent).sum();
    assert_eq!(sent, CLIENTS * REQUESTS);
    let server_errors: usize = all.iter().map(|s| s.server_errors).sum();
    let problems: Vec<&String> = all.iter().flat_map(|s| &s.problems).collect();
    assert_eq!(server_errors, 0, "5xx answers:\n{problems:#?}");
    assert!(
        problems.is_empty(),
        "{} problems:\n{problems:#?}",
        problems.len()
    );

    // Own names: the last acknowledged write is what reads back.
    for seen in &all {
        for (name, (version, value)) in &seen.own {
            let got = api
                .send(&Req::get(format!("/api/v1/secrets/{name}?{ENV}&reveal=true")).bearer(a))
                .await
                .expect(200);
            assert_eq!(
                (
                    got["version"].as_u64().unwrap(),
                    got["value"].as_str().unwrap()
                ),
                (*version, value.as_str()),
                "{name}"
            );
        }
    }

    // Shared names: the acknowledged rotations got the versions 2, 3, ... one each, the
    // current version is the last of them, and every retained version holds the value
    // acknowledged with it (as every reveal during the load did).
    let mut written: BTreeMap<(String, u64), String> = BTreeMap::new();
    for seen in &all {
        for (name, version, value) in &seen.shared_writes {
            let previous = written.insert((name.clone(), *version), value.clone());
            assert!(
                previous.is_none(),
                "{name} version {version} acknowledged twice"
            );
        }
    }
    for name in SHARED {
        let versions: Vec<u64> = written
            .keys()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .collect();
        let expected: Vec<u64> = (2..2 + versions.len() as u64).collect();
        assert_eq!(versions, expected, "{name}: the acknowledged versions");
        let current = api
            .send(&Req::get(format!("/api/v1/secrets/{name}?{ENV}&reveal=true")).bearer(a))
            .await
            .expect(200);
        let last = 1 + versions.len() as u64;
        assert_eq!(current["version"], last, "{name}");
        if let Some(value) = written.get(&(name.to_owned(), last)) {
            assert_eq!(current["value"], value.as_str(), "{name}");
        }
        let history = api
            .send(&Req::get(format!("/api/v1/secrets/{name}/versions?{ENV}")).bearer(a))
            .await
            .expect(200);
        for v in history["versions"].as_array().unwrap() {
            let version = v["version"].as_u64().unwrap();
            let Some(value) = written.get(&(name.to_owned(), version)) else {
                assert_eq!(
                    version, 1,
                    "{name}: version {version} was never acknowledged"
                );
                continue;
            };
            let old = api
                .send(
                    &Req::get(format!("/api/v1/secrets/{name}/versions/{version}?{ENV}")).bearer(a),
                )
                .await
                .expect(200);
            assert_eq!(old["value"], value.as_str(), "{name} version {version}");
        }
    }
    for seen in &all {
        for (name, version, value) in &seen.shared_reads {
            let expected = if *version == 1 {
                format!("{name}-v1")
            } else {
                written
                    .get(&(name.clone(), *version))
                    .unwrap_or_else(|| panic!("{name} read at version {version}, never written"))
                    .clone()
            };
            assert_eq!(
                value, &expected,
                "{name} version {version} as read during the load"
            );
        }
    }
    let (status, stderr) = server.stop();
    assert!(status.success(), "{status}: {stderr}");
}

/// Writers racing on one new name: the one that created it is told 201, the others 200, and
/// each answer names the version its own write made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_writes_of_one_name_each_answer_their_own_version() {
    const RACERS: usize = 8;
    const ROUNDS: usize = 20;
    let dir = DataDir::new();
    let root = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    let admin = api.token(&root).await;
    let mut clients = Vec::new();
    for _ in 0..RACERS {
        let client = Api {
            base: api.base.clone(),
            http: client_builder().build().unwrap(),
        };
        // Each connection open before the race.
        client.send(&Req::get("/health")).await.expect(200);
        clients.push(client);
    }
    let mut problems = Vec::new();
    for round in 0..ROUNDS {
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
        let mut tasks = Vec::new();
        for (i, client) in clients.iter().enumerate() {
            let (client, start, token) = (client.clone(), start.clone(), admin.clone());
            tasks.push(tokio::spawn(async move {
                let req = Req::post(
                    format!("/api/v1/secrets?{ENV}"),
                    json!({"name": format!("race-{round}"), "value": format!("racer-{i}")}),
                )
                .bearer(Some(&token));
                start.wait().await;
                let reply = client.send(&req).await;
                (reply.status, reply.json()["version"].as_u64())
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers.sort_unstable();
        let created = answers.iter().filter(|(s, _)| *s == 201).count();
        let mut versions: Vec<u64> = answers.iter().filter_map(|(_, v)| *v).collect();
        versions.sort_unstable();
        let expected: Vec<u64> = (1..=RACERS as u64).collect();
        if created != 1 || versions != expected {
            problems.push(format!("round {round}: (status, version) {answers:?}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {ROUNDS} rounds answered wrongly (expected one 201 and the versions 1..={RACERS} \
         once each):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
