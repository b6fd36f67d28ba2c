//! The driver blocks on a runtime of its own, which tokio refuses to start inside another
//! runtime ("Cannot start a runtime from within a runtime"): called from async code, each
//! driver call runs on a short-lived thread of its own instead.

/// Runs `work` here, or, when this thread is inside a tokio runtime, on a scoped thread
/// that is not, and waits for it. A panic in `work` goes on unwinding here.
pub(crate) fn off_runtime<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    std::thread::scope(|scope| match scope.spawn(work).join() {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}
