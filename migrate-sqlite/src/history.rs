//! The history table: its SQL, and rows read back into [`AppliedMigration`]s.

use core::time::Duration;

use migrate_core::{AppliedMigration, BoxError};

/// The history table's name when none is configured.
pub const DEFAULT_HISTORY_TABLE: &str = "migrate_history";

/// The columns migrate writes; a table of that name without them is not a history.
pub(crate) const COLUMNS: [&str; 8] = [
    "migration_set",
    "version",
    "description",
    "type_name",
    "checksum",
    "applied_at",
    "duration_us",
    "complete",
];

/// The SQL the backend runs against one history table, built once per name.
#[derive(Clone, Debug)]
pub(crate) struct HistorySql {
    pub name: String,
    pub create: String,
    pub select: String,
    pub insert: String,
    pub delete: String,
    pub update_checksum: String,
}

impl HistorySql {
    pub fn new(name: &str) -> Self {
        let table = quote_identifier(name);
        HistorySql {
            name: name.to_owned(),
            create: format!(
                "CREATE TABLE IF NOT EXISTS {table} (
                    migration_set TEXT NOT NULL DEFAULT '',
                    version INTEGER NOT NULL,
                    description TEXT NOT NULL,
                    type_name TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    applied_at TEXT NOT NULL,
                    duration_us INTEGER NOT NULL,
                    complete INTEGER NOT NULL DEFAULT 1,
                    PRIMARY KEY (migration_set, version)
                ) WITHOUT ROWID"
            ),
            select: format!(
                "SELECT migration_set, version, description, type_name, checksum, applied_at, \
                 duration_us, complete FROM {table} ORDER BY migration_set, version"
            ),
            insert: format!(
                "INSERT OR REPLACE INTO {table} (migration_set, version, description, type_name, \
                 checksum, applied_at, duration_us, complete) \
                 VALUES (?1, ?2, ?3, ?4, ?5, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?6, ?7)"
            ),
            delete: format!("DELETE FROM {table} WHERE migration_set = ?1 AND version = ?2"),
            update_checksum: format!(
                "UPDATE {table} SET checksum = ?3 WHERE migration_set = ?1 AND version = ?2"
            ),
        }
    }
}

/// `"name"`, with embedded quotes doubled: any text is a safe table name.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads one history row, refusing values no migration could have written.
pub(crate) fn read_row(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<Result<AppliedMigration, BoxError>> {
    let set: String = row.get(0)?;
    let version: i64 = row.get(1)?;
    let description: String = row.get(2)?;
    let type_name: String = row.get(3)?;
    let checksum: String = row.get(4)?;
    let applied_at: String = row.get(5)?;
    let duration_us: i64 = row.get(6)?;
    let complete: bool = row.get(7)?;
    let (Ok(version @ 1..), Ok(duration_us)) = (u64::try_from(version), u64::try_from(duration_us))
    else {
        return Ok(Err(format!(
            "the history row for version {version} is corrupted (version {version}, duration \
             {duration_us} us); repair or delete the row by hand"
        )
        .into()));
    };
    Ok(Ok(AppliedMigration {
        set,
        version,
        description,
        type_name,
        applied_at,
        duration: Duration::from_micros(duration_us),
        checksum,
        complete,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_so_any_text_is_a_table_name() {
        assert_eq!(quote_identifier("history"), "\"history\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
