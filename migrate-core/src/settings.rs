//! What a run takes from the [`Migrator`](crate::Migrator): its set, its migrations, its
//! options, its hooks and its progress callback, as plain data. The manager owns one and
//! hands it to the runner, so the runner needs nothing of the manager.

use std::sync::Arc;

use crate::backend::{Backend, HistoryRead, Read};
use crate::discover;
use crate::error::{Error, Result};
use crate::history::HistoryRow;
use crate::migration::{BoxError, Db};
use crate::plan::{PlanOptions, Step};
use crate::registry::RegisteredMigration;
use crate::report::StepReport;

/// Code run before or after every migration's code, where that code runs: inside its
/// transaction, where an error (or a panic) fails the migration and rolls it back; for a
/// migration with `transaction = false`, with no transaction open, where an error fails
/// it and leaves its incomplete mark. See
/// [`Migrator::before_each`](crate::Migrator::before_each).
pub type Hook = Arc<dyn Fn(&Step, &mut dyn Db) -> Result<(), BoxError> + Send + Sync>;

/// Called with each step once it is committed (for a dry run: once it ran). See
/// [`Migrator::on_progress`](crate::Migrator::on_progress).
pub type Progress = Arc<dyn Fn(&StepReport) + Send + Sync>;

/// The settings of a [`Migrator`](crate::Migrator), which the runner reads.
#[derive(Clone, Default)]
pub(crate) struct Settings {
    /// The set the migrations belong to; `""` for the default set.
    pub(crate) set: String,
    /// The known migrations of the set, sorted by version.
    pub(crate) migrations: Vec<&'static RegisteredMigration>,
    /// What the planner accepts.
    pub(crate) options: PlanOptions,
    /// Whether a run applies its migrations in one transaction.
    pub(crate) all_or_nothing: bool,
    /// Runs before each migration's code.
    pub(crate) before: Option<Hook>,
    /// Runs after each migration's code.
    pub(crate) after: Option<Hook>,
    /// Called with each step once it is committed.
    pub(crate) progress: Option<Progress>,
    /// The environment conditions are evaluated in (`Migrator::environment`).
    pub(crate) environment: Option<String>,
    /// How many independent migrations may run at once (`Migrator::parallel`); 0 or 1:
    /// one at a time.
    pub(crate) parallel: usize,
}

impl Settings {
    /// What the planner needs of the history of this set (the narrow read).
    pub(crate) fn read_for_plan(&self, backend: &mut dyn Backend) -> Result<Vec<HistoryRow>> {
        rows(backend.read_history(Read::Set(&self.set)))
    }

    /// The narrow read for a run to the latest migration: `None` when the history holds
    /// exactly the known migrations, applied and unchanged (nothing to do).
    pub(crate) fn read_for_plan_unless_up_to_date(
        &self,
        backend: &mut dyn Backend,
    ) -> Result<Option<Vec<HistoryRow>>> {
        let read = Read::SetUnlessUpToDate {
            set: &self.set,
            known: &self.migrations,
        };
        match backend.read_history(read) {
            Ok(HistoryRead::UpToDate) => Ok(None),
            read => rows(read).map(Some),
        }
    }

    /// Every history row of this set, with every column (the full read).
    pub(crate) fn read_full(&self, backend: &mut dyn Backend) -> Result<Vec<HistoryRow>> {
        let mut rows = rows(backend.read_history(Read::All))?;
        rows.retain(|row| discover::same_set(&row.set, &self.set));
        Ok(rows)
    }
}

/// The rows of a read that asked for rows.
fn rows(read: core::result::Result<HistoryRead, BoxError>) -> Result<Vec<HistoryRow>> {
    match read {
        Ok(HistoryRead::Rows(rows)) => Ok(rows),
        Ok(HistoryRead::UpToDate) => Err(Error::database(
            "read the migration history",
            "the backend answered \"up to date\" to a read that asked for the rows".into(),
        )),
        Err(source) => Err(Error::database("read the migration history", source)),
    }
}
