//! What the command prints, worded for the command line: errors, the status table,
//! progress lines, the history document, and files as the user knows them.

pub(crate) mod error;
pub(crate) mod history_doc;
pub(crate) mod path;
pub(crate) mod progress;
pub(crate) mod status;

use std::time::Duration;

/// A duration as `0.4 ms`.
pub(crate) fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}
