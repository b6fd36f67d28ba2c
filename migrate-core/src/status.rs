//! The state of every migration, as `Migrator::status` reports it.

use core::time::Duration;

/// Where a migration stands in one database. New states may be added: match with a
/// `_` arm.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Applied, with when and how long it took.
    Applied {
        /// When it was applied, in UTC, as RFC 3339 text.
        applied_at: String,
        /// How long its `up` took.
        duration: Duration,
    },
    /// Applied, but its source changed since: its checksum differs from the recorded one.
    /// Runs are refused until the change is undone or accepted.
    Modified {
        /// When it was applied, in UTC, as RFC 3339 text.
        applied_at: String,
        /// How long its `up` took.
        duration: Duration,
    },
    /// Started outside a transaction (`transaction = false`) and not finished.
    Incomplete {
        /// When it was started, in UTC, as RFC 3339 text.
        started_at: String,
    },
    /// Not applied: its condition (`when`, `environments`) was false when it would have
    /// run, so it was recorded as skipped. Every run evaluates the condition again; once
    /// it is true, the migration is pending.
    Skipped {
        /// Why: the condition's reason, or which environment it was not for.
        reason: String,
        /// When it was recorded as skipped, in UTC, as RFC 3339 text.
        skipped_at: String,
    },
    /// Known to this program, not applied yet.
    Pending,
    /// Applied in the database, but this program does not contain it.
    Unknown {
        /// When it was applied, in UTC, as RFC 3339 text.
        applied_at: String,
    },
}

/// One line of a status report.
///
/// Read its fields; new ones may be added, so it cannot be built with a struct expression
/// outside this crate:
///
/// ```compile_fail,E0639
/// let line = migrate_core::MigrationStatus {
///     version: 1,
///     description: String::new(),
///     file: None,
///     reversible: false,
///     state: migrate_core::State::Pending,
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationStatus {
    /// The migration's version.
    pub version: u64,
    /// Its description (from the history for an unknown migration).
    pub description: String,
    /// The file that defines it; `None` for an unknown migration.
    pub file: Option<&'static str>,
    /// Whether it has a `down`; `false` for an unknown migration.
    pub reversible: bool,
    /// Applied, pending or unknown.
    pub state: State,
}
