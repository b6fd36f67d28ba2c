//! What the manager needs from a database. Backends (SQLite, PostgreSQL) implement
//! [`Backend`]; the manager holds the logic and calls these in order.

use core::time::Duration;

use crate::history::AppliedMigration;
use crate::migration::{BoxError, Db};
use crate::plan::Direction;
use crate::registry::RegisteredMigration;

/// Whether the history read by [`Backend::read_history`] still holds once the write
/// lock is taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Nobody else has written since the history was read: the plan stands.
    Current,
    /// Another connection committed in between: the manager rolls back, reads the
    /// history again and plans anew.
    Stale,
}

/// A database the manager can migrate.
///
/// The manager calls, per run: [`read_applied`](Self::read_applied) once, or for a run to
/// the latest migration [`read_applied_unless_up_to_date`](Self::read_applied_unless_up_to_date)
/// (and [`read_history`](Self::read_history) only to word a refusal); then per step
/// [`begin`](Self::begin), [`before_code`](Self::before_code), the migration's code
/// (and the [`Migrator`](crate::Migrator)'s hooks) through [`db`](Self::db),
/// [`check`](Self::check), [`record_applied`](Self::record_applied) or
/// [`remove_applied`](Self::remove_applied), [`store_fingerprint`](Self::store_fingerprint)
/// and [`commit`](Self::commit), or [`rollback`](Self::rollback) on any failure. A
/// migration that runs outside a transaction uses [`db`](Self::db) with no transaction
/// open: `begin`, its mark, `commit`; `before_code` and its code with no transaction;
/// then `begin`, its record, `commit`. In one transaction for several steps (an
/// all-or-nothing run, a dry run, a redo), `before_code` comes before each step's code.
pub trait Backend {
    /// Reads every applied migration of every set, sorted by set and version. Writes
    /// nothing: a database without a history table has an empty history.
    fn read_history(&mut self) -> Result<Vec<AppliedMigration>, BoxError>;

    /// Reads what the planner needs of the history of one set, sorted by version: each
    /// row's `set`, `version`, `checksum` and `complete`. The other fields may be left
    /// empty (the manager reads [`read_history`](Self::read_history) when it needs them
    /// for a message). Like `read_history`, it marks the point that
    /// [`begin`](Self::begin) compares with. The default filters `read_history`.
    fn read_applied(&mut self, set: &str) -> Result<Vec<AppliedMigration>, BoxError> {
        let mut rows = self.read_history()?;
        rows.retain(|row| row.set == set);
        Ok(rows)
    }

    /// [`read_applied`](Self::read_applied) for a run to the latest migration, which at
    /// start-up usually finds nothing to do: `None` when the history of `set` holds
    /// exactly `known` (the set's migrations, sorted by version) — one finished row per
    /// migration, in the same order, whose checksum column equals the migration's
    /// [`checksum`](RegisteredMigration::checksum) — and nothing else; otherwise the rows
    /// as `read_applied` gives them. Either way it marks the point that
    /// [`begin`](Self::begin) compares with (after `None`, a backend may take any change
    /// as a change of the history: the manager reads again before it plans). A backend
    /// may decide `None` on the rows as they arrive, without building them. The default
    /// reads `read_applied` and compares.
    fn read_applied_unless_up_to_date(
        &mut self,
        set: &str,
        known: &[&'static RegisteredMigration],
    ) -> Result<Option<Vec<AppliedMigration>>, BoxError> {
        let rows = self.read_applied(set)?;
        let up_to_date = rows.len() == known.len()
            && rows.iter().zip(known).all(|(row, m)| {
                row.version == m.version() && row.complete && row.checksum == m.checksum()
            });
        Ok((!up_to_date).then_some(rows))
    }

    /// Starts the transaction of one step holding the database's write lock (waiting for
    /// it rather than failing), creates the history table if it is missing, and reports
    /// whether the history changed since it was last read.
    fn begin(&mut self) -> Result<Freshness, BoxError>;

    /// The database as migration code sees it: inside the open transaction, or with none
    /// for a migration that runs outside one.
    fn db(&mut self) -> &mut dyn Db;

    /// Called right before a migration's code runs (before the
    /// [`Migrator::before_each`](crate::Migrator::before_each) hook, then `up` or `down`):
    /// inside its transaction when `in_transaction` is true, with no transaction open
    /// for a migration with `transaction = false`. A backend applies the migration's own
    /// settings here, such as its [`lock_timeout`](RegisteredMigration::lock_timeout),
    /// and undoes those of the migration before it in the same transaction; settings
    /// made outside a transaction it undoes itself at its next
    /// [`begin`](Self::begin) or [`end_run`](Self::end_run). An error fails the migration
    /// as an error of its code would. The default does nothing.
    fn before_code(
        &mut self,
        migration: &RegisteredMigration,
        in_transaction: bool,
    ) -> Result<(), BoxError> {
        let _ = (migration, in_transaction);
        Ok(())
    }

    /// Checks what a migration left behind before it is recorded (for SQLite, foreign keys
    /// when they are enforced), in the open transaction.
    fn check(&mut self) -> Result<(), BoxError>;

    /// Records `migration` (its set, version, description, type name and checksum) as
    /// applied, or as started when `complete` is `false`, in the open transaction. The
    /// version has no row: the manager removes an earlier one first.
    fn record_applied(
        &mut self,
        migration: &RegisteredMigration,
        duration: Duration,
        complete: bool,
    ) -> Result<(), BoxError>;

    /// Marks `migration` as started and not finished, in the open transaction, for a
    /// migration that runs outside a transaction: a row with `complete` false whose
    /// [`AppliedMigration::interrupted_direction`] is `direction` when read back. For
    /// `Direction::Down` that means the checksum is stored as
    /// [`DOWN_MARK`](crate::DOWN_MARK) followed by the migration's checksum. The version
    /// has no row: the manager removes an earlier one first.
    fn record_started(
        &mut self,
        migration: &RegisteredMigration,
        direction: Direction,
    ) -> Result<(), BoxError>;

    /// Records `migration` as skipped (its condition was false), in the open transaction:
    /// a finished row like [`record_applied`](Self::record_applied)'s with a zero duration,
    /// whose checksum column holds `checksum`, the text given ([`SKIP_MARK`](crate::SKIP_MARK),
    /// the migration's checksum and the reason), read back as it is. The version has no
    /// row: the manager removes an earlier one first. The default refuses: a backend
    /// that cannot store it cannot run conditional migrations.
    fn record_skipped(
        &mut self,
        migration: &RegisteredMigration,
        checksum: &str,
    ) -> Result<(), BoxError> {
        let _ = checksum;
        Err(format!(
            "this backend cannot record migration {migration} as skipped; run it with a backend \
             that supports conditional migrations (SQLite, PostgreSQL)"
        )
        .into())
    }

    /// Makes [`db`](Self::db) read-only (`true`) in the open transaction while a
    /// migration's condition is evaluated, and writable again (`false`). The default does
    /// nothing: the condition is trusted not to write.
    fn read_only(&mut self, on: bool) -> Result<(), BoxError> {
        let _ = on;
        Ok(())
    }

    /// What the backend calls itself to a migration's condition
    /// ([`PlanContext::backend`](crate::PlanContext::backend)): `"sqlite"`, `"postgres"`.
    fn kind(&self) -> &'static str {
        "unknown"
    }

    /// Removes the history row of `version` in `set`, in the open transaction.
    fn remove_applied(&mut self, set: &str, version: u64) -> Result<(), BoxError>;

    /// Records the current checksum of an applied migration, in the open transaction.
    fn update_checksum(&mut self, migration: &RegisteredMigration) -> Result<(), BoxError>;

    /// The history's fingerprint as [`store_fingerprint`](Self::store_fingerprint) left
    /// it, read where that costs next to nothing (SQLite: a header field, no schema load);
    /// `None` when the backend keeps none or its fast start is off. The manager trusts it
    /// only when it equals the fingerprint of every migration the program knows; then it
    /// skips reading the history.
    fn read_fingerprint(&mut self) -> Result<Option<u32>, BoxError> {
        Ok(None)
    }

    /// Called in every transaction that changes the history, before its commit:
    /// `Some(value)` is the fingerprint of the history as the transaction leaves it (every
    /// finished migration of the set), `None` when that history must never be taken as
    /// up to date by a fast start (it holds an incomplete mark). A backend that keeps a
    /// fingerprint stores it in the same transaction, or invalidates the stored one; it
    /// must do so even when its fast start is off, so that a value it stored earlier
    /// never outlives the history it described.
    fn store_fingerprint(&mut self, fingerprint: Option<u32>) -> Result<(), BoxError> {
        let _ = fingerprint;
        Ok(())
    }

    /// Commits the open transaction.
    fn commit(&mut self) -> Result<(), BoxError>;

    /// Rolls the open transaction back.
    fn rollback(&mut self) -> Result<(), BoxError>;

    /// Whether this backend can run independent migrations at once, each on a session
    /// of its own ([`Migrator::parallel`](crate::Migrator::parallel)); `Err` says why not
    /// (SQLite: one writer at a time). The default cannot.
    fn parallel_support(&self) -> Result<(), String> {
        Err("this backend runs one migration at a time".to_owned())
    }

    /// Another session on the same database, history table and set, for a run that
    /// applies independent migrations at once: opened after this session took the
    /// migration lock, it runs steps under that lock (it never takes the lock itself,
    /// and its [`begin`](Self::begin) always reports [`Freshness::Current`]: the run that
    /// opened it made its plan under the lock). Offered only by a backend whose lock is
    /// held across a run, until [`end_run`](Self::end_run), and whose
    /// [`parallel_support`](Self::parallel_support) is `Ok`. The default refuses.
    fn sibling(&mut self) -> Result<Box<dyn Backend + Send>, BoxError> {
        Err(self
            .parallel_support()
            .err()
            .unwrap_or_else(|| "this backend cannot open another session".to_owned())
            .into())
    }

    /// Called once when a run that may have called [`begin`](Self::begin) ends, whatever
    /// its outcome, after its last commit or rollback: a backend that holds its lock
    /// across the steps of a run (PostgreSQL's advisory lock) releases it here. The
    /// default does nothing.
    fn end_run(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
}
