//! Conditional migrations: `when = path::to::predicate` and `environments = [..]` in the
//! attribute. The runner evaluates them under the migration lock, in a read-only
//! transaction right before the migration's own (in an all-or-nothing run or a
//! rehearsal: read-only inside the batch's transaction); a migration whose condition is
//! false is recorded as skipped, with the reason, never silently left out and never
//! recorded as applied.

use crate::history::HistoryRow;

use crate::migration::{BoxError, Db};

/// What a condition decides: run the migration, or record it as skipped with a reason.
///
/// A predicate may return `bool` instead: `false` skips with a reason naming the
/// predicate. New decisions may be added, so a `match` on it outside migrate-core needs a
/// `_` arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum When {
    /// Run the migration now.
    Run,
    /// Do not run it: record it as skipped, with this reason (shown by `status`,
    /// `history` and dry runs).
    Skip(String),
}

impl From<bool> for When {
    fn from(run: bool) -> Self {
        if run {
            When::Run
        } else {
            When::Skip(String::new())
        }
    }
}

/// What a condition is given: what the planner knows, and a read-only look at the
/// database, with the migration lock held: a read-only transaction right before the
/// migration's own (in a batch, a read-only scope of the batch's transaction, which sees
/// what the batch did so far).
///
/// ```rust,standalone_crate
/// use migrate_core::{migration, BoxError, Db, Migration, PlanContext, When};
///
/// /// Seed data only where the demo tables exist and the seed has not been loaded by hand.
/// fn demo_database(context: &mut PlanContext<'_>) -> Result<When, BoxError> {
///     if context.environment() == Some("production") {
///         return Ok(When::Skip("never seed production".to_owned()));
///     }
///     Ok(When::Run)
/// }
///
/// #[migration(version = 9, description = "Seed demo users", irreversible, when = demo_database)]
/// pub struct SeedDemoUsers;
///
/// impl Migration for SeedDemoUsers {
///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
///         db.execute("INSERT INTO chat_users (name) VALUES ('demo')")
///     }
/// }
///
/// assert_eq!(SeedDemoUsers::get_migration().condition(), Some("demo_database"));
/// ```
pub struct PlanContext<'a> {
    pub(crate) environment: Option<&'a str>,
    pub(crate) backend: &'static str,
    pub(crate) applied: &'a [HistoryRow],
    pub(crate) db: &'a mut dyn Db,
}

impl PlanContext<'_> {
    /// The environment the application named with
    /// [`Migrator::environment`](crate::Migrator::environment) (`migrate --environment`
    /// on the command line), or `None`.
    pub fn environment(&self) -> Option<&str> {
        self.environment
    }

    /// The backend: `"sqlite"`, `"postgres"`, or what another backend calls itself
    /// ([`Backend::name`](crate::Backend::name)).
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The history of the migration's set as it stands, under the lock: applied rows,
    /// and skipped ones ([`HistoryRow::skipped`]).
    pub fn history(&self) -> &[HistoryRow] {
        self.applied
    }

    /// Whether `version` of the migration's set is applied (not skipped).
    pub fn is_applied(&self, version: u64) -> bool {
        self.applied
            .iter()
            .any(|row| row.version == version && row.is_applied())
    }

    /// The database, read-only: queries work, a write fails (SQLite: `query_only`;
    /// PostgreSQL: a read-only transaction, in a batch a read-only savepoint). Reach the
    /// typed connection as in a migration (`SqliteExt::sqlite`, `PostgresExt::postgres`).
    pub fn db(&mut self) -> &mut dyn Db {
        self.db
    }
}

/// The predicate of `when = ..`, wrapped by the attribute so that it may return `bool`,
/// [`When`], or a `Result` of either.
pub type Predicate = fn(&mut PlanContext<'_>) -> Result<When, BoxError>;

/// What a `when` predicate may return: `bool`, [`When`], or a `Result` of either with an
/// error that converts to [`BoxError`]. Used by the code `#[migration]` generates.
#[diagnostic::on_unimplemented(
    message = "a `when` condition returns `bool`, `When`, or a `Result` of either, not `{Self}`",
    label = "this function is the migration's condition",
    note = "write it as `fn(context: &mut PlanContext<'_>) -> Result<bool, BoxError>` (or `-> bool`, `-> Result<When, BoxError>`)"
)]
///
/// Sealed: implemented for those types only, so that the attribute's contract cannot grow
/// by accident. A type of your own cannot implement it:
///
/// ```rust,compile_fail,E0277
/// use migrate_core::__private::Decision;
/// use migrate_core::{BoxError, When};
///
/// struct Mine;
///
/// impl Decision for Mine {
///     fn decide(self) -> Result<When, BoxError> {
///         Ok(When::Run)
///     }
/// }
/// ```
pub trait Decision: sealed::Sealed {
    /// The decision, or the condition's error.
    fn decide(self) -> Result<When, BoxError>;
}

mod sealed {
    use super::When;
    use crate::migration::BoxError;

    /// Keeps [`Decision`](super::Decision) implemented for `bool`, [`When`] and their
    /// `Result`s only.
    pub trait Sealed {}

    impl Sealed for bool {}
    impl Sealed for When {}
    impl<T: Into<When>, E: Into<BoxError>> Sealed for Result<T, E> {}
}

impl Decision for bool {
    fn decide(self) -> Result<When, BoxError> {
        Ok(self.into())
    }
}

impl Decision for When {
    fn decide(self) -> Result<When, BoxError> {
        Ok(self)
    }
}

impl<T: Into<When>, E: Into<BoxError>> Decision for Result<T, E> {
    fn decide(self) -> Result<When, BoxError> {
        self.map(Into::into).map_err(Into::into)
    }
}

/// A migration's condition as its attribute gives it.
#[derive(Clone, Copy, Debug)]
pub struct Condition {
    pub(crate) predicate: Option<(Predicate, &'static str)>,
    pub(crate) environments: Option<&'static [&'static str]>,
}

impl Condition {
    /// No condition: the migration always runs.
    pub const NONE: Condition = Condition {
        predicate: None,
        environments: None,
    };

    /// A condition; called by the code `#[migration]` generates (through `__private`),
    /// not part of the public API.
    pub const fn new(
        predicate: Option<(Predicate, &'static str)>,
        environments: Option<&'static [&'static str]>,
    ) -> Condition {
        Condition {
            predicate,
            environments,
        }
    }

    /// Whether there is anything to evaluate.
    pub(crate) fn is_some(&self) -> bool {
        self.predicate.is_some() || self.environments.is_some()
    }
}

/// The reason recorded when a predicate returned `false`.
pub(crate) fn false_reason(path: &str) -> String {
    format!("`{path}` returned false")
}

/// The reason recorded when the environment is not one of the migration's.
pub(crate) fn environment_reason(environment: &str, environments: &[&str]) -> String {
    format!(
        "environment {environment:?} is not one of {}",
        environments
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_the_predicate_or_the_environments() {
        assert_eq!(
            false_reason("checks::has_postgis"),
            "`checks::has_postgis` returned false"
        );
        assert_eq!(
            environment_reason("prod", &["dev", "test"]),
            "environment \"prod\" is not one of \"dev\", \"test\""
        );
        assert_eq!(When::from(true), When::Run);
    }
}
