//! A server program run in the background by a test or a benchmark: started, found ready by
//! the line `listening on URL` it prints on standard error, and stopped at the end.
//!
//! [`ServerProcess::start`] spawns the command with its standard error piped and waits for
//! that line; a thread keeps reading standard error afterwards, so the program never blocks
//! on a full pipe and the test can look at everything it printed ([`ServerProcess::stderr`]).
//! Dropping the guard sends SIGTERM and waits (SIGKILL if the program has not ended in
//! [`STOP_GRACE`]), so a failed test leaves no server behind.

use std::io::{BufRead as _, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a program may take to print its `listening on` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long a stopped program may take to end after SIGTERM before it gets SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(30);

/// The start of the line a server prints when it is ready, before its URL.
pub const LISTENING: &str = "listening on ";

/// A program that ended before it was listening: its exit code and standard error.
#[derive(Debug, Clone)]
pub struct NotStarted {
    /// The exit code; `None` when a signal ended it (or it did not end in time).
    pub code: Option<i32>,
    /// Everything it wrote to standard error.
    pub stderr: String,
}

/// A running server program; SIGTERM and a wait when dropped.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
    reader: Option<JoinHandle<()>>,
}

/// Sends `signal` (`-TERM`, `-KILL`, ...) to process `pid` with `kill(1)`; whether it was
/// delivered.
#[must_use]
pub fn send_signal(signal: &str, pid: u32) -> bool {
    Command::new("kill")
        .args([signal, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A loopback port that was free a moment ago (for programs that cannot pick their own).
#[must_use]
pub fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port can be bound");
    listener
        .local_addr()
        .expect("a bound socket has an address")
        .port()
}

/// Waits until `condition` holds, looking every few milliseconds, for at most `timeout`;
/// whether it held. For conditions another process makes true (no event to wait on).
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl ServerProcess {
    /// Starts `cmd` (standard input closed, standard output discarded, standard error
    /// read here) and waits for its `listening on URL` line. Panics, showing what it
    /// printed, if it ends first or prints no such line within [`START_TIMEOUT`].
    #[must_use]
    pub fn start(cmd: Command) -> Self {
        let program = cmd.get_program().to_string_lossy().into_owned();
        Self::try_start(cmd).unwrap_or_else(|e| {
            panic!(
                "{program} did not start listening (exit code {:?}); its stderr:\n{}",
                e.code, e.stderr
            )
        })
    }

    /// As [`start`](Self::start), but a program that ends (or stays silent) before it is
    /// listening is an `Err` with its exit code and standard error: for tests of refusals.
    pub fn try_start(mut cmd: Command) -> Result<Self, NotStarted> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", cmd.get_program().display()));
        let pipe = child.stderr.take().expect("stderr is piped");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel::<String>();
        let text = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.strip_prefix(LISTENING).map(str::trim)
                    && url.contains("://")
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(url.to_owned());
                }
                let mut all = text.lock().unwrap_or_else(PoisonError::into_inner);
                all.push_str(&line);
                all.push('\n');
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => Ok(Self {
                child,
                url,
                stderr,
                reader: Some(reader),
            }),
            Err(e) => {
                if matches!(e, mpsc::RecvTimeoutError::Timeout) {
                    let _ = child.kill();
                }
                let status = child.wait().expect("the child can be waited for");
                let _ = reader.join();
                let text = stderr
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone();
                Err(NotStarted {
                    code: status.code(),
                    stderr: text,
                })
            }
        }
    }

    /// The URL it printed (`http://127.0.0.1:PORT`, `https://...`).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address of [`url`](Self::url).
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url.as_str(), |(_, rest)| rest);
        rest.trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("`{}` does not end in an address: {e}", self.url))
    }

    /// The process id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it has written to standard error so far.
    #[must_use]
    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM without waiting (the guard still waits when dropped or stopped).
    pub fn signal_term(&self) {
        assert!(
            send_signal("-TERM", self.pid()),
            "cannot send SIGTERM to {}",
            self.pid()
        );
    }

    /// Sends SIGTERM and waits for the end (SIGKILL after [`STOP_GRACE`]); the exit status
    /// and everything written to standard error.
    #[must_use]
    pub fn stop(mut self) -> (ExitStatus, String) {
        let status = self.end("-TERM");
        (status, self.finish_stderr())
    }

    /// Kills it with SIGKILL, as a crash would, and waits for the end.
    #[must_use]
    pub fn kill(mut self) -> (ExitStatus, String) {
        let status = self.end("-KILL");
        (status, self.finish_stderr())
    }

    /// Waits for a program already told to stop (see [`signal_term`](Self::signal_term)),
    /// SIGKILL after [`STOP_GRACE`].
    #[must_use]
    pub fn wait(mut self) -> (ExitStatus, String) {
        let status = self.wait_ended();
        (status, self.finish_stderr())
    }

    fn end(&mut self, signal: &str) -> ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        if signal == "-KILL" {
            let _ = self.child.kill();
        } else {
            let _ = send_signal(signal, self.child.id());
        }
        self.wait_ended()
    }

    fn wait_ended(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STOP_GRACE;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                _ => {
                    let _ = self.child.kill();
                    return self.child.wait().expect("the child can be waited for");
                }
            }
        }
    }

    fn finish_stderr(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.stderr()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.end("-TERM");
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
