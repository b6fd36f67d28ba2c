//! The history table: its SQL, and rows read back into [`HistoryRow`]s.

use core::time::Duration;

use migrate_core::{BoxError, Error, HistoryRow, RegisteredMigration};
use postgres::SimpleQueryRow;

/// The history table's name when none is configured.
pub const DEFAULT_HISTORY_TABLE: &str = migrate_spec::DEFAULT_HISTORY_TABLE;

/// The columns migrate writes, in the order it reads them, and their types
/// (`information_schema.columns.data_type`); a table of that name without them is not a
/// history.
pub(crate) const COLUMNS: [(&str, &str); 8] = {
    let types = [
        "text",
        "bigint",
        "text",
        "text",
        "text",
        "timestamp with time zone",
        "bigint",
        "boolean",
    ];
    let mut columns = [("", ""); 8];
    let mut i = 0;
    while i < columns.len() {
        columns[i] = (migrate_spec::HISTORY_COLUMNS[i], types[i]);
        i += 1;
    }
    columns
};

/// The SQL the backend runs against one history table, built once per name.
#[derive(Clone, Debug)]
pub(crate) struct HistorySql {
    /// `schema.table` as the user would write it, for messages.
    pub display: String,
    pub create: String,
    pub select: String,
    select_applied: String,
    pub insert: String,
    pub delete: String,
    pub update_checksum: String,
}

/// The time as the history shows it: RFC 3339 in UTC with milliseconds.
const UTC_TEXT: &str =
    "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

impl HistorySql {
    pub fn new(schema: &str, table: &str) -> Self {
        let qualified = format!("{}.{}", quote_identifier(schema), quote_identifier(table));
        // Every write is guarded by the step's mark (`SET LOCAL migrate.step`): a
        // migration that ended the manager's transaction is caught before its row lands.
        let guard = "current_setting('migrate.step', true) = $8";
        HistorySql {
            display: format!("{schema}.{table}"),
            create: format!(
                "CREATE SCHEMA IF NOT EXISTS {schema_q};
                CREATE TABLE IF NOT EXISTS {qualified} (
                    migration_set TEXT NOT NULL DEFAULT '',
                    version BIGINT NOT NULL CHECK (version > 0),
                    description TEXT NOT NULL,
                    type_name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
                    duration_us BIGINT NOT NULL,
                    complete BOOLEAN NOT NULL DEFAULT TRUE,
                    PRIMARY KEY (migration_set, version)
                )",
                schema_q = quote_identifier(schema)
            ),
            select: format!(
                "SELECT {read} FROM {qualified} ORDER BY migration_set, version",
                read = COLUMNS
                    .map(|(name, _)| if name == "applied_at" { UTC_TEXT } else { name })
                    .join(", ")
            ),
            select_applied: format!(
                "SELECT version, checksum, complete FROM {qualified} WHERE migration_set = "
            ),
            insert: format!(
                "INSERT INTO {qualified} ({columns}) \
                 SELECT $1, $2, $3, $4, $5, clock_timestamp(), $6, $7 WHERE {guard}",
                columns = COLUMNS.map(|(name, _)| name).join(", ")
            ),
            // Whether a row was there or not, the answer is whether the mark held.
            delete: format!(
                "WITH removed AS (DELETE FROM {qualified} WHERE migration_set = $1 AND \
                 version = $2 AND current_setting('migrate.step', true) = $3) \
                 SELECT 1 WHERE current_setting('migrate.step', true) = $3"
            ),
            update_checksum: format!(
                "UPDATE {qualified} SET checksum = $3 WHERE migration_set = $1 AND version = $2 \
                 AND current_setting('migrate.step', true) = $4"
            ),
        }
    }

    /// The planner's columns of one set, sorted by version: one simple query, one round
    /// trip (this is the start-up path).
    pub fn select_applied(&self, set: &str) -> String {
        format!(
            "{}{} ORDER BY version",
            self.select_applied,
            quote_literal(set)
        )
    }
}

/// `"name"`, with embedded quotes doubled: any text is a safe identifier.
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `E'text'`, escaped whatever `standard_conforming_strings` says.
pub(crate) fn quote_literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

fn foreign(table: &str, problem: String) -> BoxError {
    Box::new(Error::ForeignHistoryTable {
        table: table.to_owned(),
        problem,
    })
}

fn text<'a>(row: &'a SimpleQueryRow, index: usize, table: &str) -> Result<&'a str, BoxError> {
    row.get(index).ok_or_else(|| {
        let name = row.columns().get(index).map_or("?", |c| c.name());
        foreign(table, format!("its column {name:?} holds NULL"))
    })
}

fn version(text: &str, table: &str) -> Result<u64, BoxError> {
    match text.parse::<i64>() {
        Ok(version @ 1..) => Ok(version.cast_unsigned()),
        Ok(version) => Err(Box::new(Error::UnreadableHistoryRow {
            table: table.to_owned(),
            problem: format!("the row for version {version} is not a version migrate writes"),
        })),
        Err(_) => Err(foreign(
            table,
            format!("its column \"version\" holds {text:?} where migrate writes an integer"),
        )),
    }
}

fn flag(text: &str) -> bool {
    text == "t"
}

/// One row of the narrow read (version, checksum, complete) of `set`.
pub(crate) fn applied_row(
    set: &str,
    row: &SimpleQueryRow,
    table: &str,
) -> Result<HistoryRow, BoxError> {
    Ok(HistoryRow::new(
        set,
        version(text(row, 0, table)?, table)?,
        text(row, 1, table)?,
        flag(text(row, 2, table)?),
    ))
}

/// Whether the narrow read's rows are exactly `known`, as
/// [`Read::SetUnlessUpToDate`](migrate_core::Read::SetUnlessUpToDate) asks: row by row,
/// the version [`applied_row`] would read, finished (`t`), the migration's checksum. Compared in place, nothing built; any other row, a NULL
/// included, answers `false` and is left to [`applied_row`].
pub(crate) fn up_to_date(rows: &[SimpleQueryRow], known: &[&RegisteredMigration]) -> bool {
    rows.len() == known.len()
        && rows.iter().zip(known).all(|(row, m)| {
            row.get(2) == Some("t")
                && row.get(1) == Some(m.checksum())
                && row
                    .get(0)
                    .and_then(|text| text.parse::<i64>().ok())
                    .filter(|version| *version >= 1)
                    .map(i64::cast_unsigned)
                    == Some(m.version())
        })
}

/// One row of the full read.
pub(crate) fn full_row(row: &SimpleQueryRow, table: &str) -> Result<HistoryRow, BoxError> {
    let micros: u64 = text(row, 6, table)?.parse().unwrap_or(0);
    Ok(HistoryRow::new(
        text(row, 0, table)?,
        version(text(row, 1, table)?, table)?,
        text(row, 4, table)?,
        flag(text(row, 7, table)?),
    )
    .with_details(
        text(row, 2, table)?,
        text(row, 3, table)?,
        text(row, 5, table)?,
        Duration::from_micros(micros),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_identifiers_cannot_break_out() {
        assert_eq!(quote_literal(r"it's \ fine"), r"E'it''s \\ fine'");
        assert_eq!(quote_identifier(r#"we"ird"#), r#""we""ird""#);
    }
}
