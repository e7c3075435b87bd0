//! Running a program from a test and looking at what it printed.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

/// What one run of a program printed, and how it ended.
#[derive(Debug, Clone)]
pub struct Run {
    /// The exit code; `None` when a signal ended the program.
    pub code: Option<i32>,
    /// Everything it wrote to standard output.
    pub stdout: Vec<u8>,
    /// Everything it wrote to standard error.
    pub stderr: Vec<u8>,
}

impl Run {
    /// Standard output as text (invalid UTF-8 replaced).
    #[must_use]
    pub fn out(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// Standard error as text (invalid UTF-8 replaced).
    #[must_use]
    pub fn err(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Panics, showing both outputs, unless the program exited with `code`.
    // Called for its check; the returned reference only lets a test chain `.out()`.
    #[allow(clippy::must_use_candidate)]
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit code; stdout: {}\nstderr: {}",
            self.out(),
            self.err()
        );
        self
    }

    /// Panics, showing both outputs, unless the program exited with 0.
    // Called for its check, as `code`.
    #[allow(clippy::must_use_candidate)]
    #[track_caller]
    pub fn ok(&self) -> &Self {
        self.code(0)
    }

    /// Panics, showing standard error, unless standard error holds `text`.
    // Called for its check, as `code`.
    #[allow(clippy::must_use_candidate)]
    #[track_caller]
    pub fn err_contains(&self, text: &str) -> &Self {
        let err = self.err();
        assert!(err.contains(text), "stderr lacks {text:?}: {err}");
        self
    }

    /// Panics, showing standard error, if standard error holds `text`.
    // Called for its check, as `code`.
    #[allow(clippy::must_use_candidate)]
    #[track_caller]
    pub fn err_lacks(&self, text: &str) -> &Self {
        let err = self.err();
        assert!(!err.contains(text), "stderr holds {text:?}: {err}");
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Self {
            code: o.status.code(),
            stdout: o.stdout,
            stderr: o.stderr,
        }
    }
}

/// Runs `cmd` to its end with its output captured and `stdin` as its standard input
/// (`None`: no input at all, an immediate end of file).
///
/// The input is written from a thread of its own, so a program that exits (or stops
/// reading) before taking all of it neither blocks the test nor fails it.
#[must_use]
pub fn run_command(mut cmd: Command, stdin: Option<&[u8]>) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", cmd.get_program().display()));
    let writer = stdin.map(|input| {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        })
    });
    let out = child.wait_with_output().unwrap();
    if let Some(writer) = writer {
        writer.join().expect("the stdin writer does not panic");
    }
    out.into()
}
