//! What a backend remembers of each applied migration.

use core::time::Duration;

use crate::direction::Direction;

/// How a backend marks, in the checksum of an incomplete row, that the migration was
/// being reverted (see [`Backend::record_started`](crate::Backend::record_started)):
/// `down:` followed by the checksum of the migration as applied.
pub const DOWN_MARK: &str = "down:";

/// One row of the history: a migration the database has applied.
///
/// Read its fields; a backend builds one with [`AppliedMigration::new`] (and
/// [`with_details`](Self::with_details) for the full read). New fields may be added, so
/// it cannot be built with a struct expression outside this crate:
///
/// ```compile_fail,E0639
/// let row = migrate_core::AppliedMigration {
///     set: String::new(),
///     version: 3,
///     description: String::new(),
///     type_name: String::new(),
///     applied_at: String::new(),
///     duration: core::time::Duration::ZERO,
///     checksum: String::new(),
///     complete: true,
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    /// A history row as a backend's narrow read gives it to the planner
    /// ([`Backend::read_applied`](crate::Backend::read_applied)): the set (`""` for the
    /// default set), the version, the recorded checksum (for an incomplete down,
    /// [`DOWN_MARK`] followed by it) and whether the migration finished. The description,
    /// type name and time are empty and the duration zero; the full read
    /// ([`Backend::read_history`](crate::Backend::read_history)) adds them with
    /// [`with_details`](Self::with_details).
    ///
    /// ```
    /// use migrate_core::{AppliedMigration, Direction, DOWN_MARK};
    ///
    /// let row = AppliedMigration::new("", 3, "5d41402abc4b2a76", true);
    /// assert_eq!((row.version, row.interrupted_direction()), (3, None));
    ///
    /// let down = AppliedMigration::new("", 4, format!("{DOWN_MARK}7d793037a0760186"), false);
    /// assert_eq!(down.interrupted_direction(), Some(Direction::Down));
    /// ```
    pub fn new(
        set: impl Into<String>,
        version: u64,
        checksum: impl Into<String>,
        complete: bool,
    ) -> Self {
        AppliedMigration {
            set: set.into(),
            version,
            description: String::new(),
            type_name: String::new(),
            applied_at: String::new(),
            duration: Duration::ZERO,
            checksum: checksum.into(),
            complete,
        }
    }

    /// The row with what the full read of the history adds: the description and type
    /// name the migration had when it was applied, when that was (UTC, RFC 3339 text) and
    /// how long its `up` took.
    ///
    /// ```
    /// use core::time::Duration;
    /// use migrate_core::AppliedMigration;
    ///
    /// let row = AppliedMigration::new("", 3, "5d41402abc4b2a76", true).with_details(
    ///     "Add tags",
    ///     "AddTags",
    ///     "2026-11-25T09:30:00.123Z",
    ///     Duration::from_millis(12),
    /// );
    /// assert_eq!(row.description, "Add tags");
    /// assert_eq!(row.duration, Duration::from_millis(12));
    /// ```
    pub fn with_details(
        mut self,
        description: impl Into<String>,
        type_name: impl Into<String>,
        applied_at: impl Into<String>,
        duration: Duration,
    ) -> Self {
        self.description = description.into();
        self.type_name = type_name.into();
        self.applied_at = applied_at.into();
        self.duration = duration;
        self
    }

    /// For a skipped migration's row (its condition was false when it would have run), the
    /// reason; `None` for an applied or incomplete row. A skipped row is not applied: the
    /// migration's code never ran.
    ///
    /// ```
    /// use migrate_core::{AppliedMigration, SKIP_MARK};
    ///
    /// let row = AppliedMigration::new("", 9, format!("{SKIP_MARK}5d41402abc4b2a76:not dev"), true);
    /// assert_eq!(row.skipped(), Some("not dev"));
    /// assert_eq!(AppliedMigration::new("", 9, "5d41402abc4b2a76", true).skipped(), None);
    /// ```
    pub fn skipped(&self) -> Option<&str> {
        crate::condition::parse_skipped(&self.checksum).map(|(_, reason)| reason)
    }

    /// Whether the migration's code ran: a finished row that is not skipped.
    pub fn is_applied(&self) -> bool {
        self.complete && self.skipped().is_none()
    }

    /// The checksum the migration had when it was recorded, for a skipped row too (whose
    /// checksum column also holds the reason).
    pub(crate) fn recorded_checksum(&self) -> &str {
        crate::condition::parse_skipped(&self.checksum).map_or(&self.checksum, |(sum, _)| sum)
    }

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
