//! What a backend remembers of each applied migration.

use core::time::Duration;

use crate::direction::Direction;

/// How a backend marks, in the checksum of an incomplete row, that the migration was
/// being reverted (see [`Backend::record_started`](crate::Backend::record_started)):
/// `down:` followed by the checksum of the migration as applied.
pub const DOWN_MARK: &str = "down:";

/// One row of the history: a migration the database has applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The set the migration belongs to; `""` for the default set.
    pub set: String,
    /// The migration's version.
    pub version: u64,
    /// Its description when it was applied.
    pub description: String,
    /// The name of its type when it was applied.
    pub type_name: String,
    /// When it was applied, in UTC, as RFC 3339 text (`2026-11-25T09:30:00.123Z`).
    pub applied_at: String,
    /// How long its `up` took.
    pub duration: Duration,
    /// The checksum of its source when it was applied
    /// ([`RegisteredMigration::checksum`](crate::RegisteredMigration::checksum)).
    pub checksum: String,
    /// `false` while a migration that runs outside a transaction (`transaction = false`)
    /// has started and not finished: it failed or was killed partway.
    pub complete: bool,
}

impl AppliedMigration {
    /// For an incomplete row (a `transaction = false` migration that did not finish), the
    /// direction it was running in; `None` for a finished row.
    pub fn interrupted_direction(&self) -> Option<Direction> {
        if self.complete {
            None
        } else if self.checksum.starts_with(DOWN_MARK) {
            Some(Direction::Down)
        } else {
            Some(Direction::Up)
        }
    }
}
