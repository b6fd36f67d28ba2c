//! A migration that runs outside a transaction (`transaction = false`, or any on a
//! backend whose DDL is not transactional): its mark, its code with no transaction open,
//! its record.

use super::step::{CodeOutcome, record, run_code, settle_condition};
use super::{failed, log_step, progress, step_report};
use crate::backend::calls::{begin, delete_row, rollback};
use crate::backend::{Backend, CodeScope, Freshness, HistoryChange, NewRow, TxMode};
use crate::condition::{RunSoFar, decide};
use crate::error::{Error, MigrationRef, Result};
use crate::migration::BoxError;
use crate::plan::Step;
use crate::report::StepReport;
use crate::settings::Settings;

/// A migration with `transaction = false` (or any, on a backend whose DDL is not
/// transactional): the history marks it started (committed), its code runs with no
/// transaction of the manager's open, then the history marks it done. When it fails or
/// its process dies partway, the mark stays and every later run refuses with
/// [`Error::Incomplete`] until someone has looked. `None` when another process changed
/// the history first.
pub(crate) fn outside_transaction(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    run: RunSoFar<'_>,
) -> Result<Option<StepReport>> {
    let m = step.migration;
    // The condition is decided under the lock before the mark: a skipped migration gets
    // no mark.
    let Some(when) = decide(settings, backend, step, run)? else {
        return Ok(None);
    };
    if begin(backend, m, TxMode::Write)? == Freshness::Stale {
        rollback(backend, m);
        return Ok(None);
    }
    match settle_condition(backend, step, run, &when, false) {
        Ok(None) => {}
        Ok(Some(done)) => {
            if let Err(source) = backend.commit() {
                rollback(backend, m);
                return Err(failed(step, false, source));
            }
            log_step(step, std::slice::from_ref(&done));
            progress(settings, &done);
            return Ok(Some(done));
        }
        Err(error) => {
            rollback(backend, m);
            return Err(error);
        }
    }
    let marked = delete_row(backend, m)
        .and_then(|()| {
            backend.write_history(HistoryChange::Insert(NewRow::started(m, step.direction)))
        })
        .and_then(|()| backend.commit());
    if let Err(source) = marked {
        rollback(backend, m);
        return Err(failed(step, false, source));
    }

    let (outcome, duration) = run_code(settings, backend, step, CodeScope::OutsideTransaction);
    let partway = |source: BoxError| Error::FailedOutsideTransaction {
        migration: MigrationRef::of(m),
        direction: step.direction,
        source,
    };
    match outcome {
        Ok(()) => {}
        Err(CodeOutcome::Error(source)) => return Err(partway(source)),
        Err(CodeOutcome::Panic(message)) => {
            return Err(partway(format!("panicked: {message}").into()));
        }
    }
    // The mark is ours: whatever else changed, finishing it is right.
    begin(backend, m, TxMode::Write)?;
    // The started mark goes; `record` writes the finished row (or none, for a down).
    let finished = backend
        .verify()
        .and_then(|()| delete_row(backend, m))
        .and_then(|()| record(backend, step, duration))
        .and_then(|()| backend.commit());
    if let Err(source) = finished {
        rollback(backend, m);
        return Err(partway(source));
    }
    let done = step_report(step, duration);
    log_step(step, std::slice::from_ref(&done));
    progress(settings, &done);
    Ok(Some(done))
}
