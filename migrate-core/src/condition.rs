//! Conditional migrations: `when = path::to::predicate` and `environments = [..]` in the
//! attribute. The runner evaluates them under the write lock, right before the migration
//! would run; a migration whose condition is false is recorded as skipped, with the
//! reason, never silently left out and never recorded as applied.

use crate::history::AppliedMigration;
use crate::migration::{BoxError, Db};

/// How a backend marks a skipped migration's history row: the checksum column holds
/// `skipped:`, the migration's checksum, `:` and the reason. An older build of migrate
/// reads it as a changed checksum and refuses, rather than taking it for applied.
pub const SKIP_MARK: &str = "skipped:";

/// What a condition decides: run the migration, or record it as skipped with a reason.
///
/// A predicate may return `bool` instead: `false` skips with a reason naming the
/// predicate.
#[derive(Clone, Debug, PartialEq, Eq)]
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
/// database, inside the transaction the migration would run in, with the write lock held.
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
    pub(crate) applied: &'a [AppliedMigration],
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
    /// ([`Backend::kind`](crate::Backend::kind)).
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// The history of the migration's set as it stands, under the lock: applied rows,
    /// and skipped ones ([`AppliedMigration::skipped`]).
    pub fn history(&self) -> &[AppliedMigration] {
        self.applied
    }

    /// Whether `version` of the migration's set is applied (not skipped).
    pub fn is_applied(&self, version: u64) -> bool {
        self.applied
            .iter()
            .any(|row| row.version == version && row.complete && row.skipped().is_none())
    }

    /// The database, read-only: queries work, a write fails (SQLite: `query_only`;
    /// PostgreSQL: a read-only savepoint). Reach the typed connection as in a migration
    /// (`SqliteExt::sqlite`, `PostgresExt::postgres`).
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
pub trait Decision {
    /// The decision, or the condition's error.
    fn decide(self) -> Result<When, BoxError>;
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

/// The checksum column of a skipped row.
pub(crate) fn skipped_checksum(checksum: &str, reason: &str) -> String {
    format!("{SKIP_MARK}{checksum}:{reason}")
}

/// The checksum and the reason of a skipped row's checksum column.
pub(crate) fn parse_skipped(column: &str) -> Option<(&str, &str)> {
    column.strip_prefix(SKIP_MARK)?.split_once(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_rows_checksum_column_holds_the_checksum_and_the_reason() {
        let column = skipped_checksum("5d41402abc4b2a76", "no PostGIS: it's missing");
        assert_eq!(column, "skipped:5d41402abc4b2a76:no PostGIS: it's missing");
        assert_eq!(
            parse_skipped(&column),
            Some(("5d41402abc4b2a76", "no PostGIS: it's missing"))
        );
        assert_eq!(parse_skipped("5d41402abc4b2a76"), None);
        assert_eq!(parse_skipped("down:5d41402abc4b2a76"), None);
    }

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
