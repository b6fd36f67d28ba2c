//! Running a plan on a backend: one transaction per migration, one for a whole batch
//! (all-or-nothing runs and rehearsals), or none for a migration that opts out.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use core::time::Duration;

use crate::backend::{Backend, Capabilities, CodeScope, Freshness, HistoryChange, NewRow, TxMode};
use crate::condition::{self, PlanContext, When};
use crate::error::{Error, Result};
use crate::history::{HistoryRow, marks};
use crate::migration::BoxError;
use crate::plan::{self, Direction, PlanOptions, Step, Target};
use crate::registry::RegisteredMigration;
use crate::report::{Report, StepReport};
use crate::schedule::Schedule;
use crate::settings::Settings;

mod parallel;

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
        let Some(enabled) = reconsider(settings, backend, &read, target)? else {
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
                    Err(None) => return Err(worded(settings, backend, target, refusal)),
                }
            }
            Err(refusal) => return Err(worded(settings, backend, target, refusal)),
        };
        if plan.steps.is_empty() {
            return Ok(report);
        }
        require_environment(settings, &plan.steps)?;
        if settings.parallel > 1 && !batch && Schedule::has_parallelism(&plan.steps) {
            match parallel::run(settings, backend, &plan.steps, &read, capabilities)? {
                Some(done) => return Ok(done),
                None => continue 'plan,
            }
        }
        if batch {
            match run_batch(settings, backend, &plan.steps, &read, mode, capabilities)? {
                Some(done) => return Ok(done),
                None => continue 'plan,
            }
        }

        for step in plan.steps {
            let run = Run {
                read: &read,
                done: &report.steps,
            };
            let done = if outside(step, &read, capabilities) {
                outside_transaction(settings, backend, step, run)?
            } else {
                in_transaction(settings, backend, step, run)?
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
fn outside(step: Step, read: &[HistoryRow], capabilities: Capabilities) -> bool {
    let past_skipped = step.direction == Direction::Down && is_skipped(read, step);
    let transactional = step.migration.is_transactional() && capabilities.transactional_ddl;
    !(past_skipped || transactional)
}

/// One step in its own transaction: its condition first (read-only), then its code and
/// its record, committed. `None` when the history changed since it was read.
fn in_transaction(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    run: Run<'_>,
) -> Result<Option<StepReport>> {
    let Some(when) = decide(settings, backend, step, run, false)? else {
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
fn commit_step(
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
    match settings.read_full(backend) {
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
    read: &[HistoryRow],
    mode: Mode,
    capabilities: Capabilities,
) -> Result<Option<Report>> {
    if let Some(step) = steps.iter().find(|s| outside(**s, read, capabilities)) {
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
    if begin(backend, first.migration, TxMode::Write)? == Freshness::Stale {
        rollback(backend, first.migration);
        return Ok(None);
    }
    let mut done: Vec<StepReport> = Vec::with_capacity(steps.len());
    for &step in steps {
        let run = Run { read, done: &done };
        let outcome = decide(settings, backend, step, run, true)
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

/// Runs the hooks and the migration's code, checks what it left (not in a batch, which
/// checks once at its end) and records it, in the transaction that is open.
fn run_and_record(
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
                version: m.version(),
                description: m.description(),
                file: m.file(),
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
enum CodeOutcome {
    Error(BoxError),
    Panic(String),
}

/// The backend's [`Backend::prepare_code`], the `before_each` hook, `up` or `down`, and
/// the `after_each` hook, with panics caught.
fn run_code(
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
fn record(backend: &mut dyn Backend, step: Step, duration: Duration) -> Result<(), BoxError> {
    let m = step.migration;
    match step.direction {
        Direction::Up => backend.write_history(HistoryChange::Insert(NewRow::applied(m, duration))),
        Direction::Down => backend.write_history(HistoryChange::Delete {
            set: m.set(),
            version: m.version(),
        }),
    }
}

/// Deletes the row of `m`'s version, if any.
fn delete_row(backend: &mut dyn Backend, m: &RegisteredMigration) -> Result<(), BoxError> {
    backend.write_history(HistoryChange::Delete {
        set: m.set(),
        version: m.version(),
    })
}

/// A migration with `transaction = false` (or any, on a backend whose DDL is not
/// transactional): the history marks it started (committed), its code runs with no
/// transaction of the manager's open, then the history marks it done. When it fails or
/// its process dies partway, the mark stays and every later run refuses with
/// [`Error::Incomplete`] until someone has looked. `None` when another process changed
/// the history first.
fn outside_transaction(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    run: Run<'_>,
) -> Result<Option<StepReport>> {
    let m = step.migration;
    // The condition is decided under the lock before the mark: a skipped migration gets
    // no mark.
    let Some(when) = decide(settings, backend, step, run, false)? else {
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
        version: m.version(),
        description: m.description(),
        file: m.file(),
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
        let history = settings.read_for_plan(backend)?;
        if !history.is_empty() {
            // Baseline adopts a database migrate has not migrated. On one with history it
            // would record migrations as applied that never ran, past the checks that
            // guard the history: refused, unless the same baseline is already there
            // exactly (running it twice is harmless).
            let same = history.len() == upto.len()
                && history.iter().zip(&upto).all(|(row, m)| {
                    row.version == m.version() && row.is_applied() && row.checksum == m.checksum()
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
            backend.write_history(HistoryChange::Insert(NewRow::applied(m, Duration::ZERO)))
        };
        if !in_one_transaction(backend, &upto, action, record)? {
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
        let history = settings.read_for_plan(backend)?;
        let changed: Vec<&'static RegisteredMigration> = settings
            .migrations
            .iter()
            .copied()
            .filter(|m| {
                history.iter().any(|row| {
                    row.version == m.version() && row.is_complete() && row.checksum != m.checksum()
                })
            })
            .collect();
        let action = || "record the accepted checksums".to_owned();
        // A skipped row stays skipped, with the new checksum: its (changed) condition is
        // evaluated again at the next run anyway.
        let update = |backend: &mut dyn Backend, m: &RegisteredMigration| {
            let skipped = history
                .iter()
                .find(|row| row.version == m.version())
                .and_then(HistoryRow::skipped);
            match skipped {
                Some(reason) => delete_row(backend, m).and_then(|()| {
                    backend.write_history(HistoryChange::Insert(NewRow::skipped(m, reason)))
                }),
                // An applied row's checksum column is the checksum itself.
                None => backend.write_history(HistoryChange::SetChecksum {
                    set: m.set(),
                    version: m.version(),
                    checksum_column: m.checksum(),
                }),
            }
        };
        if !in_one_transaction(backend, &changed, action, update)? {
            continue;
        }
        for m in &changed {
            log::warn!("accepted the changed source of migration {m}");
        }
        return Ok(changed);
    }
}

/// Writes one history change per migration of `rows` (`write`) in one transaction under
/// the lock (baseline, accepted checksums). `Ok(false)` when the history changed since it
/// was read: read it again and decide anew. Nothing to write is done at once.
fn in_one_transaction(
    backend: &mut dyn Backend,
    rows: &[&'static RegisteredMigration],
    action: impl FnOnce() -> String,
    mut write: impl FnMut(&mut dyn Backend, &RegisteredMigration) -> core::result::Result<(), BoxError>,
) -> Result<bool> {
    let Some(first) = rows.first() else {
        return Ok(true);
    };
    if begin(backend, first, TxMode::Write)? == Freshness::Stale {
        rollback(backend, first);
        return Ok(false);
    }
    let written = rows
        .iter()
        .try_for_each(|m| write(backend, m))
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
        let history = settings.read_for_plan(backend)?;
        let Some(row) = history.iter().find(|row| row.version == version) else {
            return Ok(None);
        };
        let Some(direction) = row.interrupted_direction() else {
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
                match known {
                    Some(m) if row.checksum == m.checksum() => Some(m),
                    Some(m) => {
                        return Err(Error::Modified {
                            version,
                            description: m.description(),
                            file: m.file(),
                            recorded: row.checksum.clone(),
                            current: m.checksum().to_owned(),
                        });
                    }
                    None => None,
                }
            }
        };
        // Decided again under the lock: the process running the migration may have
        // finished it since, and its finished row must stay.
        if backend.begin(TxMode::Write).map_err(database)? == Freshness::Stale {
            let _ = backend.rollback();
            continue;
        }
        let cleared = backend
            .write_history(HistoryChange::Delete {
                set: &settings.set,
                version,
            })
            .and_then(|()| match restore {
                Some(m) => {
                    backend.write_history(HistoryChange::Insert(NewRow::applied(m, Duration::ZERO)))
                }
                None => Ok(()),
            })
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

/// What a step knows of the run it is part of: the history as read when the run planned
/// (skipped rows included), and the steps done since.
#[derive(Clone, Copy)]
struct Run<'a> {
    read: &'a [HistoryRow],
    done: &'a [StepReport],
}

impl Run<'_> {
    /// The history as it stands now, for a condition: the read, with this run's steps.
    fn history(&self, set: &str) -> Vec<HistoryRow> {
        let mut rows: Vec<HistoryRow> = self.read.to_vec();
        for step in self.done {
            rows.retain(|row| row.version != step.version);
            if step.direction == Direction::Up && step.skipped.is_none() {
                rows.push(HistoryRow::new(set, step.version, "", true));
            }
        }
        rows.sort_unstable_by_key(|row| row.version);
        rows
    }

    /// The reason of the skipped row `version` had when the run read the history, unless
    /// a step of this run changed it since.
    fn skipped_row(&self, version: u64) -> Option<&str> {
        self.read
            .iter()
            .find(|row| row.version == version)
            .and_then(HistoryRow::skipped)
            .filter(|_| !self.done.iter().any(|done| done.version == version))
    }
}

/// Whether the history row of the step's migration is a skipped one.
fn is_skipped(read: &[HistoryRow], step: Step) -> bool {
    let version = step.migration.version();
    read.iter()
        .any(|row| row.version == version && row.skipped().is_some())
}

/// The skipped migrations (up to the target) whose condition is true now; `None` when the
/// history changed since `read` (plan again). Their predicates are evaluated in one
/// read-only transaction holding the lock; nothing to evaluate, no transaction: a history
/// without skipped rows costs nothing here. A migration limited to environments is not
/// evaluated when no environment is given: it stays skipped. One that has no condition
/// any more is pending again.
fn reconsider(
    settings: &Settings,
    backend: &mut dyn Backend,
    read: &[HistoryRow],
    target: Target,
) -> Result<Option<Vec<u64>>> {
    if settings.options.only == Some(Direction::Down) {
        // A run that only reverts applies nothing, so it has nothing to reconsider.
        return Ok(Some(Vec::new()));
    }
    let candidates: Vec<&'static RegisteredMigration> = read
        .iter()
        .filter(|row| row.skipped().is_some())
        .filter(|row| match target {
            Target::Latest => true,
            Target::Version(version) => row.version <= version,
        })
        .filter_map(|row| {
            let at = settings
                .migrations
                .binary_search_by_key(&row.version, |m| m.version())
                .ok()?;
            Some(settings.migrations[at])
        })
        // A migration whose condition was removed since (an accepted change) has nothing
        // left to wait for: it is evaluated as true.
        .filter(|m| m.environments().is_none() || settings.environment.is_some())
        .collect();
    let Some(&first) = candidates.first() else {
        return Ok(Some(Vec::new()));
    };
    if begin(backend, first, TxMode::ReadOnly)? == Freshness::Stale {
        rollback(backend, first);
        return Ok(None);
    }
    let mut enabled = Vec::new();
    for m in candidates {
        match evaluate(settings, backend, m, read) {
            Ok(When::Run) => enabled.push(m.version()),
            Ok(When::Skip(_)) => {}
            Err(error) => {
                rollback(backend, m);
                return Err(error);
            }
        }
    }
    rollback(backend, first);
    if !enabled.is_empty() {
        log::info!("skipped migrations whose condition is now true: {enabled:?}");
    }
    Ok(Some(enabled))
}

/// Refuses a plan that would apply a migration limited to environments when none is given.
fn require_environment(settings: &Settings, steps: &[Step]) -> Result<()> {
    if settings.environment.is_some() {
        return Ok(());
    }
    let limited: Vec<(u64, &'static str, &'static str, &'static [&'static str])> = steps
        .iter()
        .filter(|step| step.direction == Direction::Up)
        .filter_map(|step| {
            let m = step.migration;
            m.environments()
                .map(|environments| (m.version(), m.description(), m.file(), environments))
        })
        .collect();
    if limited.is_empty() {
        Ok(())
    } else {
        Err(Error::EnvironmentRequired {
            migrations: limited,
        })
    }
}

/// A step up's condition, before the step's transaction: `When::Run` at once for a step
/// down or a migration without a condition, and for one limited to environments that
/// match, without a predicate; a predicate in a read-only transaction holding the lock
/// (in a batch, a read-only scope of its transaction, which sees the batch's steps so
/// far). `None` when the history changed since it was read.
fn decide(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    run: Run<'_>,
    batch: bool,
) -> Result<Option<When>> {
    let m = step.migration;
    if step.direction == Direction::Down || !m.is_conditional() {
        return Ok(Some(When::Run));
    }
    if m.condition_parts().predicate.is_none() {
        return evaluate(settings, backend, m, &[]).map(Some);
    }
    if begin(backend, m, TxMode::ReadOnly)? == Freshness::Stale {
        rollback(backend, m);
        if batch {
            return Err(failed(
                step,
                true,
                "the history changed under the batch's lock".into(),
            ));
        }
        return Ok(None);
    }
    let when = evaluate(settings, backend, m, &run.history(m.set()));
    rollback(backend, m);
    when.map(Some)
}

/// In the step's open transaction, before its code, what its condition's verdict `when`
/// and its skipped row ask: a step down past a skipped migration removes the row; a step
/// up removes a skipped row the migration had, and records it as skipped again when
/// `when` says so. `Some(report)` when the step is done without code.
fn settle_condition(
    backend: &mut dyn Backend,
    step: Step,
    run: Run<'_>,
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

/// A migration's condition: its environments first, then its predicate, on the database
/// as the open read-only transaction shows it.
fn evaluate(
    settings: &Settings,
    backend: &mut dyn Backend,
    m: &'static RegisteredMigration,
    history: &[HistoryRow],
) -> Result<When> {
    let condition = m.condition_parts();
    let environment = settings.environment.as_deref();
    if let Some(environments) = condition.environments {
        match environment {
            Some(name) if environments.contains(&name) => {}
            Some(name) => {
                return Ok(When::Skip(condition::environment_reason(
                    name,
                    environments,
                )));
            }
            None => {
                return Err(Error::EnvironmentRequired {
                    migrations: vec![(m.version(), m.description(), m.file(), environments)],
                });
            }
        }
    }
    let Some((predicate, path)) = condition.predicate else {
        return Ok(When::Run);
    };
    let failed = |source: BoxError| Error::ConditionFailed {
        version: m.version(),
        description: m.description(),
        file: m.file(),
        condition: path,
        source,
    };
    let name = backend.name();
    let outcome = {
        let mut context = PlanContext {
            environment,
            backend: name,
            applied: history,
            db: backend.db(),
        };
        catch_unwind(AssertUnwindSafe(|| predicate(&mut context)))
    };
    let when = match outcome {
        Ok(Ok(when)) => when,
        Ok(Err(source)) => return Err(failed(source)),
        Err(panic) => {
            return Err(failed(
                format!("panicked: {}", panic_message(&*panic)).into(),
            ));
        }
    };
    Ok(match when {
        When::Skip(reason) if reason.trim().is_empty() => When::Skip(condition::false_reason(path)),
        when => when,
    })
}

/// Opens a transaction holding the lock, naming `m` if that fails.
fn begin(backend: &mut dyn Backend, m: &RegisteredMigration, mode: TxMode) -> Result<Freshness> {
    backend.begin(mode).map_err(|source| {
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
        skipped: None,
    }
}

fn progress(settings: &Settings, done: &StepReport) {
    if let Some(report) = &settings.progress {
        report(done);
    }
}

fn log_step(step: Step, done: &[StepReport]) {
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

fn panic_message(panic: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}
