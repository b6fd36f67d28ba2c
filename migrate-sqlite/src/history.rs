//! The history table: its SQL, and rows read back into [`HistoryRow`]s.

use core::time::Duration;

use migrate_core::{BoxError, HistoryRow};

/// The history table's name when none is configured.
pub const DEFAULT_HISTORY_TABLE: &str = migrate_spec::DEFAULT_HISTORY_TABLE;

/// The columns migrate writes, in the order it reads them; a table of that name without
/// them is not a history.
pub(crate) const COLUMNS: [&str; 8] = migrate_spec::HISTORY_COLUMNS;

/// The columns whose declared type is INTEGER in every history table migrate creates;
/// a table that declares them otherwise can hold values no migration wrote.
pub(crate) const INTEGER_COLUMNS: [&str; 3] = ["version", "duration_us", "complete"];

/// The SQL the backend runs against one history table, built once per name.
#[derive(Clone, Debug)]
pub(crate) struct HistorySql {
    pub name: String,
    pub create: String,
    pub select: String,
    pub select_applied: String,
    pub companion: String,
    pub companion_select: String,
    pub companion_create: String,
    pub companion_quoted: String,
    pub insert: String,
    pub delete: String,
    pub update_checksum: String,
}

impl HistorySql {
    pub fn new(name: &str) -> Self {
        let table = quote_identifier(name);
        let companion_name = format!("{name}_fast_start");
        let companion = quote_identifier(&companion_name);
        let columns = COLUMNS.join(", ");
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
            select: format!("SELECT {columns} FROM {table} ORDER BY migration_set, version"),
            // What the planner needs, of one set; the primary key gives the order.
            select_applied: format!(
                "SELECT version, checksum, complete FROM {table} WHERE migration_set = ?1 \
                 ORDER BY version"
            ),
            companion: companion_name,
            companion_select: format!("SELECT user_version FROM {companion}"),
            companion_create: format!(
                "CREATE TABLE IF NOT EXISTS {companion} (user_version INTEGER NOT NULL)"
            ),
            companion_quoted: companion.clone(),
            // A plain INSERT (cheaper than OR REPLACE); the time comes from Rust
            // (cheaper than strftime in SQL), as the same RFC 3339 text.
            insert: format!(
                "INSERT INTO {table} ({columns}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
            ),
            delete: format!("DELETE FROM {table} WHERE migration_set = ?1 AND version = ?2"),
            update_checksum: format!(
                "UPDATE {table} SET checksum = ?3 WHERE migration_set = ?1 AND version = ?2"
            ),
        }
    }
}

/// The current UTC time as RFC 3339 text with milliseconds: `2026-11-25T09:30:00.123Z`.
pub(crate) fn utc_now() -> String {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    utc_text(since_epoch.as_secs(), since_epoch.subsec_millis())
}

/// `seconds` since 1970-01-01 UTC as RFC 3339 text (the civil-from-days algorithm of
/// Howard Hinnant's date library).
fn utc_text(seconds: u64, millis: u32) -> String {
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// `"name"`, with embedded quotes doubled: any text is a safe table name.
fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the planner's columns of one row (version, checksum, complete) of `set`.
pub(crate) fn read_applied_row(
    set: &str,
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<Result<HistoryRow, BoxError>> {
    let version: i64 = row.get(0)?;
    let checksum: String = row.get(1)?;
    let complete: bool = row.get(2)?;
    let Ok(version @ 1..) = u64::try_from(version) else {
        return Ok(Err(format!(
            "the history row for version {version} is corrupted (version {version}); repair or \
             delete the row by hand"
        )
        .into()));
    };
    Ok(Ok(HistoryRow::new(set, version, checksum, complete)))
}

/// Reads one history row, refusing values no migration could have written.
pub(crate) fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Result<HistoryRow, BoxError>> {
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
    Ok(Ok(HistoryRow::new(set, version, checksum, complete)
        .with_details(
            description,
            type_name,
            applied_at,
            Duration::from_micros(duration_us),
        )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_is_rfc_3339_like_sqlite_strftime() {
        assert_eq!(utc_text(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc_text(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(utc_text(1_709_251_199, 999), "2024-02-29T23:59:59.999Z");
        assert_eq!(utc_text(1_795_080_600, 123), "2026-11-19T09:30:00.123Z");
        // The same as SQLite's own formatting of the same instant.
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let sqlite: String = conn
            .query_row(
                "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 1795080600.123, 'unixepoch')",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(sqlite, utc_text(1_795_080_600, 123));
    }

    #[test]
    fn names_are_quoted_so_any_text_is_a_table_name() {
        assert_eq!(quote_identifier("history"), "\"history\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
