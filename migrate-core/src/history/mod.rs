//! What a backend remembers of each migration: one [`HistoryRow`] per version, its
//! checksum column decoded once, when read, into a [`RowState`].

use core::time::Duration;

use crate::direction::Direction;

pub(crate) mod marks;

/// What a history row says of its migration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowState {
    /// Its code ran and finished: the migration is applied.
    Applied,
    /// Its condition was false when it would have run: recorded, with the reason, and its
    /// code never ran.
    Skipped {
        /// Why, as the condition said it.
        reason: String,
    },
    /// A migration that runs outside a transaction (`transaction = false`) started and
    /// did not finish: it failed or was killed partway.
    Incomplete {
        /// The way it was running.
        direction: Direction,
    },
}

/// One row of the history: a migration the database has applied, skipped, or started and
/// not finished ([`state`](Self::state)).
///
/// Read its fields; a backend builds one with [`HistoryRow::new`] (and
/// [`with_details`](Self::with_details) for the full read). New fields may be added, so
/// it cannot be built with a struct expression outside this crate:
///
/// ```compile_fail,E0639
/// let row = migrate_core::HistoryRow {
///     set: String::new(),
///     version: 3,
///     description: String::new(),
///     type_name: String::new(),
///     applied_at: String::new(),
///     duration: core::time::Duration::ZERO,
///     checksum: String::new(),
///     state: migrate_core::RowState::Applied,
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HistoryRow {
    /// The set the migration belongs to; `""` for the default set.
    pub set: String,
    /// The migration's version.
    pub version: u64,
    /// Its description when it was recorded.
    pub description: String,
    /// The name of its type when it was recorded.
    pub type_name: String,
    /// When it was recorded, in UTC, as RFC 3339 text (`2026-11-25T09:30:00.123Z`).
    pub applied_at: String,
    /// How long its code took.
    pub duration: Duration,
    /// The checksum of its source when it was recorded
    /// ([`RegisteredMigration::checksum`](crate::RegisteredMigration::checksum)), for a
    /// skipped or incomplete row too.
    pub checksum: String,
    /// Applied, skipped or incomplete.
    pub state: RowState,
}

impl HistoryRow {
    /// A history row as a backend reads it: the set (`""` for the default set), the
    /// version, the text of the checksum column as stored and the `complete` column. Core
    /// decodes the checksum column here, once. The description, type name and time are
    /// empty and the duration zero, as the narrow read
    /// ([`Read::Set`](crate::Read::Set)) leaves them; the full read
    /// ([`Read::All`](crate::Read::All)) adds them with [`with_details`](Self::with_details).
    ///
    /// ```
    /// use migrate_core::{Direction, HistoryRow, RowState};
    ///
    /// let row = HistoryRow::new("", 3, "5d41402abc4b2a76", true);
    /// assert_eq!((row.version, &row.state), (3, &RowState::Applied));
    ///
    /// // The column as a `transaction = false` migration interrupted while going down
    /// // leaves it.
    /// let down = HistoryRow::new("", 4, "down:7d793037a0760186", false);
    /// assert_eq!(down.interrupted_direction(), Some(Direction::Down));
    /// assert_eq!(down.checksum, "7d793037a0760186");
    /// ```
    pub fn new(
        set: impl Into<String>,
        version: u64,
        checksum_column: impl Into<String>,
        complete: bool,
    ) -> Self {
        let (checksum, state) = marks::decode(checksum_column.into(), complete);
        HistoryRow {
            set: set.into(),
            version,
            description: String::new(),
            type_name: String::new(),
            applied_at: String::new(),
            duration: Duration::ZERO,
            checksum,
            state,
        }
    }

    /// The row with what the full read of the history adds: the description and type
    /// name the migration had when it was recorded, when that was (UTC, RFC 3339 text)
    /// and how long its code took.
    ///
    /// ```
    /// use core::time::Duration;
    /// use migrate_core::HistoryRow;
    ///
    /// let row = HistoryRow::new("", 3, "5d41402abc4b2a76", true).with_details(
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
    /// use migrate_core::HistoryRow;
    ///
    /// let row = HistoryRow::new("", 9, "skipped:5d41402abc4b2a76:not dev", true);
    /// assert_eq!(row.skipped(), Some("not dev"));
    /// assert_eq!(HistoryRow::new("", 9, "5d41402abc4b2a76", true).skipped(), None);
    /// ```
    pub fn skipped(&self) -> Option<&str> {
        match &self.state {
            RowState::Skipped { reason } => Some(reason),
            _ => None,
        }
    }

    /// Whether the migration's code ran: a finished row that is not skipped.
    pub fn is_applied(&self) -> bool {
        self.state == RowState::Applied
    }

    /// Whether the row is finished: applied or skipped, not incomplete.
    pub fn is_complete(&self) -> bool {
        !matches!(self.state, RowState::Incomplete { .. })
    }

    /// For an incomplete row (a `transaction = false` migration that did not finish), the
    /// direction it was running in; `None` for a finished row.
    pub fn interrupted_direction(&self) -> Option<Direction> {
        match self.state {
            RowState::Incomplete { direction } => Some(direction),
            _ => None,
        }
    }
}
