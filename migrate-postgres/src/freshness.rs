//! What a history read returned, kept in the form `begin` compares: a run that takes the
//! lock after it read the history reads again, and replans when the rows changed.

use migrate_core::{HistoryRow, RowState};

/// What a read returned, in the form `begin` compares.
#[derive(PartialEq, Eq)]
pub(crate) struct LastRead {
    pub(crate) set: Option<String>,
    /// The rows as read, in one buffer ([`rows_key`]): compared exactly, with one
    /// allocation instead of one per row. `None` when the read found the history up to
    /// date and kept nothing ([`Read::SetUnlessUpToDate`]): any check
    /// against it finds the history changed.
    pub(crate) rows: Option<Vec<u8>>,
    pub(crate) under_lock: bool,
}

/// The set, version (8 bytes), checksum and state of every row, the texts ended by NUL
/// (which no text column of PostgreSQL holds), so that equal buffers mean equal rows.
pub(crate) fn rows_key(rows: &[HistoryRow]) -> Vec<u8> {
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
