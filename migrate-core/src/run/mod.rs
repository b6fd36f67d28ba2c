//! Running a plan on a backend: one transaction per migration ([`step`]), one for a
//! whole batch ([`batch`]: all-or-nothing runs, rehearsals, redo), none for a migration
//! that opts out ([`outside`]), or several sessions at once ([`parallel`]).

use core::time::Duration;

use crate::backend::{Backend, Capabilities, TxMode};
use crate::condition::{self as evaluate, RunSoFar};
use crate::error::{Error, MigrationRef, Result};
use crate::history::{HistoryRow, marks};
use crate::migration::BoxError;
use crate::plan::{self, Direction, Step, Target};
use crate::report::{Report, StepReport};
use crate::settings::Settings;

mod batch;
mod outside;
mod parallel;
pub(crate) mod schedule;
mod step;

pub(crate) use batch::redo;

use schedule::Schedule;

/// Whether a run keeps what it did.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Commit,
    /// A dry run: everything in one transaction, rolled back at the end.
    Rehearse,
}

pub(crate) fn to_target(
    settings: &Settings,
    backend: &mut dyn Backend,
    target: Target,
    mode: Mode,
) -> Result<Report> {
    let batch = settings.all_or_nothing || mode == Mode::Rehearse;
    let capabilities = backend.capabilities();
    if settings.parallel > 1 {
        parallel::refuse_unsupported(settings, backend, mode)?;
    }
    let mut report = Report::default();
    // Whether the history was read again after taking the lock once, to confirm a mark.
    let mut confirmed = false;
    // The first read of a run to the latest migration may find the history exactly as
    // the known migrations leave it, where the planner would find nothing to do. A known
    // checksum that reads as a skipped row's would not mean the same: no shortcut then.
    let mut hope_up_to_date = target == Target::Latest
        && !settings
            .migrations
            .iter()
            .any(|m| marks::reads_as_skipped(m.checksum()));
    'plan: loop {
        let read = if core::mem::take(&mut hope_up_to_date) {
            match settings.read_for_plan_unless_up_to_date(backend)? {
                Some(read) => read,
                None => {
                    log::debug!("history holds every known migration, unchanged: nothing to do");
                    return Ok(report);
                }
            }
        } else {
            settings.read_for_plan(backend)?
        };
        // Skipped migrations whose condition turned true are pending again: decided
        // under the lock, and their rows left out of what the planner sees.
        let Some(enabled) = evaluate::reenable_skipped(settings, backend, &read, target)? else {
            continue 'plan;
        };
        let history: std::borrow::Cow<'_, [HistoryRow]> = if enabled.is_empty() {
            std::borrow::Cow::Borrowed(&read)
        } else {
            read.iter()
                .filter(|row| !enabled.contains(&row.version))
                .cloned()
                .collect()
        };
        let plan = match plan::plan(&settings.migrations, &history, target, settings.options) {
            Ok(plan) => plan,
            Err(refusal @ Error::Incomplete { .. }) if !confirmed => {
                // A mark read without the lock may be another process's migration that is
                // running now: decide on a read made after its lock was free once.
                confirmed = true;
                match confirm_under_lock(backend) {
                    Ok(()) => continue 'plan,
                    Err(Some(error)) => return Err(error),
                    Err(None) => {
                        return Err(reword_with_full_history(settings, backend, target, refusal));
                    }
                }
            }
            Err(refusal) => {
                return Err(reword_with_full_history(settings, backend, target, refusal));
            }
        };
        if plan.steps.is_empty() {
            return Ok(report);
        }
        evaluate::require_environment(settings, &plan.steps)?;
        if settings.parallel > 1 && !batch && Schedule::has_parallelism(&plan.steps) {
            match parallel::run(settings, backend, &plan.steps, &read, capabilities)? {
                Some(done) => return Ok(done),
                None => continue 'plan,
            }
        }
        if batch {
            match batch::run_batch(settings, backend, &plan.steps, &read, mode, capabilities)? {
                Some(done) => return Ok(done),
                None => continue 'plan,
            }
        }

        for step in plan.steps {
            let run = RunSoFar {
                read: &read,
                done: &report.steps,
            };
            let done = if outside(step, &read, capabilities) {
                outside::outside_transaction(settings, backend, step, run)?
            } else {
                step::in_transaction(settings, backend, step, run)?
            };
            match done {
                Some(done) => report.steps.push(done),
                None => {
                    // Another process migrated meanwhile: plan again from what it did. The
                    // plan is always made on a history read that is still current once
                    // the lock is held.
                    log::debug!("history changed by another connection; planning again");
                    continue 'plan;
                }
            }
        }
        return Ok(report);
    }
}

/// Whether `step` runs outside a transaction: its migration says `transaction = false`,
/// or the backend's DDL is not transactional; not a step down past a skipped migration,
/// which only removes its row.
pub(crate) fn outside(step: Step, read: &[HistoryRow], capabilities: Capabilities) -> bool {
    let past_skipped = step.direction == Direction::Down && is_skipped(read, step);
    let transactional = step.migration.is_transactional() && capabilities.transactional_ddl;
    !(past_skipped || transactional)
}

/// Takes the write lock once and lets it go (a backend that holds its lock across a
/// run, as PostgreSQL's does, keeps it), so that the history read next is read after any
/// process that held it finished. `Err(Some(..))` when the lock could not be had in time
/// (the error names who holds it); `Err(None)` on any other failure, where the refusal
/// found stands.
fn confirm_under_lock(backend: &mut dyn Backend) -> core::result::Result<(), Option<Error>> {
    match backend.begin(TxMode::Write) {
        Ok(_) => {
            let _ = backend.rollback();
            Ok(())
        }
        Err(source) => match source.downcast::<Error>() {
            Ok(error) if matches!(*error, Error::LockTimeout { .. }) => Err(Some(*error)),
            _ => Err(None),
        },
    }
}

/// A refusal found on the narrow read, worded from the full history (descriptions,
/// type names, start times). Should another process have changed the history in between so
/// that the full read gives no refusal, the refusal as found stands: a start never loops.
pub(crate) fn reword_with_full_history(
    settings: &Settings,
    backend: &mut dyn Backend,
    target: Target,
    refusal: Error,
) -> Error {
    if !matches!(
        refusal,
        Error::UnknownApplied { .. } | Error::Incomplete { .. }
    ) {
        return refusal;
    }
    match settings.read_full(backend) {
        Ok(history) => plan::plan(&settings.migrations, &history, target, settings.options)
            .err()
            .unwrap_or(refusal),
        Err(error) => error,
    }
}

/// Whether the history row of the step's migration is a skipped one.
pub(crate) fn is_skipped(read: &[HistoryRow], step: Step) -> bool {
    let version = step.migration.version();
    read.iter()
        .any(|row| row.version == version && row.skipped().is_some())
}

pub(crate) fn failed(step: Step, batch: bool, source: BoxError) -> Error {
    let m = step.migration;
    Error::MigrationFailed {
        migration: MigrationRef::of(m),
        direction: step.direction,
        batch,
        source,
    }
}

pub(crate) fn step_report(step: Step, duration: Duration) -> StepReport {
    StepReport {
        version: step.migration.version(),
        description: step.migration.description(),
        direction: step.direction,
        duration,
        skipped: None,
    }
}

pub(crate) fn progress(settings: &Settings, done: &StepReport) {
    if let Some(report) = &settings.progress {
        report(done);
    }
}

pub(crate) fn log_step(step: Step, done: &[StepReport]) {
    let report = done.iter().find(|d| d.version == step.migration.version());
    let verb = match (step.direction, report.and_then(|d| d.skipped.as_ref())) {
        (Direction::Up, None) => "applied",
        (Direction::Down, None) => "reverted",
        (Direction::Up, Some(_)) => "skipped",
        (Direction::Down, Some(_)) => "removed the skipped row of",
    };
    let duration = report.map_or(Duration::ZERO, |d| d.duration);
    log::info!("{verb} migration {} in {duration:?}", step.migration);
}
