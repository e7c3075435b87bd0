//! A pseudo-terminal for a child's output ([`OutputPty`]), and the modes of our own
//! terminal, put back however the child ends ([`TerminalModes`]). Unix only.
//!
//! When our stdout is a terminal, `zlayer-secret run` gives the child the slave side of a
//! pty as its stdout (and as its stderr when ours is a terminal too) and copies what it
//! writes from the master side through the masking filter to the real terminal. The child
//! then sees a terminal (`isatty`, colours, line-by-line flushing), and its output is still
//! masked. Its stdin stays the real terminal, so line editing, job control and Ctrl-C work
//! as without `run`. The pty is sized like the real terminal and follows it
//! ([`PtyResizer::follow`]); its output processing is off, so the bytes the child writes
//! reach the masking filter as written (a value with a newline is still recognised) and
//! the real terminal does the processing once.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use rustix::fs::{Mode, OFlags};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{
    OptionalActions, OutputModes, Termios, tcgetattr, tcgetwinsize, tcsetattr, tcsetwinsize,
};
use tokio::io::{AsyncRead, ReadBuf};

/// A new pseudo-terminal: the slave for the child's output, the master for us to read.
#[derive(Debug)]
pub struct OutputPty {
    master: OwnedFd,
    slave: OwnedFd,
}

impl OutputPty {
    /// Opens a pty sized like `terminal` (if it is one), with output processing off.
    pub fn open(terminal: impl AsFd) -> io::Result<Self> {
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let path = ptsname(&master, Vec::new())?;
        let slave = rustix::fs::open(
            path.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let mut modes = tcgetattr(&slave)?;
        modes.output_modes.remove(OutputModes::OPOST);
        tcsetattr(&slave, OptionalActions::Now, &modes)?;
        if let Ok(size) = tcgetwinsize(terminal) {
            tcsetwinsize(&master, size)?;
        }
        Ok(Self { master, slave })
    }

    /// A handle to the slave side, for one of the child's standard streams.
    pub fn slave(&self) -> io::Result<OwnedFd> {
        self.slave.try_clone()
    }

    /// Closes our handle to the slave side (the child holds its own: the master reads the
    /// end of the output once the child and whatever it started close theirs) and splits
    /// the master into a reader of the output and a handle to resize the pty.
    pub fn into_parts(self) -> io::Result<(PtyReader, PtyResizer)> {
        let Self { master, slave } = self;
        drop(slave);
        let resizer = PtyResizer {
            master: master.try_clone()?,
        };
        let reader = PtyReader {
            file: tokio::fs::File::from_std(File::from(master)),
        };
        Ok((reader, resizer))
    }
}

/// What the child writes to its pty, as an [`AsyncRead`]. The end of the output (every
/// slave handle closed, which Linux reports as `EIO`) reads as the end of the stream.
#[derive(Debug)]
pub struct PtyReader {
    file: tokio::fs::File,
}

impl AsyncRead for PtyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.file).poll_read(cx, buf) {
            Poll::Ready(Err(e))
                if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) =>
            {
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

/// Resizes an [`OutputPty`] after the terminal it mirrors.
#[derive(Debug)]
pub struct PtyResizer {
    master: OwnedFd,
}

impl PtyResizer {
    /// Gives the pty the size of `terminal` (nothing if that is no terminal).
    pub fn follow(&self, terminal: impl AsFd) -> io::Result<()> {
        match tcgetwinsize(terminal) {
            Ok(size) => tcsetwinsize(&self.master, size).map_err(io::Error::from),
            Err(_) => Ok(()),
        }
    }
}

/// The modes of a terminal, saved now and put back when this is dropped: whatever a child
/// did to the terminal (raw mode, no echo) and however it ended, the terminal is as it was.
#[derive(Debug)]
pub struct TerminalModes {
    terminal: OwnedFd,
    saved: Termios,
}

impl TerminalModes {
    /// Saves the modes of `terminal`; `None` if it is no terminal.
    pub fn save(terminal: impl AsFd) -> Option<Self> {
        let terminal = terminal.as_fd().try_clone_to_owned().ok()?;
        let saved = tcgetattr(&terminal).ok()?;
        Some(Self { terminal, saved })
    }

    /// Puts the saved modes back now (also done on drop).
    pub fn restore(&self) {
        if let Err(e) = tcsetattr(&self.terminal, OptionalActions::Now, &self.saved) {
            tracing::debug!(error = %e, "could not restore the terminal's modes");
        }
    }
}

impl Drop for TerminalModes {
    fn drop(&mut self) {
        self.restore();
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use tokio::io::AsyncReadExt as _;

    use super::*;

    #[tokio::test]
    async fn what_the_slave_gets_the_master_reads_unprocessed_until_the_end() {
        let pty = OutputPty::open(std::io::stdout()).unwrap();
        let mut slave = File::from(pty.slave().unwrap());
        assert!(rustix::termios::isatty(&slave));
        let (mut reader, resizer) = pty.into_parts().unwrap();
        resizer.follow(std::io::stdout()).unwrap();
        slave
            .write_all(b"line one\nsecret\n\x1b[31mred\x1b[0m")
            .unwrap();
        drop(slave);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        // No `\r` added: output processing is off.
        assert_eq!(out, b"line one\nsecret\n\x1b[31mred\x1b[0m");
    }
}
