//! One step in its own transaction: its condition first (read-only), then in the write
//! transaction the history writes that need no code, the code and its record, the commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use core::time::Duration;

use super::{failed, log_step, progress, step_report};
use crate::backend::calls::{begin, delete_row, rollback};
use crate::backend::{Backend, CodeScope, Freshness, HistoryChange, NewRow, TxMode};
use crate::condition::{RunSoFar, decide};
use crate::error::{Error, MigrationRef, Result, panic_message};
use crate::migration::BoxError;
use crate::plan::{Direction, Step};
use crate::registry::condition::When;
use crate::report::StepReport;
use crate::settings::Settings;

/// One step in its own transaction: its condition first (read-only), then its code and
/// its record, committed. `None` when the history changed since it was read.
pub(crate) fn in_transaction(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    run: RunSoFar<'_>,
) -> Result<Option<StepReport>> {
    let Some(when) = decide(settings, backend, step, run)? else {
        return Ok(None);
    };
    if begin(backend, step.migration, TxMode::Write)? == Freshness::Stale {
        rollback(backend, step.migration);
        return Ok(None);
    }
    let done =
        settle_condition(backend, step, run, &when, false).and_then(|skipped| match skipped {
            Some(done) => Ok(done),
            None => run_and_record(settings, backend, step, false),
        });
    commit_step(settings, backend, step, done).map(Some)
}

/// Commits the step's transaction when `done` is a success, and reports it; otherwise
/// (or when the commit fails) rolls it back.
pub(crate) fn commit_step(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    done: Result<StepReport>,
) -> Result<StepReport> {
    let done = done.and_then(|done| {
        backend
            .commit()
            .map(|()| done)
            .map_err(|source| failed(step, false, source))
    });
    match done {
        Ok(done) => {
            log_step(step, std::slice::from_ref(&done));
            progress(settings, &done);
            Ok(done)
        }
        Err(error) => {
            rollback(backend, step.migration);
            Err(error)
        }
    }
}

/// Runs the hooks and the migration's code, checks what it left (not in a batch, which
/// checks once at its end) and records it, in the transaction that is open.
pub(crate) fn run_and_record(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    batch: bool,
) -> Result<StepReport> {
    let (outcome, duration) = run_code(settings, backend, step, CodeScope::InTransaction);
    match outcome {
        Ok(()) => {}
        Err(CodeOutcome::Error(source)) => return Err(failed(step, batch, source)),
        Err(CodeOutcome::Panic(message)) => {
            let m = step.migration;
            return Err(Error::MigrationPanicked {
                migration: MigrationRef::of(m),
                direction: step.direction,
                batch,
                message,
            });
        }
    }
    let checked = if batch { Ok(()) } else { backend.verify() };
    checked
        .and_then(|()| record(backend, step, duration))
        .map_err(|source| failed(step, batch, source))?;
    Ok(step_report(step, duration))
}

/// How a migration's code (with its hooks) did not succeed.
pub(crate) enum CodeOutcome {
    Error(BoxError),
    Panic(String),
}

/// The backend's [`Backend::prepare_code`], the `before_each` hook, `up` or `down`, and
/// the `after_each` hook, with panics caught.
pub(crate) fn run_code(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    scope: CodeScope,
) -> (core::result::Result<(), CodeOutcome>, Duration) {
    let m = step.migration;
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(
        || -> core::result::Result<(), BoxError> {
            backend.prepare_code(m, scope)?;
            if let Some(hook) = &settings.before {
                hook(&step, backend.db())?;
            }
            match step.direction {
                Direction::Up => m.run_up(backend.db())?,
                Direction::Down => m.run_down(backend.db())?,
            }
            if let Some(hook) = &settings.after {
                hook(&step, backend.db())?;
            }
            Ok(())
        },
    ));
    let duration = start.elapsed();
    let outcome = match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(CodeOutcome::Error(error)),
        Err(panic) => Err(CodeOutcome::Panic(panic_message(&*panic))),
    };
    (outcome, duration)
}

/// Records the step in the history: its row for a step up, none for a step down.
pub(crate) fn record(
    backend: &mut dyn Backend,
    step: Step,
    duration: Duration,
) -> Result<(), BoxError> {
    let m = step.migration;
    match step.direction {
        Direction::Up => backend.write_history(HistoryChange::Insert(NewRow::applied(m, duration))),
        Direction::Down => backend.write_history(HistoryChange::Delete {
            set: m.set(),
            version: m.version(),
        }),
    }
}

/// In the step's open transaction, before its code, what its condition's verdict `when`
/// and its skipped row ask: a step down past a skipped migration removes the row; a step
/// up removes a skipped row the migration had, and records it as skipped again when
/// `when` says so. `Some(report)` when the step is done without code.
pub(crate) fn settle_condition(
    backend: &mut dyn Backend,
    step: Step,
    run: RunSoFar<'_>,
    when: &When,
    batch: bool,
) -> Result<Option<StepReport>> {
    let m = step.migration;
    let skipped_row = run.skipped_row(m.version());
    match step.direction {
        Direction::Down => {
            let Some(reason) = skipped_row else {
                return Ok(None);
            };
            delete_row(backend, m).map_err(|source| failed(step, batch, source))?;
            Ok(Some(step_report(step, Duration::ZERO).with_skipped(reason)))
        }
        Direction::Up => {
            if skipped_row.is_some() {
                delete_row(backend, m).map_err(|source| failed(step, batch, source))?;
            }
            match when {
                When::Run => Ok(None),
                When::Skip(reason) => {
                    backend
                        .write_history(HistoryChange::Insert(NewRow::skipped(m, reason)))
                        .map_err(|source| failed(step, batch, source))?;
                    log::info!("skipped migration {m}: {reason}");
                    Ok(Some(
                        step_report(step, Duration::ZERO).with_skipped(reason.clone()),
                    ))
                }
            }
        }
    }
}
