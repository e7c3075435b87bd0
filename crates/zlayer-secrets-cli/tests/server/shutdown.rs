//! Graceful shutdown: a request in flight when SIGTERM arrives is answered in full, then the
//! server exits with 0.
//!
//! The request is a bulk import of 16 MiB sent by hand over a socket: half of the body, then
//! a wait until the server has read all of it (its side of the connection holds no unread
//! bytes, ours none unsent, as `/proc/net/tcp` shows), so the request is certainly inside its
//! handler; then SIGTERM, then the rest of the body.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpSocket;
use zlayer_secrets_testsupport::server::wait_until;

use crate::{Api, DataDir, Req};

const ENTRIES: usize = 4_000;
const VALUE_LEN: usize = 4_000;
/// What is sent before SIGTERM: more than the server buffers before its handler reads.
const BEFORE_SIGNAL: usize = 2 * 1024 * 1024;

/// The send and receive queues (`tx_queue`, `rx_queue`) of the IPv4 TCP socket from
/// `local` to `remote`, as `/proc/net/tcp` shows them.
fn queues(local: u16, remote: u16) -> Option<(u64, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let port = |address: &str| {
        address
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok())
    };
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 5 || port(fields[1]) != Some(local) || port(fields[2]) != Some(remote) {
            return None;
        }
        let (tx, rx) = fields[4].split_once(':')?;
        Some((
            u64::from_str_radix(tx, 16).ok()?,
            u64::from_str_radix(rx, 16).ok()?,
        ))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_flight_at_sigterm_completes() {
    let dir = DataDir::new();
    let root = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let token = Api::new(&server).token(&root).await;

    let mut body = String::with_capacity(ENTRIES * (VALUE_LEN + 16));
    for i in 0..ENTRIES {
        let letter = char::from(b'a' + u8::try_from(i % 26).unwrap());
        let _ = writeln!(body, "K{i:05}={}", letter.to_string().repeat(VALUE_LEN));
    }
    let addr = server.addr();
    let head = format!(
        "POST /api/v1/secrets/bulk-import?environment=prod HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_send_buffer_size(64 * 1024).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let ours = stream.local_addr().unwrap().port();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&body.as_bytes()[..BEFORE_SIGNAL])
        .await
        .unwrap();
    let read_it_all = tokio::task::spawn_blocking(move || {
        wait_until(Duration::from_secs(60), || {
            let sent = queues(ours, addr.port()).is_some_and(|(tx, _)| tx == 0);
            let read = queues(addr.port(), ours).is_some_and(|(_, rx)| rx == 0);
            sent && read
        })
    })
    .await
    .unwrap();
    assert!(
        read_it_all,
        "the server did not read the first half of the body"
    );

    server.signal_term();
    stream
        .write_all(&body.as_bytes()[BEFORE_SIGNAL..])
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), stream.read_to_end(&mut answer))
        .await
        .expect("the answer came")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer:.500}");
    let (_, json) = answer.split_once("\r\n\r\n").unwrap();
    let counts: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(counts["created"], ENTRIES, "{counts}");

    let (status, stderr) = server.wait();
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    let imported = dir
        .rows()
        .iter()
        .filter(|(scope, ..)| scope == "env:prod")
        .count();
    assert_eq!(imported, ENTRIES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_idle_connections_exits_zero() {
    let dir = DataDir::new();
    let root = dir.api_key("root", &["admin"], &[]);
    let server = dir.serve(&[]);
    let api = Api::new(&server);
    // A keep-alive connection left open in the client's pool.
    let token = api.token(&root).await;
    api.send(&Req::get("/api/v1/whoami").bearer(Some(&token)))
        .await
        .expect(200);
    let (status, stderr) = tokio::task::spawn_blocking(move || server.stop())
        .await
        .unwrap();
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
    // Nothing listens any more.
    assert!(api.try_send(&Req::get("/health")).await.is_err());
}
