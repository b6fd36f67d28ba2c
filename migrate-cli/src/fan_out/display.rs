//! The progress of a fan-out, as it happens: on a terminal, one progress bar on standard
//! error (targets done of all, with the failed count, rate, ETA and the targets in
//! flight) and each failure above it; a line per target on standard output when that is
//! a file or a pipe (or there is no bar).

use std::fmt::Write as _;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How many targets in flight the bar names before `…`.
const SHOWN_IN_FLIGHT: usize = 3;

/// The progress of a fan-out, as it happens.
pub(crate) struct FanOutDisplay {
    bar: Option<ProgressBar>,
    lines: bool,
    in_flight: Vec<String>,
    failed: usize,
}

impl FanOutDisplay {
    /// A bar when standard error is a terminal; a line per target on standard output
    /// when that is not one (or there is no bar), unless the output is JSON.
    pub(crate) fn new(total: usize, json: bool) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(u64::try_from(total).unwrap_or(u64::MAX)),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = ProgressStyle::with_template(
                "{wide_bar} {pos}/{len} databases {msg} {per_sec} ETA {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        // Standard output sent to a file or a pipe gets a line per database, bar or not.
        let lines = !json && (bar.is_none() || !std::io::stdout().is_terminal());
        FanOutDisplay {
            lines,
            bar,
            in_flight: Vec::new(),
            failed: 0,
        }
    }

    pub(crate) fn started(&mut self, name: &str) {
        self.in_flight.push(name.to_owned());
        self.refresh();
    }

    /// A target is done: `line` says how; a failure is shown above the bar too.
    pub(crate) fn finished(&mut self, name: &str, line: &str, failed: bool) {
        if let Some(i) = self.in_flight.iter().position(|n| n == name) {
            self.in_flight.swap_remove(i);
        }
        if failed {
            self.failed += 1;
        }
        if let Some(bar) = &self.bar {
            if failed {
                bar.println(line);
            }
            bar.inc(1);
            self.refresh();
        }
        if self.lines {
            outln!("{line}");
        }
    }

    fn refresh(&self) {
        let Some(bar) = &self.bar else {
            return;
        };
        let mut message = String::new();
        if self.failed > 0 {
            let _ = write!(message, "({} failed) ", self.failed);
        }
        if !self.in_flight.is_empty() {
            message.push_str("· ");
            message
                .push_str(&self.in_flight[..self.in_flight.len().min(SHOWN_IN_FLIGHT)].join(", "));
            if self.in_flight.len() > SHOWN_IN_FLIGHT {
                message.push_str(", …");
            }
            message.push_str(" ·");
        }
        bar.set_message(message);
    }

    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
