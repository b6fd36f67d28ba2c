//! Independent migrations at once ([`Migrator::parallel`](crate::Migrator::parallel)):
//! the run's own session takes the migration lock and confirms the plan under it, then
//! sibling sessions ([`Sessions::sibling`](crate::Sessions::sibling)) take the steps
//! as the [`Schedule`] hands them out. Each step keeps its own transaction and history
//! row (or, with `transaction = false`, its incomplete mark), exactly as one at a time;
//! after a failure no new step starts, and those running finish.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::outside::outside_transaction;
use super::schedule::Schedule;
use super::step::in_transaction;
use super::{Mode, failed, outside};
use crate::backend::calls::{begin, rollback};
use crate::backend::{Backend, Capabilities, Freshness, TxMode};
use crate::condition::RunSoFar;
use crate::error::{Error, Result, panic_message};
use crate::history::HistoryRow;
use crate::plan::Step;
use crate::report::{Report, StepReport};
use crate::settings::Settings;

/// Refuses a parallel run this backend or this run cannot have, before anything is
/// read or written.
pub(super) fn refuse_unsupported(
    settings: &Settings,
    backend: &mut dyn Backend,
    mode: Mode,
) -> Result<()> {
    if settings.all_or_nothing && mode == Mode::Commit {
        return Err(Error::ParallelUnsupported {
            reason: "an all-or-nothing run applies its migrations in one transaction, on one \
                     session, so they cannot run at once; choose one of the two"
                .to_owned(),
        });
    }
    match backend.sessions() {
        Ok(_) => Ok(()),
        Err(unsupported) => Err(Error::ParallelUnsupported {
            reason: unsupported.reason().to_owned(),
        }),
    }
}

/// What the workers share.
struct Shared {
    schedule: Schedule,
    /// The steps committed so far, in the order they committed.
    done: Vec<StepReport>,
    /// The first failure; later ones are logged.
    error: Option<Error>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `steps` (all up, with independent ones among them) on sibling sessions.
/// `None` when the history changed before the lock was taken: plan again.
pub(super) fn run(
    settings: &Settings,
    backend: &mut dyn Backend,
    steps: &[Step],
    read: &[HistoryRow],
    capabilities: Capabilities,
) -> Result<Option<Report>> {
    let Some(first) = steps.first().map(|s| s.migration) else {
        return Ok(Some(Report::default()));
    };
    // The plan may have been made on a read from before the lock: take the lock (held
    // until the run ends) and check that nobody wrote since.
    if begin(backend, first, TxMode::Write)? == Freshness::Stale {
        rollback(backend, first);
        return Ok(None);
    }
    let workers = settings.parallel.min(steps.len());
    let mut sessions = Vec::with_capacity(workers);
    for opened in 0..workers {
        let opened_now = match backend.sessions() {
            Ok(sessions) => sessions.sibling(),
            Err(unsupported) => Err(unsupported.into()),
        };
        match opened_now {
            Ok(session) => sessions.push(session),
            Err(source) => {
                // Nothing committed yet: a history table this run created goes too.
                rollback(backend, first);
                // The backend's own error (which says where it connected) is the cause,
                // not the message: this one says why a run wanted another session.
                return Err(Error::Database {
                    action: format!(
                        "open session {} of the {workers} that would run migrations at \
                         once besides this one (the server's max_connections or the role's \
                         connection limit may be reached: ask for fewer with \
                         Migrator::parallel, `--parallel`; nothing was written)",
                        opened + 1
                    ),
                    source,
                });
            }
        }
    }
    // Committed, not rolled back: a history table this transaction created is then there
    // for the sibling sessions, which would otherwise each create it, one blocked on the
    // other's uncommitted table until its lock timeout.
    if let Err(source) = backend.commit() {
        rollback(backend, first);
        return Err(Error::database(
            format!("create the history table before migration {first} runs"),
            source,
        ));
    }
    log::info!(
        "running {} migrations with up to {workers} at once",
        steps.len()
    );
    let shared = Mutex::new(Shared {
        schedule: Schedule::new(steps),
        done: Vec::with_capacity(steps.len()),
        error: None,
    });
    let changed = Condvar::new();
    std::thread::scope(|scope| {
        for mut session in sessions {
            let (shared, changed) = (&shared, &changed);
            scope.spawn(move || {
                work(
                    settings,
                    &mut *session,
                    steps,
                    read,
                    capabilities,
                    shared,
                    changed,
                );
                if let Err(error) = session.end_run() {
                    log::warn!("could not end a sibling session cleanly: {error}");
                }
            });
        }
    });
    let shared = shared.into_inner().unwrap_or_else(PoisonError::into_inner);
    match shared.error {
        Some(error) => Err(error),
        None => Ok(Some(Report { steps: shared.done })),
    }
}

/// One sibling session: takes ready steps until the schedule is over.
fn work(
    settings: &Settings,
    session: &mut dyn Backend,
    steps: &[Step],
    read: &[HistoryRow],
    capabilities: Capabilities,
    shared: &Mutex<Shared>,
    changed: &Condvar,
) {
    loop {
        let (index, done) = {
            let mut state = lock(shared);
            loop {
                if let Some(index) = state.schedule.next() {
                    break (index, state.done.clone());
                }
                if state.schedule.is_over() {
                    changed.notify_all();
                    return;
                }
                state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let step = steps[index];
        let run = RunSoFar { read, done: &done };
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            one(settings, session, step, run, capabilities)
        }))
        .unwrap_or_else(|panic| {
            Err(failed(
                step,
                false,
                format!("panicked: {}", panic_message(&*panic)).into(),
            ))
        });
        let mut state = lock(shared);
        state.schedule.finish(index, outcome.is_ok());
        let stop = outcome.is_err();
        match outcome {
            Ok(report) => state.done.push(report),
            Err(error) if state.error.is_none() => state.error = Some(error),
            Err(error) => log::error!("{error}"),
        }
        changed.notify_all();
        if stop {
            // The session's state after a failure is the backend's to clear (`end_run`).
            return;
        }
    }
}

/// One step on a sibling session, as a run one at a time does it.
fn one(
    settings: &Settings,
    session: &mut dyn Backend,
    step: Step,
    run: RunSoFar<'_>,
    capabilities: Capabilities,
) -> Result<StepReport> {
    let unexpected = || {
        failed(
            step,
            false,
            "a sibling session saw the history change under the run's lock".into(),
        )
    };
    let done = if outside(step, run.read, capabilities) {
        outside_transaction(settings, session, step, run)?
    } else {
        in_transaction(settings, session, step, run)?
    };
    done.ok_or_else(unexpected)
}
