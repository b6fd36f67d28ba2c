//! What a history read returned, kept in the form `begin` compares: a run that takes the
//! lock after it read the history reads again, and replans when the rows changed.

use migrate_core::{HistoryRow, RowState};

/// What a read returned, in the form `begin` compares.
#[derive(PartialEq, Eq)]
pub(crate) struct LastRead {
    set: Option<String>,
    /// The rows as read, in one buffer ([`rows_key`]): compared exactly, with one
    /// allocation instead of one per row. `None` when the read found the history up to
    /// date and kept nothing
    /// ([`Read::SetUnlessUpToDate`](migrate_core::Read::SetUnlessUpToDate)): any check
    /// against it finds the history changed.
    rows: Option<Vec<u8>>,
    under_lock: bool,
}

impl LastRead {
    /// A read of `set` (of every set when `None`) that returned `rows`, or found the
    /// history up to date and kept none (`None`); made while this session held the
    /// migration lock or not.
    pub(crate) fn new(set: Option<&str>, rows: Option<&[HistoryRow]>, under_lock: bool) -> Self {
        LastRead {
            set: set.map(str::to_owned),
            rows: rows.map(rows_key),
            under_lock,
        }
    }

    /// The set read; `None` for the whole history.
    pub(crate) fn set(&self) -> Option<&str> {
        self.set.as_deref()
    }

    /// Whether the read was made under the migration lock, so that no other session
    /// could write since.
    pub(crate) fn under_lock(&self) -> bool {
        self.under_lock
    }

    /// The lock was given back: another session may write from now on.
    pub(crate) fn lock_released(&mut self) {
        self.under_lock = false;
    }

    /// Whether `rows` are the rows this read returned.
    pub(crate) fn returned(&self, rows: &[HistoryRow]) -> bool {
        self.rows.as_ref() == Some(&rows_key(rows))
    }
}

/// The set, version (8 bytes), checksum and state of every row, the texts ended by NUL
/// (which no text column of PostgreSQL holds), so that equal buffers mean equal rows.
fn rows_key(rows: &[HistoryRow]) -> Vec<u8> {
    let mut key = Vec::with_capacity(
        rows.iter()
            .map(|r| r.set.len() + r.checksum.len() + 11)
            .sum(),
    );
    for row in rows {
        key.extend_from_slice(row.set.as_bytes());
        key.push(0);
        key.extend_from_slice(&row.version.to_le_bytes());
        key.extend_from_slice(row.checksum.as_bytes());
        key.push(0);
        match &row.state {
            RowState::Applied => key.push(0),
            RowState::Skipped { reason } => {
                key.push(1);
                key.extend_from_slice(reason.as_bytes());
                key.push(0);
            }
            RowState::Incomplete { direction } => {
                key.push(2);
                key.push(u8::from(*direction == migrate_core::Direction::Down));
            }
            _ => key.push(3),
        }
    }
    key
}
