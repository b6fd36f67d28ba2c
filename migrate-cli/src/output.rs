//! Standard output that survives a closed pipe or a full device: what `out!` and `outln!`
//! write through.

use std::io::Write;
use std::sync::Mutex;

/// The first error writing to standard output, after which nothing more is written.
static STDOUT_ERROR: Mutex<Option<std::io::Error>> = Mutex::new(None);

/// Writes to standard output (what `out!` and `outln!` call). A write that fails (a
/// reader that closed the pipe, a full device) does not panic: the error is kept for
/// [`take_stdout_error`], the command goes on without output, and its end decides the
/// exit code.
pub(crate) fn print(args: std::fmt::Arguments<'_>) {
    let Ok(mut failed) = STDOUT_ERROR.lock() else {
        return;
    };
    if failed.is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_fmt(args).and_then(|()| out.flush()) {
        *failed = Some(error);
    }
}

/// The error that stopped the output, if one did.
pub(crate) fn take_stdout_error() -> Option<std::io::Error> {
    STDOUT_ERROR
        .lock()
        .ok()
        .and_then(|mut failed| failed.take())
}
