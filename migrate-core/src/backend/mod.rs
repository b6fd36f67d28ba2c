//! What the manager needs from a database: [`Backend`], twelve methods, the same for
//! every database. Backends (SQLite, PostgreSQL) implement it; the manager holds the
//! logic and calls them in the order the trait's documentation gives.

use core::time::Duration;

use crate::direction::Direction;
use crate::history::{HistoryRow, RowState, marks};
use crate::migration::{BoxError, Db};
use crate::registry::RegisteredMigration;

pub(crate) mod calls;
mod sessions;

pub use sessions::{Sessions, Unsupported};

/// Whether the history read by [`Backend::read_history`] still holds once the migration
/// lock is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Freshness {
    /// Nobody else has written since the history was read: the plan stands.
    Current,
    /// Another connection committed in between: the manager rolls back, reads the
    /// history again and plans anew.
    Stale,
}

/// What a backend can do, where databases differ ([`Backend::capabilities`]).
///
/// ```
/// use migrate_core::Capabilities;
///
/// let sqlite = Capabilities::TRANSACTIONAL;
/// assert!(sqlite.transactional_ddl);
/// assert!(!sqlite.without_transactional_ddl().transactional_ddl);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Whether a schema change rolls back with its transaction (SQLite and PostgreSQL:
    /// yes; MySQL: no, DDL commits implicitly). Without it, the manager runs every
    /// migration as it runs a `transaction = false` one (an incomplete mark first, the
    /// code with no transaction of the manager's open, then the record), and refuses
    /// to run several in one transaction.
    pub transactional_ddl: bool,
}

impl Capabilities {
    /// A backend whose DDL is transactional (SQLite, PostgreSQL).
    pub const TRANSACTIONAL: Capabilities = Capabilities {
        transactional_ddl: true,
    };

    /// The same, for a database whose DDL commits implicitly.
    #[must_use]
    pub const fn without_transactional_ddl(mut self) -> Self {
        self.transactional_ddl = false;
        self
    }
}

/// Which history [`Backend::read_history`] reads.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Read<'a> {
    /// Every row of every set, with every column, sorted by set and version: for
    /// `status`, `history` and to word a refusal.
    All,
    /// What the planner needs of one set, sorted by version: each row's set, version,
    /// checksum column and `complete` column ([`HistoryRow::new`]); the other fields may
    /// be left empty.
    Set(&'a str),
    /// As [`Set`](Self::Set), for a run to the latest migration, which at start-up usually
    /// finds nothing to do: [`HistoryRead::UpToDate`] when the history of `set` holds
    /// exactly `known` (the set's migrations, sorted by version) — one applied row per
    /// migration, in the same order, with the migration's
    /// [`checksum`](RegisteredMigration::checksum) — and nothing else; otherwise the
    /// rows. A backend may decide on the rows as they arrive, without building them
    /// ([`HistoryRead::unless_up_to_date`] decides on built ones), or from a cache it
    /// keeps up to date itself (SQLite's fast start). After `UpToDate`, a backend may
    /// take any change as a change of the history at the next [`begin`](Backend::begin):
    /// the manager reads again before it plans.
    SetUnlessUpToDate {
        /// The set.
        set: &'a str,
        /// Its known migrations, sorted by version.
        known: &'a [&'static RegisteredMigration],
    },
}

/// What [`Backend::read_history`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryRead {
    /// The rows asked for.
    Rows(Vec<HistoryRow>),
    /// Only for [`Read::SetUnlessUpToDate`]: the history holds exactly the known
    /// migrations, applied and unchanged; nothing to do.
    UpToDate,
}

impl HistoryRead {
    /// [`UpToDate`](Self::UpToDate) when `rows` (one set's, sorted by version) are
    /// exactly `known`, as [`Read::SetUnlessUpToDate`] asks; otherwise the rows.
    ///
    /// ```
    /// use migrate_core::{HistoryRead, HistoryRow};
    ///
    /// let rows = vec![HistoryRow::new("", 3, "5d41402abc4b2a76", false)];
    /// // An unfinished row is never up to date, whatever the known migrations are.
    /// assert_eq!(
    ///     HistoryRead::unless_up_to_date(rows.clone(), &[]),
    ///     HistoryRead::Rows(rows)
    /// );
    /// assert_eq!(HistoryRead::unless_up_to_date(Vec::new(), &[]), HistoryRead::UpToDate);
    /// ```
    pub fn unless_up_to_date(rows: Vec<HistoryRow>, known: &[&RegisteredMigration]) -> Self {
        let up_to_date = rows.len() == known.len()
            && rows.iter().zip(known).all(|(row, m)| {
                row.version == m.version() && row.is_applied() && row.checksum == m.checksum()
            });
        if up_to_date {
            HistoryRead::UpToDate
        } else {
            HistoryRead::Rows(rows)
        }
    }
}

/// One change of the history, in the open transaction ([`Backend::write_history`]).
/// Core encodes every row; a backend stores what it is given.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum HistoryChange<'a> {
    /// Insert a row. The version has no row in its set: the manager deletes an earlier
    /// one first.
    Insert(NewRow<'a>),
    /// Delete the row of `version` in `set`, if there is one.
    Delete {
        /// The set; `""` for the default set.
        set: &'a str,
        /// The version.
        version: u64,
    },
    /// Store `checksum_column` as the checksum column of the row of `version` in `set`
    /// (an applied migration whose changed source was accepted).
    SetChecksum {
        /// The set; `""` for the default set.
        set: &'a str,
        /// The version.
        version: u64,
        /// The column's new text.
        checksum_column: &'a str,
    },
}

/// A history row to insert ([`HistoryChange::Insert`]): its columns, encoded by core.
#[derive(Clone, Debug)]
pub struct NewRow<'a> {
    migration: &'a RegisteredMigration,
    state: RowState,
    checksum_column: String,
    duration: Duration,
}

impl<'a> NewRow<'a> {
    fn new(migration: &'a RegisteredMigration, state: RowState, duration: Duration) -> Self {
        NewRow {
            checksum_column: marks::encode(migration.checksum(), &state),
            migration,
            state,
            duration,
        }
    }

    /// The row of a migration whose code ran and finished.
    pub(crate) fn applied(migration: &'a RegisteredMigration, duration: Duration) -> Self {
        Self::new(migration, RowState::Applied, duration)
    }

    /// The row of a migration whose condition was false.
    pub(crate) fn skipped(migration: &'a RegisteredMigration, reason: &str) -> Self {
        let reason = reason.to_owned();
        Self::new(migration, RowState::Skipped { reason }, Duration::ZERO)
    }

    /// The mark of a `transaction = false` migration whose code is about to run.
    pub(crate) fn started(migration: &'a RegisteredMigration, direction: Direction) -> Self {
        Self::new(
            migration,
            RowState::Incomplete { direction },
            Duration::ZERO,
        )
    }

    /// The `migration_set` column; `""` for the default set.
    pub fn set(&self) -> &'static str {
        self.migration.set()
    }

    /// The `version` column.
    pub fn version(&self) -> u64 {
        self.migration.version()
    }

    /// The `description` column.
    pub fn description(&self) -> &'static str {
        self.migration.description()
    }

    /// The `type_name` column.
    pub fn type_name(&self) -> &'static str {
        self.migration.type_name()
    }

    /// The text of the `checksum` column, marks included: store it as it is.
    pub fn checksum_column(&self) -> &str {
        &self.checksum_column
    }

    /// The `duration_us` column: how long the code took (zero for a mark or a skip).
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The `complete` column: `false` for the mark of a migration that has started.
    pub fn complete(&self) -> bool {
        !matches!(self.state, RowState::Incomplete { .. })
    }

    /// What the row says, for a backend that keeps a cache of the history (SQLite's fast
    /// start): the state [`HistoryRow::new`] decodes from these columns.
    pub fn state(&self) -> &RowState {
        &self.state
    }

    /// The migration's checksum, without any mark: the
    /// [`checksum`](HistoryRow::checksum) the row reads back with.
    pub fn checksum(&self) -> &'static str {
        self.migration.checksum()
    }
}

/// The transaction [`Backend::begin`] opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxMode {
    /// A transaction that may write, holding the migration lock: a step, a batch of
    /// steps, or a history edit.
    Write,
    /// A read-only transaction holding the migration lock, in which conditions are
    /// evaluated (any write fails); the manager always ends it with
    /// [`rollback`](Backend::rollback). Opened while a write transaction is open, which
    /// happens only in a batch (all-or-nothing runs, rehearsals), on a backend with
    /// [`transactional_ddl`](Capabilities::transactional_ddl), it is a read-only scope
    /// inside that transaction, which sees what the batch did so far, and its
    /// `rollback` ends only the scope.
    ReadOnly,
}

/// Where a migration's code runs ([`Backend::prepare_code`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeScope {
    /// Inside the transaction that also records it.
    InTransaction,
    /// With no transaction of the manager's open: a `transaction = false` migration,
    /// between the commit of its mark and the transaction of its record.
    OutsideTransaction,
}

/// A database the manager can migrate.
///
/// Every method but [`sessions`](Self::sessions) is required, so that a wrapper (a
/// decorator that logs, injects faults, counts) that forgets one does not compile,
/// instead of silently dropping a lock release, a `lock_timeout` or a check.
///
/// ```compile_fail,E0046
/// use migrate_core::{Backend, BoxError, Capabilities, CodeScope, Db, Freshness};
/// use migrate_core::{HistoryChange, HistoryRead, Read, RegisteredMigration, TxMode};
///
/// /// Logs the runs of a SQLite database, and forgets `verify` (the foreign-key check).
/// struct Logged(migrate_sqlite::Sqlite);
///
/// impl Backend for Logged {
///     fn name(&self) -> &'static str { self.0.name() }
///     fn capabilities(&self) -> Capabilities { self.0.capabilities() }
///     fn read_history(&mut self, read: Read<'_>) -> Result<HistoryRead, BoxError> {
///         self.0.read_history(read)
///     }
///     fn write_history(&mut self, change: HistoryChange<'_>) -> Result<(), BoxError> {
///         self.0.write_history(change)
///     }
///     fn begin(&mut self, mode: TxMode) -> Result<Freshness, BoxError> { self.0.begin(mode) }
///     fn commit(&mut self) -> Result<(), BoxError> { self.0.commit() }
///     fn rollback(&mut self) -> Result<(), BoxError> { self.0.rollback() }
///     fn end_run(&mut self) -> Result<(), BoxError> { self.0.end_run() }
///     fn db(&mut self) -> &mut dyn Db { self.0.db() }
///     fn prepare_code(&mut self, m: &RegisteredMigration, s: CodeScope) -> Result<(), BoxError> {
///         self.0.prepare_code(m, s)
///     }
/// }
/// ```
///
/// # The order of the calls
///
/// Each call of a [`Migrator`](crate::Migrator) operation is one run:
///
/// 1. For a run that applies or reverts, [`capabilities`](Self::capabilities) once (and
///    for a parallel one [`sessions`](Self::sessions), to refuse early); then
///    [`read_history`](Self::read_history):
///    [`Read::SetUnlessUpToDate`] for a run to the latest migration, [`Read::Set`]
///    otherwise. [`HistoryRead::UpToDate`] ends the run there. Every read marks the point
///    the next `begin` compares with.
/// 2. When the history holds skipped migrations that could run now:
///    [`begin`](Self::begin)`(ReadOnly)`, their conditions (through [`db`](Self::db)),
///    [`rollback`](Self::rollback).
/// 3. Per step, in its own transaction: for a migration with a `when` predicate first
///    `begin(ReadOnly)`, the predicate, `rollback`; then `begin(Write)` (on
///    [`Freshness::Stale`]: `rollback` and back to 1), the history writes that need no code
///    ([`write_history`](Self::write_history): a skipped row goes, a false condition is
///    recorded), [`prepare_code`](Self::prepare_code)`(InTransaction)`, the `before_each`
///    hook, `up` or `down`, and the `after_each` hook through `db`,
///    [`verify`](Self::verify), `write_history` (the step's row inserted or deleted),
///    [`commit`](Self::commit); any failure: `rollback`.
/// 4. A migration that runs outside a transaction (`transaction = false`): its condition
///    as in 3; `begin(Write)`, `write_history` (any earlier row deleted, its incomplete
///    mark inserted), `commit`;
///    `prepare_code(OutsideTransaction)`, the hooks and its code with no transaction open;
///    `begin(Write)`, `verify`, `write_history` (the mark goes, the row comes), `commit`.
/// 5. Several steps in one transaction (an all-or-nothing run, a dry run, a redo):
///    `begin(Write)`, then per step 3 without its `begin(Write)`, `verify` and `commit`, a
///    predicate's `begin(ReadOnly)` and `rollback` being a read-only scope inside the
///    transaction; `verify` once, after the last step; `commit` (a dry run: `rollback`).
/// 6. History edits that run no code (baseline, accepted changes, a cleared mark):
///    `begin(Write)`, `write_history`, `commit`.
/// 7. A parallel run ([`Migrator::parallel`](crate::Migrator::parallel)): `begin(Write)`,
///    [`sessions`](Self::sessions) and [`Sessions::sibling`] per worker, `commit`; each
///    sibling runs steps as in 3 and 4, then its own `end_run`.
/// 8. [`end_run`](Self::end_run) last, whatever happened.
///
/// [`read_history`](Self::read_history)`(Read::All)` comes only to word a refusal, or
/// for `status`.
pub trait Backend {
    /// What the backend calls itself to a migration's condition
    /// ([`PlanContext::backend`](crate::PlanContext::backend)): `"sqlite"`, `"postgres"`.
    fn name(&self) -> &'static str;

    /// What the backend can do where databases differ.
    fn capabilities(&self) -> Capabilities;

    /// Reads the history `read` asks for. Writes nothing: a database without a history
    /// table has an empty history. Marks the point that [`begin`](Self::begin) compares
    /// with.
    ///
    /// # Errors
    ///
    /// When the history cannot be read, or its table is not one migrate wrote.
    fn read_history(&mut self, read: Read<'_>) -> Result<HistoryRead, BoxError>;

    /// Writes one change of the history, in the open write transaction.
    ///
    /// # Errors
    ///
    /// When the database refuses it; the manager rolls back.
    fn write_history(&mut self, change: HistoryChange<'_>) -> Result<(), BoxError>;

    /// Opens a transaction holding the migration lock (taking it first, within the
    /// backend's bounded wait, unless it is held across the run), creates the history
    /// table if it is missing (a write transaction only), and reports whether the
    /// history changed since it was last read.
    ///
    /// # Errors
    ///
    /// When the lock is not had in time ([`Error::LockTimeout`](crate::Error::LockTimeout)
    /// where the backend can name its holder) or the transaction cannot be started.
    fn begin(&mut self, mode: TxMode) -> Result<Freshness, BoxError>;

    /// Commits the open transaction.
    ///
    /// # Errors
    ///
    /// When the commit fails; the manager rolls back.
    fn commit(&mut self) -> Result<(), BoxError>;

    /// Rolls the open transaction back (a read-only scope inside a write transaction:
    /// only the scope).
    ///
    /// # Errors
    ///
    /// When the database reports an error; the transaction is gone either way.
    fn rollback(&mut self) -> Result<(), BoxError>;

    /// Called once when a run ends, whatever its outcome, after its last commit or
    /// rollback: a backend that holds its lock across the steps of a run (PostgreSQL's
    /// advisory lock) releases it here, and undoes the session settings a migration
    /// outside a transaction made. A backend with nothing to do returns `Ok(())`.
    ///
    /// # Errors
    ///
    /// When the lock cannot be released; the run's outcome stands.
    fn end_run(&mut self) -> Result<(), BoxError>;

    /// The database as migration code and conditions see it: inside the open
    /// transaction, or with none for a migration that runs outside one.
    fn db(&mut self) -> &mut dyn Db;

    /// Called right before a migration's code runs (before the
    /// [`Migrator::before_each`](crate::Migrator::before_each) hook, then `up` or `down`).
    /// A backend applies the migration's own settings here, such as its
    /// [`lock_timeout`](RegisteredMigration::lock_timeout), and undoes those of the
    /// migration before it in the same transaction; settings made outside a transaction
    /// it undoes itself at its next [`begin`](Self::begin) or [`end_run`](Self::end_run).
    /// A backend with nothing to set returns `Ok(())`.
    ///
    /// # Errors
    ///
    /// An error fails the migration as an error of its code would.
    fn prepare_code(
        &mut self,
        migration: &RegisteredMigration,
        scope: CodeScope,
    ) -> Result<(), BoxError>;

    /// Checks what a migration left behind before it is recorded, in the open write
    /// transaction (SQLite: foreign keys, when they are enforced). A backend whose
    /// database checks everything itself returns `Ok(())`.
    ///
    /// # Errors
    ///
    /// What is wrong; the migration fails and is rolled back.
    fn verify(&mut self) -> Result<(), BoxError>;

    /// More sessions for a run of independent migrations at once, offered only by a
    /// backend whose lock is held across a run, until [`end_run`](Self::end_run); `Err`
    /// says why not (SQLite: one writer at a time). The default: not supported.
    ///
    /// # Errors
    ///
    /// [`Unsupported`], with the reason and what to do instead.
    fn sessions(&mut self) -> Result<&mut dyn Sessions, Unsupported> {
        Err(Unsupported::new(
            "this backend runs one migration at a time",
        ))
    }
}
