//! The history table: its SQL, and rows read back into [`AppliedMigration`]s.

use core::time::Duration;

use migrate_core::{AppliedMigration, BoxError};

/// The history table's name when none is configured.
pub const DEFAULT_HISTORY_TABLE: &str = "migrate_history";

/// The SQL the backend runs against one history table, built once per name.
#[derive(Clone, Debug)]
pub(crate) struct HistorySql {
    pub name: String,
    pub create: String,
    pub select: String,
    pub insert: String,
    pub delete: String,
}

impl HistorySql {
    pub fn new(name: &str) -> Self {
        let table = quote_identifier(name);
        HistorySql {
            name: name.to_owned(),
            create: format!(
                "CREATE TABLE IF NOT EXISTS {table} (
                    version INTEGER PRIMARY KEY NOT NULL,
                    description TEXT NOT NULL,
                    type_name TEXT NOT NULL,
                    applied_at TEXT NOT NULL,
                    duration_us INTEGER NOT NULL
                )"
            ),
            select: format!(
                "SELECT version, description, type_name, applied_at, duration_us \
                 FROM {table} ORDER BY version"
            ),
            insert: format!(
                "INSERT INTO {table} (version, description, type_name, applied_at, duration_us) \
                 VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?4)"
            ),
            delete: format!("DELETE FROM {table} WHERE version = ?1"),
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
    let version: i64 = row.get(0)?;
    let description: String = row.get(1)?;
    let type_name: String = row.get(2)?;
    let applied_at: String = row.get(3)?;
    let duration_us: i64 = row.get(4)?;
    let (Ok(version @ 1..), Ok(duration_us)) = (u64::try_from(version), u64::try_from(duration_us))
    else {
        return Ok(Err(format!(
            "the history row for version {version} is corrupted (version {version}, duration \
             {duration_us} us); repair or delete the row by hand"
        )
        .into()));
    };
    Ok(Ok(AppliedMigration {
        version,
        description,
        type_name,
        applied_at,
        duration: Duration::from_micros(duration_us),
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
