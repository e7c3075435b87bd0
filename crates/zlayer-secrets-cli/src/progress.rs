//! Progress for long work (large imports, re-encryption), shown only when stderr is a
//! terminal so that logs and pipes stay clean.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A spinner or bar on stderr, or nothing when stderr is not a terminal.
pub(crate) struct Progress(Option<ProgressBar>);

impl Progress {
    /// A spinner with a message, for work of unknown length.
    pub(crate) fn spinner(message: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::new_spinner();
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(Some(bar))
    }

    /// A bar counting up to `total`.
    pub(crate) fn bar(total: u64, message: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self(None);
        }
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_owned());
        Self(Some(bar))
    }

    /// A handle that can update the bar from another thread.
    pub(crate) fn handle(&self) -> Option<ProgressBar> {
        self.0.clone()
    }

    /// Removes the spinner or bar from the terminal.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}
