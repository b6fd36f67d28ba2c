//! Several steps in one transaction: all-or-nothing runs, rehearsals (rolled back) and
//! redo (the highest applied migration down and up again).

use super::step::{run_and_record, settle_condition};
use super::{Mode, failed, log_step, outside, progress, reword_with_full_history};
use crate::backend::calls::{begin, rollback};
use crate::backend::{Backend, Capabilities, Freshness, TxMode};
use crate::condition::{RunSoFar, decide};
use crate::error::{Error, MigrationRef, Result};
use crate::history::HistoryRow;
use crate::plan::{self, Direction, PlanOptions, Step, Target};
use crate::report::{Report, StepReport};
use crate::settings::Settings;

/// Runs `steps` in one transaction (all-or-nothing runs, rehearsals, redo). `None` when
/// another connection changed the history since it was read: plan again.
pub(crate) fn run_batch(
    settings: &Settings,
    backend: &mut dyn Backend,
    steps: &[Step],
    read: &[HistoryRow],
    mode: Mode,
    capabilities: Capabilities,
) -> Result<Option<Report>> {
    if let Some(step) = steps.iter().find(|s| outside(**s, read, capabilities)) {
        let m = step.migration;
        return Err(Error::NotTransactional {
            migration: MigrationRef::of(m),
        });
    }
    let (Some(&first), Some(&last)) = (steps.first(), steps.last()) else {
        return Ok(Some(Report::default()));
    };
    if begin(backend, first.migration, TxMode::Write)? == Freshness::Stale {
        rollback(backend, first.migration);
        return Ok(None);
    }
    let mut done: Vec<StepReport> = Vec::with_capacity(steps.len());
    for &step in steps {
        let run = RunSoFar { read, done: &done };
        let outcome = decide(settings, backend, step, run)
            .and_then(|when| {
                when.ok_or_else(|| {
                    failed(
                        step,
                        true,
                        "the history changed under the batch's lock".into(),
                    )
                })
            })
            .and_then(|when| settle_condition(backend, step, run, &when, true))
            .and_then(|skipped| match skipped {
                Some(report) => Ok(report),
                None => run_and_record(settings, backend, step, true),
            });
        match outcome {
            Ok(step) => done.push(step),
            Err(error) => {
                rollback(backend, step.migration);
                return Err(error);
            }
        }
    }
    // Once for the batch: the check covers what the batch did.
    if let Err(source) = backend.verify() {
        rollback(backend, last.migration);
        return Err(failed(last, true, source));
    }
    if mode == Mode::Rehearse {
        rollback(backend, last.migration);
        log::info!(
            "dry run of {} migrations succeeded and was rolled back",
            done.len()
        );
    } else {
        if let Err(source) = backend.commit() {
            rollback(backend, last.migration);
            return Err(failed(last, true, source));
        }
        for (step, report) in steps.iter().zip(&done) {
            log_step(*step, std::slice::from_ref(report));
        }
    }
    for report in &done {
        progress(settings, report);
    }
    Ok(Some(Report { steps: done }))
}

/// Reverts the highest applied migration and applies it again, in one transaction: an
/// interrupted redo leaves the database as it was, and running it again does the same.
pub(crate) fn redo(settings: &Settings, backend: &mut dyn Backend) -> Result<Report> {
    let capabilities = backend.capabilities();
    loop {
        let history = settings.read_for_plan(backend)?;
        let Some(last) = history
            .iter()
            .filter(|row| row.is_applied())
            .map(|row| row.version)
            .max()
        else {
            return Ok(Report::default());
        };
        // The state must be one the planner accepts (nothing unknown, unfinished or
        // changed); pending migrations below the last one are left for `up`.
        let options = PlanOptions {
            allow_out_of_order: true,
            only: None,
            ..settings.options
        };
        let target = Target::Version(last);
        if let Err(refusal) = plan::plan(&settings.migrations, &history, target, options) {
            return Err(reword_with_full_history(settings, backend, target, refusal));
        }
        let Ok(index) = settings
            .migrations
            .binary_search_by_key(&last, |m| m.version())
        else {
            continue; // not reachable: the planner refuses an unknown applied version
        };
        let m = settings.migrations[index];
        if !m.is_reversible() {
            let below = index
                .checked_sub(1)
                .map_or(0, |i| settings.migrations[i].version());
            return Err(Error::Irreversible {
                migration: MigrationRef::of(m),
                target: below,
            });
        }
        let steps = [
            Step {
                migration: m,
                direction: Direction::Down,
            },
            Step {
                migration: m,
                direction: Direction::Up,
            },
        ];
        if let Some(report) = run_batch(
            settings,
            backend,
            &steps,
            &history,
            Mode::Commit,
            capabilities,
        )? {
            return Ok(report);
        }
    }
}
