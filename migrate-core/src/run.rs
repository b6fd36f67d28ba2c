//! Running a plan on a backend: one transaction per migration, one for a whole batch
//! (all-or-nothing runs and rehearsals), or none for a migration that opts out.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use core::time::Duration;

use crate::backend::{Backend, Freshness};
use crate::error::{Error, Result};
use crate::fingerprint::{self, Fingerprint};
use crate::history::{AppliedMigration, DOWN_MARK};
use crate::migration::BoxError;
use crate::plan::{self, Direction, PlanOptions, Step, Target};
use crate::registry::RegisteredMigration;
use crate::report::{Report, StepReport};
use crate::settings::Settings;

/// Whether a run keeps what it did.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Commit,
    /// A dry run: everything in one transaction, rolled back at the end.
    Rehearse,
}

pub(crate) fn migrate(
    settings: &Settings,
    backend: &mut dyn Backend,
    target: Target,
    mode: Mode,
) -> Result<Report> {
    let batch = settings.all_or_nothing || mode == Mode::Rehearse;
    let mut report = Report::default();
    if target == Target::Latest && mode == Mode::Commit && settings.options.only.is_none() {
        // The fast start (opt-in, see `Backend::read_fingerprint`): a stored fingerprint
        // equal to that of every known migration means the history holds exactly them,
        // unchanged. Anything else, or no stored fingerprint, takes the full check below.
        if let Ok(Some(stored)) = backend.read_fingerprint()
            && stored == fingerprint::of_known(&settings.migrations)
        {
            log::debug!("history fingerprint matches every known migration: nothing to do");
            return Ok(report);
        }
    }
    // Whether the history was read again after taking the lock once, to confirm a mark.
    let mut confirmed = false;
    'plan: loop {
        let history = settings.applied(backend)?;
        let plan = match plan::plan(&settings.migrations, &history, target, settings.options) {
            Ok(plan) => plan,
            Err(refusal @ Error::Incomplete { .. }) if !confirmed => {
                // A mark read without the lock may be another process's migration that is
                // running now: decide on a read made after its lock was free once.
                confirmed = true;
                match confirm_under_lock(backend) {
                    Ok(()) => continue 'plan,
                    Err(Some(error)) => return Err(error),
                    Err(None) => return Err(worded(settings, backend, target, refusal)),
                }
            }
            Err(refusal) => return Err(worded(settings, backend, target, refusal)),
        };
        if plan.steps.is_empty() {
            return Ok(report);
        }
        // Only a run with something to do keeps the history's fingerprint up to date.
        let mut fingerprint = Fingerprint::of_history(&history);
        if batch {
            match run_batch(settings, backend, &plan.steps, &mut fingerprint, mode)? {
                Some(done) => return Ok(done),
                None => continue 'plan,
            }
        }

        for step in plan.steps {
            if !step.migration.is_transactional() {
                match outside_transaction(settings, backend, step, &mut fingerprint)? {
                    Some(done) => report.steps.push(done),
                    None => continue 'plan,
                }
                continue;
            }
            if begin(backend, step.migration)? == Freshness::Stale {
                // Another process migrated meanwhile: plan again from what it did. The
                // plan is always made on a history read that is still current once the
                // write lock is held.
                log::debug!("history changed by another connection; planning again");
                rollback(backend, step.migration);
                continue 'plan;
            }
            let done = body(settings, backend, step, false, &mut fingerprint).and_then(|done| {
                backend
                    .commit()
                    .map(|()| done)
                    .map_err(|source| failed(step, false, source))
            });
            match done {
                Ok(done) => {
                    log_step(step, std::slice::from_ref(&done));
                    progress(settings, &done);
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

/// Takes the write lock once and lets it go (a backend that holds its lock across a
/// run, as PostgreSQL's does, keeps it), so that the history read next is read after any
/// process that held it finished. `Err(Some(..))` when the lock could not be had in time
/// (the error names who holds it); `Err(None)` on any other failure, where the refusal
/// found stands.
fn confirm_under_lock(backend: &mut dyn Backend) -> core::result::Result<(), Option<Error>> {
    match backend.begin() {
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

/// A refusal found on the narrow read, worded from the full history (descriptions, type
/// names, start times). Should another process have changed the history in between so
/// that the full read gives no refusal, the refusal as found stands: a start never loops.
pub(crate) fn worded(
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
    match settings.history(backend) {
        Ok(history) => plan::plan(&settings.migrations, &history, target, settings.options)
            .err()
            .unwrap_or(refusal),
        Err(error) => error,
    }
}

/// Runs `steps` in one transaction (all-or-nothing runs, rehearsals, redo). `None` when
/// another connection changed the history since it was read: plan again.
fn run_batch(
    settings: &Settings,
    backend: &mut dyn Backend,
    steps: &[Step],
    fingerprint: &mut Fingerprint,
    mode: Mode,
) -> Result<Option<Report>> {
    if let Some(step) = steps.iter().find(|s| !s.migration.is_transactional()) {
        let m = step.migration;
        return Err(Error::NotTransactional {
            version: m.version(),
            description: m.description(),
            file: m.file(),
        });
    }
    let (Some(&first), Some(&last)) = (steps.first(), steps.last()) else {
        return Ok(Some(Report::default()));
    };
    if begin(backend, first.migration)? == Freshness::Stale {
        rollback(backend, first.migration);
        return Ok(None);
    }
    let mut done = Vec::with_capacity(steps.len());
    for &step in steps {
        match body(settings, backend, step, true, fingerprint) {
            Ok(step) => done.push(step),
            Err(error) => {
                rollback(backend, step.migration);
                return Err(error);
            }
        }
    }
    // Once for the batch: the check covers what the batch did, and only the last
    // fingerprint would survive the commit anyway.
    let checked = backend
        .check()
        .and_then(|()| backend.store_fingerprint(fingerprint.value()));
    if let Err(source) = checked {
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
    loop {
        let history = settings.applied(backend)?;
        let Some(last) = history.iter().map(|row| row.version).max() else {
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
            return Err(worded(settings, backend, target, refusal));
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
                version: m.version(),
                description: m.description(),
                file: m.file(),
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
        let mut fingerprint = Fingerprint::of_history(&history);
        if let Some(report) = run_batch(settings, backend, &steps, &mut fingerprint, Mode::Commit)?
        {
            return Ok(report);
        }
    }
}

/// Runs the hooks and the migration's code, checks what it left and records it, in the
/// transaction that is open (none for a migration outside a transaction).
fn body(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    batch: bool,
    fingerprint: &mut Fingerprint,
) -> Result<StepReport> {
    let (outcome, duration) = run_code(settings, backend, step, true);
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

/// The backend's [`Backend::before_code`], the `before_each` hook, `up` or `down`, and
/// the `after_each` hook, with panics caught.
fn run_code(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    in_transaction: bool,
) -> (core::result::Result<(), Failure>, Duration) {
    let m = step.migration;
    let start = Instant::now();
    let outcome = catch_unwind(AssertUnwindSafe(
        || -> core::result::Result<(), BoxError> {
            backend.before_code(m, in_transaction)?;
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
        backend.store_fingerprint(fingerprint.value())
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
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    fingerprint: &mut Fingerprint,
) -> Result<Option<StepReport>> {
    let m = step.migration;
    if begin(backend, m)? == Freshness::Stale {
        rollback(backend, m);
        return Ok(None);
    }
    // The mark also invalidates a stored fingerprint: a fast start must not take a
    // history with an unfinished migration for up to date.
    let marked = backend
        .remove_applied(m.set(), m.version())
        .and_then(|()| backend.record_started(m, step.direction))
        .and_then(|()| backend.store_fingerprint(None))
        .and_then(|()| backend.commit());
    if let Err(source) = marked {
        rollback(backend, m);
        return Err(failed(step, false, source));
    }

    let (outcome, duration) = run_code(settings, backend, step, false);
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
    progress(settings, &done);
    Ok(Some(done))
}

pub(crate) fn baseline(
    settings: &Settings,
    backend: &mut dyn Backend,
    version: u64,
) -> Result<Vec<&'static RegisteredMigration>> {
    let known = &settings.migrations;
    if version != 0
        && known
            .binary_search_by_key(&version, |m| m.version())
            .is_err()
    {
        let latest = known.last().map_or(0, |m| m.version());
        return Err(Error::UnknownTarget { version, latest });
    }
    let upto: Vec<&'static RegisteredMigration> = known
        .iter()
        .copied()
        .filter(|m| m.version() <= version)
        .collect();
    loop {
        let history = settings.history(backend)?;
        if !history.is_empty() {
            // Baseline adopts a database migrate has not migrated. On one with history it
            // would record migrations as applied that never ran, past the checks that
            // guard the history: refused, unless the same baseline is already there
            // exactly (running it twice is harmless).
            let same = history.len() == upto.len()
                && history.iter().zip(&upto).all(|(row, m)| {
                    row.version == m.version() && row.complete && row.checksum == m.checksum()
                });
            if same {
                return Ok(Vec::new());
            }
            let highest = history.iter().map(|row| row.version).max().unwrap_or(0);
            return Err(Error::BaselineWithHistory {
                version,
                applied: history.len(),
                highest,
            });
        }
        let action = || format!("record the baseline at version {version}");
        let record = |backend: &mut dyn Backend, m: &RegisteredMigration| {
            backend.record_applied(m, Duration::ZERO, true)
        };
        if !in_one_transaction(backend, &upto, Fingerprint::default(), action, record)? {
            continue;
        }
        if !upto.is_empty() {
            log::info!("baseline: recorded {} migrations as applied", upto.len());
        }
        return Ok(upto);
    }
}

pub(crate) fn accept_changes(
    settings: &Settings,
    backend: &mut dyn Backend,
) -> Result<Vec<&'static RegisteredMigration>> {
    loop {
        let history = settings.applied(backend)?;
        let changed: Vec<&'static RegisteredMigration> = settings
            .migrations
            .iter()
            .copied()
            .filter(|m| {
                history.iter().any(|row| {
                    row.version == m.version() && row.complete && row.checksum != m.checksum()
                })
            })
            .collect();
        let action = || "record the accepted checksums".to_owned();
        let update =
            |backend: &mut dyn Backend, m: &RegisteredMigration| backend.update_checksum(m);
        let fingerprint = Fingerprint::of_history(&history);
        if !in_one_transaction(backend, &changed, fingerprint, action, update)? {
            continue;
        }
        for m in &changed {
            log::warn!("accepted the changed source of migration {m}");
        }
        return Ok(changed);
    }
}

/// Writes one history change per migration of `rows` (`write`), and the fingerprint of
/// the history it leaves, in one transaction under the write lock (baseline, accepted
/// checksums). `Ok(false)` when the history changed since it was read: read it again
/// and decide anew. Nothing to write is done at once.
fn in_one_transaction(
    backend: &mut dyn Backend,
    rows: &[&'static RegisteredMigration],
    mut fingerprint: Fingerprint,
    action: impl FnOnce() -> String,
    mut write: impl FnMut(&mut dyn Backend, &RegisteredMigration) -> core::result::Result<(), BoxError>,
) -> Result<bool> {
    let Some(first) = rows.first() else {
        return Ok(true);
    };
    if begin(backend, first)? == Freshness::Stale {
        rollback(backend, first);
        return Ok(false);
    }
    let written = rows
        .iter()
        .try_for_each(|m| {
            fingerprint.applied(m);
            write(backend, m)
        })
        .and_then(|()| backend.store_fingerprint(fingerprint.value()))
        .and_then(|()| backend.commit());
    match written {
        Ok(()) => Ok(true),
        Err(source) => {
            rollback(backend, first);
            Err(Error::Database {
                action: action(),
                source,
            })
        }
    }
}

pub(crate) fn clear_incomplete(
    settings: &Settings,
    backend: &mut dyn Backend,
    version: u64,
) -> Result<Option<Direction>> {
    let database = |source| Error::Database {
        action: format!("clear the incomplete mark of migration {version}"),
        source,
    };
    loop {
        let history = settings.applied(backend)?;
        let Some(direction) = history
            .iter()
            .find(|row| row.version == version)
            .and_then(AppliedMigration::interrupted_direction)
        else {
            return Ok(None);
        };
        // An interrupted down leaves the migration applied, as before the down, so that
        // the next down runs it again; that needs the migration, with the source it was
        // applied with.
        let restore = match direction {
            Direction::Up => None,
            Direction::Down => {
                let known = settings
                    .migrations
                    .binary_search_by_key(&version, |m| m.version())
                    .ok()
                    .map(|i| settings.migrations[i]);
                let row = history.iter().find(|row| row.version == version);
                match (known, row) {
                    (Some(m), Some(row))
                        if row.checksum.strip_prefix(DOWN_MARK) == Some(m.checksum()) =>
                    {
                        Some(m)
                    }
                    (Some(m), Some(row)) => {
                        return Err(Error::Modified {
                            version,
                            description: m.description(),
                            file: m.file(),
                            recorded: row
                                .checksum
                                .strip_prefix(DOWN_MARK)
                                .unwrap_or(&row.checksum)
                                .to_owned(),
                            current: m.checksum().to_owned(),
                        });
                    }
                    _ => None,
                }
            }
        };
        // Decided again under the lock: the process running the migration may have
        // finished it since, and its finished row must stay.
        if backend.begin().map_err(database)? == Freshness::Stale {
            let _ = backend.rollback();
            continue;
        }
        let remaining: Vec<_> = history
            .into_iter()
            .filter(|row| row.version != version)
            .collect();
        let mut fingerprint = Fingerprint::of_history(&remaining);
        let cleared = backend
            .remove_applied(&settings.set, version)
            .and_then(|()| match restore {
                Some(m) => {
                    fingerprint.applied(m);
                    backend.record_applied(m, Duration::ZERO, true)
                }
                None => Ok(()),
            })
            .and_then(|()| backend.store_fingerprint(fingerprint.value()))
            .and_then(|()| backend.commit());
        if let Err(source) = cleared {
            let _ = backend.rollback();
            return Err(database(source));
        }
        match restore {
            Some(_) => log::warn!(
                "cleared the incomplete mark of migration {version}: it is applied again, as \
                 before its interrupted down, and the next down runs it again"
            ),
            None => log::warn!(
                "cleared the incomplete mark of migration {version}; the next run applies it again"
            ),
        }
        return Ok(Some(direction));
    }
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

fn progress(settings: &Settings, done: &StepReport) {
    if let Some(report) = &settings.progress {
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
