//! The checksum column's encoding: the only place that knows it. A backend stores the
//! text core hands it ([`NewRow::checksum_column`](crate::NewRow::checksum_column)) and
//! gives it back as read; [`HistoryRow::new`](crate::HistoryRow::new) decodes it once,
//! into a [`RowState`].
//!
//! - An applied row holds the migration's checksum.
//! - A skipped row (its condition was false) holds `skipped:`, the checksum, `:` and the
//!   reason. An older build of migrate reads it as a changed checksum and refuses, rather
//!   than taking it for applied.
//! - An incomplete row (a `transaction = false` migration started, not finished) holds
//!   the checksum when it was migrating up, `down:` and the checksum when down.

use crate::direction::Direction;
use crate::history::RowState;

/// The start of a skipped row's checksum column.
pub(crate) const SKIP_MARK: &str = "skipped:";

/// The start of the checksum column of an incomplete row that was migrating down.
pub(crate) const DOWN_MARK: &str = "down:";

/// The checksum column of a row in `state` for a migration whose checksum is `checksum`.
pub(crate) fn encode(checksum: &str, state: &RowState) -> String {
    match state {
        RowState::Applied
        | RowState::Incomplete {
            direction: Direction::Up,
        } => checksum.to_owned(),
        RowState::Skipped { reason } => format!("{SKIP_MARK}{checksum}:{reason}"),
        RowState::Incomplete {
            direction: Direction::Down,
        } => format!("{DOWN_MARK}{checksum}"),
    }
}

/// The recorded checksum and the state of a row whose checksum column holds `column`
/// and whose `complete` column holds `complete`. `encode` gives the column back.
pub(crate) fn decode(column: String, complete: bool) -> (String, RowState) {
    if !complete {
        return match column.strip_prefix(DOWN_MARK) {
            Some(checksum) => (
                checksum.to_owned(),
                RowState::Incomplete {
                    direction: Direction::Down,
                },
            ),
            None => (
                column,
                RowState::Incomplete {
                    direction: Direction::Up,
                },
            ),
        };
    }
    match column
        .strip_prefix(SKIP_MARK)
        .and_then(|rest| rest.split_once(':'))
    {
        Some((checksum, reason)) => (
            checksum.to_owned(),
            RowState::Skipped {
                reason: reason.to_owned(),
            },
        ),
        None => (column, RowState::Applied),
    }
}

/// Whether `checksum`, stored as an applied row's column, would read back as a skipped
/// row: such a migration's history cannot be compared column to checksum.
pub(crate) fn reads_as_skipped(checksum: &str) -> bool {
    checksum.starts_with(SKIP_MARK)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipped(reason: &str) -> RowState {
        RowState::Skipped {
            reason: reason.to_owned(),
        }
    }

    #[test]
    fn a_skipped_rows_checksum_column_holds_the_checksum_and_the_reason() {
        let column = encode("5d41402abc4b2a76", &skipped("no PostGIS: it's missing"));
        assert_eq!(column, "skipped:5d41402abc4b2a76:no PostGIS: it's missing");
        assert_eq!(
            decode(column, true),
            (
                "5d41402abc4b2a76".to_owned(),
                skipped("no PostGIS: it's missing")
            )
        );
        assert_eq!(
            decode("5d41402abc4b2a76".to_owned(), true),
            ("5d41402abc4b2a76".to_owned(), RowState::Applied)
        );
        // A finished row is never an interrupted down, whatever its column says.
        assert_eq!(
            decode("down:5d41402abc4b2a76".to_owned(), true).1,
            RowState::Applied
        );
    }

    #[test]
    fn an_incomplete_row_remembers_its_direction() {
        let down = RowState::Incomplete {
            direction: Direction::Down,
        };
        assert_eq!(encode("7d79", &down), "down:7d79");
        assert_eq!(
            decode("down:7d79".to_owned(), false),
            ("7d79".to_owned(), down)
        );
        let up = RowState::Incomplete {
            direction: Direction::Up,
        };
        assert_eq!(decode("7d79".to_owned(), false), ("7d79".to_owned(), up));
        // Unfinished wins over a skip mark: such a row is never taken for skipped.
        assert!(matches!(
            decode("skipped:7d79:no".to_owned(), false).1,
            RowState::Incomplete { .. }
        ));
    }

    #[test]
    fn decoding_then_encoding_gives_the_column_back() {
        for (column, complete) in [
            ("abc", true),
            ("abc", false),
            ("down:abc", true),
            ("down:abc", false),
            ("skipped:abc:why: this", true),
            ("skipped:abc:why", false),
            ("skipped:abc", true),
            ("", true),
        ] {
            let (checksum, state) = decode(column.to_owned(), complete);
            assert_eq!(encode(&checksum, &state), column, "{column:?} {complete}");
        }
    }
}
