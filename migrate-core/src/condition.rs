//! Conditions, evaluated under the migration lock (the I/O between the history read and
//! the pure planner): the skipped migrations that may run now, the environments a plan
//! needs, and a step's verdict right before its transaction.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::backend::calls::{begin, rollback};
use crate::backend::{Backend, Freshness, TxMode};
use crate::error::{EnvironmentLimited, Error, MigrationRef, Result, panic_message};
use crate::history::HistoryRow;
use crate::migration::BoxError;
use crate::plan::{Direction, Step, Target};
use crate::registry::RegisteredMigration;
use crate::registry::condition::{self, PlanContext, When};
use crate::report::StepReport;
use crate::settings::Settings;

/// What a step knows of the run it is part of: the history as read when the run planned
/// (skipped rows included), and the steps done since.
#[derive(Clone, Copy)]
pub(crate) struct RunSoFar<'a> {
    pub(crate) read: &'a [HistoryRow],
    pub(crate) done: &'a [StepReport],
}

impl RunSoFar<'_> {
    /// The history as it stands now, for a condition: the read, with this run's steps.
    pub(crate) fn history(&self, set: &str) -> Vec<HistoryRow> {
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
    pub(crate) fn skipped_row(&self, version: u64) -> Option<&str> {
        self.read
            .iter()
            .find(|row| row.version == version)
            .and_then(HistoryRow::skipped)
            .filter(|_| !self.done.iter().any(|done| done.version == version))
    }
}

/// The skipped migrations (up to the target) whose condition is true now; `None` when the
/// history changed since `read` (plan again). Their predicates are evaluated in one
/// read-only transaction holding the lock; nothing to evaluate, no transaction: a history
/// without skipped rows costs nothing here. A migration limited to environments is not
/// evaluated when no environment is given: it stays skipped. One that has no condition
/// any more is pending again.
pub(crate) fn reenable_skipped(
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
pub(crate) fn require_environment(settings: &Settings, steps: &[Step]) -> Result<()> {
    if settings.environment.is_some() {
        return Ok(());
    }
    let limited: Vec<EnvironmentLimited> = steps
        .iter()
        .filter(|step| step.direction == Direction::Up)
        .filter_map(|step| {
            let m = step.migration;
            m.environments().map(|environments| EnvironmentLimited {
                migration: MigrationRef::of(m),
                environments,
            })
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
pub(crate) fn decide(
    settings: &Settings,
    backend: &mut dyn Backend,
    step: Step,
    run: RunSoFar<'_>,
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
        return Ok(None);
    }
    let when = evaluate(settings, backend, m, &run.history(m.set()));
    rollback(backend, m);
    when.map(Some)
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
                    migrations: vec![EnvironmentLimited {
                        migration: MigrationRef::of(m),
                        environments,
                    }],
                });
            }
        }
    }
    let Some((predicate, path)) = condition.predicate else {
        return Ok(When::Run);
    };
    let failed = |source: BoxError| Error::ConditionFailed {
        migration: MigrationRef::of(m),
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
