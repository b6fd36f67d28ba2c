//! Running a plan on a backend: one transaction per migration, one for a whole batch
//! (all-or-nothing runs and rehearsals), or none for a migration that opts out.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use core::time::Duration;

use crate::backend::{Backend, Freshness};
use crate::error::{Error, Result};
use crate::fingerprint::{self, Fingerprint};
use crate::manager::{Migrator, Report, StepReport};
use crate::migration::BoxError;
use crate::plan::{self, Direction, Step, Target};
use crate::registry::RegisteredMigration;

/// Whether a run keeps what it did.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Commit,
    /// A dry run: everything in one transaction, rolled back at the end.
    Rehearse,
}

pub(crate) fn migrate(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    target: Target,
    mode: Mode,
) -> Result<Report> {
    let batch = migrator.all_or_nothing || mode == Mode::Rehearse;
    let mut report = Report::default();
    if target == Target::Latest && mode == Mode::Commit {
        // The fast start: a stored fingerprint equal to that of every known migration
        // means the history holds exactly them, unchanged. Anything else, or no stored
        // fingerprint, takes the full check below.
        let expected = fingerprint::of_known(&migrator.migrations);
        if let Ok(Some(stored)) = backend.read_fingerprint()
            && stored == expected
        {
            log::debug!("history fingerprint matches every known migration: nothing to do");
            return Ok(report);
        }
    }
    'plan: loop {
        let history = migrator.history(backend)?;
        let plan = plan::plan(&migrator.migrations, &history, target, migrator.options)?;
        let mut fingerprint = Fingerprint::of_history(&history);
        let Some(first) = plan.steps.first().copied() else {
            return Ok(report);
        };
        if batch {
            if let Some(step) = plan.steps.iter().find(|s| !s.migration.is_transactional()) {
                let m = step.migration;
                return Err(Error::NotTransactional {
                    version: m.version(),
                    description: m.description(),
                    file: m.file(),
                });
            }
            if begin(backend, first.migration)? == Freshness::Stale {
                rollback(backend, first.migration);
                continue 'plan;
            }
            let mut steps = Vec::with_capacity(plan.steps.len());
            let previous = fingerprint.total();
            for &step in &plan.steps {
                match body(migrator, backend, step, true, &mut fingerprint) {
                    Ok(step) => steps.push(step),
                    Err(error) => {
                        rollback(backend, step.migration);
                        return Err(error);
                    }
                }
            }
            let last = plan.steps[plan.steps.len() - 1];
            // Once for the batch: the check covers the whole database, and only the last
            // fingerprint would survive the commit anyway.
            let checked = backend
                .check()
                .and_then(|()| backend.store_fingerprint(previous, fingerprint.total()));
            if let Err(source) = checked {
                rollback(backend, last.migration);
                return Err(failed(last, true, source));
            }
            if mode == Mode::Rehearse {
                rollback(backend, last.migration);
                log::info!(
                    "dry run of {} migrations succeeded and was rolled back",
                    steps.len()
                );
            } else {
                if let Err(source) = backend.commit() {
                    rollback(backend, last.migration);
                    return Err(failed(last, true, source));
                }
                for step in &plan.steps {
                    log_step(*step, &steps);
                }
            }
            for done in &steps {
                progress(migrator, done);
            }
            report.steps = steps;
            return Ok(report);
        }

        for step in plan.steps {
            if !step.migration.is_transactional() {
                match outside_transaction(migrator, backend, step, &mut fingerprint)? {
                    Some(done) => report.steps.push(done),
                    None => continue 'plan,
                }
                continue;
            }
            if begin(backend, step.migration)? == Freshness::Stale {
                // Another process migrated meanwhile: plan again from what it did.
                log::debug!("history changed by another connection; planning again");
                rollback(backend, step.migration);
                continue 'plan;
            }
            let done = body(migrator, backend, step, false, &mut fingerprint).and_then(|done| {
                backend
                    .commit()
                    .map(|()| done)
                    .map_err(|source| failed(step, false, source))
            });
            match done {
                Ok(done) => {
                    log_step(step, std::slice::from_ref(&done));
                    progress(migrator, &done);
                    report.steps.push(done);
                }
                Err(error) => {
                    rollback(backend, step.migration);
                    return Err(error);
                }
            }
        }
        return Ok(report);
    }
}

/// Runs the hooks and the migration's code, checks what it left and records it, in the
/// transaction that is open (none for a migration outside a transaction).
fn body(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    step: Step,
    batch: bool,
    fingerprint: &mut Fingerprint,
) -> Result<StepReport> {
    let (outcome, duration) = run_code(migrator, backend, step);
    match outcome {
        Ok(()) => {}
        Err(Failure::Error(source)) => return Err(failed(step, batch, source)),
        Err(Failure::Panic(message)) => {
            let m = step.migration;
            return Err(Error::MigrationPanicked {
                version: m.version(),
                description: m.description(),
                file: m.file(),
                direction: step.direction,
                batch,
                message,
            });
        }
    }
    // In a batch, the check and the fingerprint come once, before its commit.
    let checked = if batch { Ok(()) } else { backend.check() };
    checked
        .and_then(|()| record(backend, step, duration, fingerprint, !batch))
        .map_err(|source| failed(step, batch, source))?;
    Ok(step_report(step, duration))
}

enum Failure {
    Error(BoxError),
    Panic(String),
}

/// The `before_each` hook, `up` or `down`, and the `after_each` hook, with panics caught.
fn run_code(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    step: Step,
) -> (core::result::Result<(), Failure>, Duration) {
    let m = step.migration;
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(
        || -> core::result::Result<(), BoxError> {
            if let Some(hook) = &migrator.before {
                hook(&step, backend.db())?;
            }
            match step.direction {
                Direction::Up => m.run_up(backend.db())?,
                Direction::Down => m.run_down(backend.db())?,
            }
            if let Some(hook) = &migrator.after {
                hook(&step, backend.db())?;
            }
            Ok(())
        },
    ));
    let duration = start.elapsed();
    let outcome = match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(Failure::Error(error)),
        Err(panic) => Err(Failure::Panic(panic_message(&*panic))),
    };
    (outcome, duration)
}

/// Records the step in the history, and (when `store`) the history's new fingerprint.
fn record(
    backend: &mut dyn Backend,
    step: Step,
    duration: Duration,
    fingerprint: &mut Fingerprint,
    store: bool,
) -> Result<(), BoxError> {
    let m = step.migration;
    let previous = fingerprint.total();
    match step.direction {
        Direction::Up => {
            backend.record_applied(m, duration, true)?;
            fingerprint.applied(m);
        }
        Direction::Down => {
            backend.remove_applied(m.set(), m.version())?;
            fingerprint.reverted(m.version());
        }
    }
    if store {
        backend.store_fingerprint(previous, fingerprint.total())
    } else {
        Ok(())
    }
}

/// A migration with `transaction = false`: the history marks it started (committed),
/// its code runs with no transaction open, then the history marks it done. When it fails
/// or its process dies partway, the mark stays and every later run refuses with
/// [`Error::Incomplete`] until someone has looked. `None` when another process changed
/// the history first.
fn outside_transaction(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    step: Step,
    fingerprint: &mut Fingerprint,
) -> Result<Option<StepReport>> {
    let m = step.migration;
    if begin(backend, m)? == Freshness::Stale {
        rollback(backend, m);
        return Ok(None);
    }
    let marked = backend
        .remove_applied(m.set(), m.version())
        .and_then(|()| backend.record_applied(m, Duration::ZERO, false))
        .and_then(|()| backend.commit());
    if let Err(source) = marked {
        rollback(backend, m);
        return Err(failed(step, false, source));
    }

    let (outcome, duration) = run_code(migrator, backend, step);
    let partway = |source: BoxError| Error::FailedOutsideTransaction {
        version: m.version(),
        description: m.description(),
        file: m.file(),
        direction: step.direction,
        source,
    };
    match outcome {
        Ok(()) => {}
        Err(Failure::Error(source)) => return Err(partway(source)),
        Err(Failure::Panic(message)) => return Err(partway(format!("panicked: {message}").into())),
    }
    // The mark is ours: whatever else changed, finishing it is right.
    begin(backend, m)?;
    // The started mark goes; `record` writes the finished row (or none, for a down).
    let finished = backend
        .check()
        .and_then(|()| backend.remove_applied(m.set(), m.version()))
        .and_then(|()| record(backend, step, duration, fingerprint, true))
        .and_then(|()| backend.commit());
    if let Err(source) = finished {
        rollback(backend, m);
        return Err(partway(source));
    }
    let done = step_report(step, duration);
    log_step(step, std::slice::from_ref(&done));
    progress(migrator, &done);
    Ok(Some(done))
}

pub(crate) fn baseline(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    version: u64,
) -> Result<Vec<&'static RegisteredMigration>> {
    loop {
        let history = migrator.history(backend)?;
        if let Some(applied) = history
            .iter()
            .map(|row| row.version)
            .filter(|&v| v > version)
            .max()
        {
            return Err(Error::BaselineBelowApplied { version, applied });
        }
        let known = &migrator.migrations;
        if version != 0
            && known
                .binary_search_by_key(&version, |m| m.version())
                .is_err()
        {
            let latest = known.last().map_or(0, |m| m.version());
            return Err(Error::UnknownTarget { version, latest });
        }
        let recorded: Vec<&'static RegisteredMigration> = known
            .iter()
            .copied()
            .filter(|m| m.version() <= version)
            .filter(|m| !history.iter().any(|row| row.version == m.version()))
            .collect();
        let Some(first) = recorded.first() else {
            return Ok(recorded);
        };
        if begin(backend, first)? == Freshness::Stale {
            rollback(backend, first);
            continue;
        }
        let mut fingerprint = Fingerprint::of_history(&history);
        let previous = fingerprint.total();
        let written = recorded
            .iter()
            .try_for_each(|m| {
                fingerprint.applied(m);
                backend.record_applied(m, Duration::ZERO, true)
            })
            .and_then(|()| backend.store_fingerprint(previous, fingerprint.total()))
            .and_then(|()| backend.commit());
        return match written {
            Ok(()) => {
                log::info!(
                    "baseline: recorded {} migrations as applied",
                    recorded.len()
                );
                Ok(recorded)
            }
            Err(source) => {
                rollback(backend, first);
                Err(Error::Database {
                    action: format!("record the baseline at version {version}"),
                    source,
                })
            }
        };
    }
}

pub(crate) fn accept_changes(
    migrator: &Migrator,
    backend: &mut dyn Backend,
) -> Result<Vec<&'static RegisteredMigration>> {
    loop {
        let history = migrator.history(backend)?;
        let changed: Vec<&'static RegisteredMigration> = migrator
            .migrations
            .iter()
            .copied()
            .filter(|m| {
                history.iter().any(|row| {
                    row.version == m.version() && row.complete && row.checksum != m.checksum()
                })
            })
            .collect();
        let Some(first) = changed.first() else {
            return Ok(changed);
        };
        if begin(backend, first)? == Freshness::Stale {
            rollback(backend, first);
            continue;
        }
        let mut fingerprint = Fingerprint::of_history(&history);
        let previous = fingerprint.total();
        let written = changed
            .iter()
            .try_for_each(|m| {
                fingerprint.applied(m);
                backend.update_checksum(m)
            })
            .and_then(|()| backend.store_fingerprint(previous, fingerprint.total()))
            .and_then(|()| backend.commit());
        return match written {
            Ok(()) => {
                for m in &changed {
                    log::warn!("accepted the changed source of migration {m}");
                }
                Ok(changed)
            }
            Err(source) => {
                rollback(backend, first);
                Err(Error::Database {
                    action: "record the accepted checksums".to_owned(),
                    source,
                })
            }
        };
    }
}

pub(crate) fn clear_incomplete(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    version: u64,
) -> Result<bool> {
    let history = migrator.history(backend)?;
    if !history
        .iter()
        .any(|row| row.version == version && !row.complete)
    {
        return Ok(false);
    }
    let database = |source| Error::Database {
        action: format!("clear the incomplete mark of migration {version}"),
        source,
    };
    backend.begin().map_err(database)?;
    let cleared = backend
        .remove_applied(&migrator.set, version)
        .and_then(|()| backend.commit());
    if let Err(source) = cleared {
        let _ = backend.rollback();
        return Err(database(source));
    }
    log::warn!("cleared the incomplete mark of migration {version}; the next run runs it again");
    Ok(true)
}

/// Opens a transaction holding the write lock, naming `m` if that fails.
fn begin(backend: &mut dyn Backend, m: &RegisteredMigration) -> Result<Freshness> {
    backend.begin().map_err(|source| {
        Error::database(
            format!("start the transaction of migration {m} (take the write lock)"),
            source,
        )
    })
}

fn rollback(backend: &mut dyn Backend, m: &RegisteredMigration) {
    if let Err(error) = backend.rollback() {
        // The transaction is gone either way; the database discards what it did not commit.
        log::warn!("rolling back migration {m} failed: {error}");
    }
}

fn failed(step: Step, batch: bool, source: BoxError) -> Error {
    let m = step.migration;
    Error::MigrationFailed {
        version: m.version(),
        description: m.description(),
        file: m.file(),
        direction: step.direction,
        batch,
        source,
    }
}

fn step_report(step: Step, duration: Duration) -> StepReport {
    StepReport {
        version: step.migration.version(),
        description: step.migration.description(),
        direction: step.direction,
        duration,
    }
}

fn progress(migrator: &Migrator, done: &StepReport) {
    if let Some(report) = &migrator.progress {
        report(done);
    }
}

fn log_step(step: Step, done: &[StepReport]) {
    let verb = match step.direction {
        Direction::Up => "applied",
        Direction::Down => "reverted",
    };
    let duration = done
        .iter()
        .find(|d| d.version == step.migration.version())
        .map_or(Duration::ZERO, |d| d.duration);
    log::info!("{verb} migration {} in {duration:?}", step.migration);
}

fn panic_message(panic: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}
