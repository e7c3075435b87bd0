//! `run` on a terminal: driven under a pseudo-terminal made here, it runs the program on a
//! pty of its own, so the program sees a terminal, colours pass, values are concealed, the
//! size follows ours and our terminal's modes come back however the program left them.

use std::fs::File;
use std::io::Read as _;
use std::os::fd::OwnedFd;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rustix::fs::{Mode, OFlags};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{LocalModes, Winsize, tcgetattr, tcsetwinsize};

use crate::{Store, kill};

/// A terminal for the test: its master, and its slave as `run`'s stdin, stdout and stderr.
struct Terminal {
    master: OwnedFd,
    slave: OwnedFd,
}

impl Terminal {
    fn open(rows: u16, cols: u16) -> Self {
        let master =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let path = ptsname(&master, Vec::new()).unwrap();
        let slave = rustix::fs::open(
            path.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let term = Self { master, slave };
        term.resize(rows, cols);
        term
    }

    fn resize(&self, rows: u16, cols: u16) {
        tcsetwinsize(
            &self.master,
            Winsize {
                ws_row: rows,
                ws_col: cols,
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();
    }

    /// Starts `run ARGS... -- sh -c SCRIPT` on this terminal; everything it writes arrives
    /// on the returned channel, chunk by chunk, until the terminal's last writer is gone.
    fn start(
        &self,
        s: &Store,
        flags: &[&str],
        script: &str,
        env: &[(&str, &str)],
    ) -> (Child, mpsc::Receiver<Vec<u8>>) {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "sh", "-c", script]);
        let mut cmd = s.command(&args);
        cmd.envs(env.iter().copied())
            .stdin(Stdio::from(self.slave.try_clone().unwrap()))
            .stdout(Stdio::from(self.slave.try_clone().unwrap()))
            .stderr(Stdio::from(self.slave.try_clone().unwrap()));
        let child = cmd.spawn().unwrap();
        drop(cmd);
        let (send, receive) = mpsc::channel();
        let mut master = File::from(self.master.try_clone().unwrap());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match master.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if send.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        (child, receive)
    }
}

/// Collects output until it contains `wanted` (or 20 s pass); all of it so far.
fn until(output: &mpsc::Receiver<Vec<u8>>, seen: &mut Vec<u8>, wanted: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(seen).contains(wanted) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match output.recv_timeout(left) {
            Ok(chunk) => seen.extend_from_slice(&chunk),
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(seen).into_owned()
}

#[test]
fn the_program_sees_a_terminal_colours_pass_and_values_are_concealed() {
    let s = Store::new();
    s.put("pw", "hunter2-secret", &[]);
    let term = Terminal::open(40, 100);
    let script = r#"[ -t 1 ] && echo "stdout-tty"; [ -t 2 ] && echo "stderr-tty" >&2; printf '\033[31m%s\033[0m\n' "$PW"; echo "size $(stty size <&2)"; echo done"#;
    let (mut child, output) = term.start(&s, &[], script, &[("PW", "$S:pw")]);
    let mut seen = Vec::new();
    let text = until(&output, &mut seen, "done");
    assert_eq!(child.wait().unwrap().code(), Some(0), "{text}");
    assert!(text.contains("stdout-tty"), "{text:?}");
    assert!(text.contains("stderr-tty"), "{text:?}");
    assert!(text.contains("\x1b[31m<concealed>\x1b[0m"), "{text:?}");
    assert!(text.contains("size 40 100"), "{text:?}");
    assert!(!text.contains("hunter2"), "{text:?}");

    // Piped output keeps today's behaviour: the program sees a pipe.
    let r = s.run_script(
        &[],
        r#"[ -t 1 ] || echo "stdout-pipe"; printf %s "$PW""#,
        &[("PW", "$S:pw")],
    );
    assert_eq!(r.ok().out(), "stdout-pipe\n<concealed>");
}

#[test]
fn a_resized_terminal_resizes_the_programs_pty() {
    let s = Store::new();
    s.put("pw", "hunter2-secret", &[]);
    let term = Terminal::open(24, 80);
    let script = r#"trap 'echo "resized $(stty size <&2)"; exit 0' WINCH; echo ready; while :; do sleep 0.05; done"#;
    let (mut child, output) = term.start(&s, &[], script, &[("PW", "$S:pw")]);
    let mut seen = Vec::new();
    until(&output, &mut seen, "ready");
    term.resize(50, 132);
    // `run` is no session leader of this terminal: the test delivers SIGWINCH itself.
    assert!(kill("-WINCH", child.id()));
    let text = until(&output, &mut seen, "resized");
    assert!(text.contains("resized 50 132"), "{text:?}");
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn the_terminal_modes_come_back_however_the_program_left_them() {
    let s = Store::new();
    s.put("pw", "hunter2-secret", &[]);
    let term = Terminal::open(24, 80);
    assert!(
        tcgetattr(&term.slave)
            .unwrap()
            .local_modes
            .contains(LocalModes::ECHO)
    );
    // The program turns echo off on the terminal and is killed before it can undo it.
    let script = "stty raw -echo; echo raw; kill -KILL $$";
    let (mut child, output) = term.start(&s, &[], script, &[("PW", "$S:pw")]);
    let mut seen = Vec::new();
    until(&output, &mut seen, "raw");
    assert_eq!(child.wait().unwrap().code(), Some(137));
    let modes = tcgetattr(&term.slave).unwrap();
    assert!(
        modes.local_modes.contains(LocalModes::ECHO),
        "echo stays off"
    );
    assert!(
        modes.local_modes.contains(LocalModes::ICANON),
        "raw mode stays on"
    );
}
