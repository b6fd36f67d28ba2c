//! The SQLite backend of the command: opening a file as the command and its URL's
//! `mode=` allow, the in-memory scratch database of `history` and its schema, `--parallel`
//! refused before a file is opened, and the diagnosis of errors of the database itself.

use std::error::Error as StdError;
use std::time::Duration;

use clap::ArgMatches;
use migrate_core::{Backend, Error};
use migrate_sqlite::Sqlite;
use migrate_sqlite::rusqlite::{self, ErrorCode, OpenFlags};

use crate::failure::Failure;
use crate::open::access::Access;
use crate::open::scratch::{SchemaText, Scratch};
use crate::url;

/// Opens `database` for `command`, as `access` allows: a command that cannot create the
/// file does not leave an empty one behind, and `mode=ro` opens read-only.
pub(crate) fn open(
    matches: &ArgMatches,
    database: &url::SqliteFile,
    command: &str,
    access: Access,
) -> Result<Sqlite, Failure> {
    let read_only = database.mode == Some(url::Mode::ReadOnly);
    if read_only && access != Access::Read {
        return Err(Failure::Usage(format!(
            "the database URL opens {} read-only (mode=ro), and `{command}` writes to it; \
             drop `?mode=ro` to migrate (`status` and `history` work read-only)",
            database.path
        )));
    }
    let create = access == Access::WriteOrCreate && database.mode != Some(url::Mode::ReadWrite);
    let missing = !database.is_memory() && !std::path::Path::new(&database.path).exists();
    let in_memory = database.is_memory() || (missing && access == Access::Rehearse);
    if missing && in_memory {
        eprintln!(
            "the database {} does not exist: rehearsing on an empty database; no file is \
             created",
            database.path
        );
    }
    let path = if in_memory {
        ":memory:"
    } else {
        database.path.as_str()
    };
    if !in_memory && !create && !std::path::Path::new(path).exists() {
        let hint = if access == Access::WriteOrCreate {
            "mode=rw does not create it; drop it or use mode=rwc"
        } else {
            "`up` creates it"
        };
        return Err(Failure::Run(
            format!("the database {path} does not exist; check the path ({hint})").into(),
        ));
    }
    let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
    flags |= if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    if create || in_memory {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let busy_timeout = matches
        .get_one::<Duration>("lock-wait")
        .copied()
        .unwrap_or(migrate_sqlite::DEFAULT_BUSY_TIMEOUT);
    let db = Sqlite::open_with_flags(path, flags, busy_timeout)?;
    Ok(match matches.get_one::<String>("history-table") {
        Some(table) => db.history_table(table),
        None => db,
    })
}

/// `up --parallel N` (N > 1) on a SQLite database: the backend's own refusal, asked of an
/// in-memory database, which writes no file.
pub(crate) fn refuse_parallel() -> Result<(), Error> {
    let mut memory = Sqlite::open_in_memory()?;
    if let Err(unsupported) = Backend::sessions(&mut memory) {
        return Err(Error::ParallelUnsupported {
            reason: unsupported.reason().to_owned(),
        });
    }
    Ok(())
}

/// An empty in-memory SQLite database, on which `history` applies the migrations.
pub(crate) fn scratch() -> Result<Sqlite, Error> {
    Sqlite::open_in_memory()
}

impl Scratch for Sqlite {
    fn backend(&mut self) -> &mut dyn Backend {
        self
    }

    /// `CREATE ...` statements from `sqlite_master`, each ending with `;`.
    fn schema(&mut self) -> Result<SchemaText, Error> {
        let lines = sqlite_schema(self)?;
        Ok(SchemaText {
            language: "sql",
            lines: lines.into_iter().map(|line| format!("{line};")).collect(),
        })
    }
}

fn sqlite_schema(db: &Sqlite) -> Result<Vec<String>, Error> {
    let read = || -> rusqlite::Result<Vec<String>> {
        let conn = db.connection();
        let mut statement = conn.prepare(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
             AND tbl_name != ?1 ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name",
        )?;
        statement
            .query_map([db.history_table_name()], |row| row.get(0))?
            .collect()
    };
    read().map_err(|source| Error::Database {
        action: "read the schema from sqlite_master".to_owned(),
        source: source.into(),
    })
}

/// Whether `error` is SQLite refusing a write because the connection is read-only, as it
/// is while a condition runs.
pub(crate) fn wrote(error: &(dyn StdError + 'static)) -> bool {
    matches!(
        error.downcast_ref::<rusqlite::Error>(),
        Some(rusqlite::Error::SqliteFailure(failure, _)) if failure.code == ErrorCode::ReadOnly
    )
}

/// SQLite's message and advice, when the chain holds an error of the database itself
/// rather than of a migration's SQL.
pub(crate) fn sqlite_cause(error: &(dyn StdError + 'static)) -> Option<(String, &'static str)> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(rusqlite::Error::SqliteFailure(failure, message)) =
            error.downcast_ref::<rusqlite::Error>()
        {
            let hint = match failure.code {
                ErrorCode::ReadOnly
                    if failure.extended_code == rusqlite::ffi::SQLITE_READONLY_DIRECTORY =>
                {
                    "the database's folder is read-only, and SQLite must create a journal \
                     file next to the database to change it; make the folder writable for \
                     the user running this (or move the database to a folder that is); \
                     `migrate status` and `migrate history` only read"
                }
                ErrorCode::ReadOnly => {
                    "the database file is read-only (its permissions, or a file system \
                     mounted read-only); make it writable for the user running this, and its \
                     folder too, as SQLite writes a journal next to it; `migrate status` and \
                     `migrate history` only read"
                }
                ErrorCode::DiskFull => "the disk is full; free some space on it",
                ErrorCode::SystemIoFailure
                    if failure.extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE =>
                {
                    "the file system refused to write to the database: the disk is full, \
                     the file reached a size limit (`ulimit -f`), or the disk is failing; \
                     free some space or raise the limit"
                }
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    "another process holds the database's lock and kept it past the lock \
                     timeout (60 s unless `--lock-wait` says otherwise); wait for it to \
                     finish or stop it, or pass `--lock-wait` to wait longer (e.g. \
                     `--lock-wait 5m`)"
                }
                ErrorCode::CannotOpen => {
                    "SQLite cannot open the file; check the path and that its folder exists \
                     and is writable"
                }
                ErrorCode::PermissionDenied => "permission denied; check the file's permissions",
                ErrorCode::SystemIoFailure => {
                    "a disk input/output error; check the disk, its free space and the \
                     folder's permissions"
                }
                _ => return None,
            };
            let text = message
                .clone()
                .unwrap_or_else(|| failure.to_string().to_lowercase());
            return Some((text, hint));
        }
        next = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use migrate_core::{Direction, Error, MigrationRef};
    use migrate_sqlite::rusqlite;

    use crate::render::error::render;

    fn sqlite_error(code: i32, message: &str) -> migrate_core::BoxError {
        Box::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some(message.to_owned()),
        ))
    }

    /// Read-only file or folder, disk full, a write refused, locked: SQLite's message,
    /// the cause and what to do come first, then the migration.
    #[test]
    fn the_database_cause_comes_first() {
        for (code, message, hint) in [
            (
                rusqlite::ffi::SQLITE_READONLY,
                "attempt to write a readonly database",
                "the database file is read-only",
            ),
            (
                rusqlite::ffi::SQLITE_READONLY_DIRECTORY,
                "attempt to write a readonly database",
                "the database's folder is read-only",
            ),
            (
                rusqlite::ffi::SQLITE_FULL,
                "database or disk is full",
                "the disk is full; free some space",
            ),
            (
                rusqlite::ffi::SQLITE_IOERR_WRITE,
                "disk I/O error",
                "the file system refused to write",
            ),
            (
                rusqlite::ffi::SQLITE_BUSY,
                "database is locked",
                "pass `--lock-wait` to wait longer",
            ),
        ] {
            let error = Error::MigrationFailed {
                migration: MigrationRef::new(
                    3,
                    "Add metadata",
                    "src/migrations/m0003_add_metadata.rs",
                ),
                direction: Direction::Up,
                batch: false,
                source: sqlite_error(code, message),
            };
            let lines = render(&error);
            assert!(
                lines[0].starts_with(message) && lines[0].contains(hint),
                "{lines:?}"
            );
            assert!(
                lines[1].contains("migration 3 \"Add metadata\""),
                "{lines:?}"
            );
            assert!(!lines[0].contains("fix it"), "{lines:?}");

            let error = Error::Database {
                action: "take the write lock".to_owned(),
                source: sqlite_error(code, message),
            };
            let lines = render(&error);
            assert!(lines[0].starts_with(message), "{lines:?}");
            assert!(lines[1].contains("take the write lock"), "{lines:?}");
        }
        // A mistake in the migration's SQL is the migration's: it leads.
        let error = Error::MigrationFailed {
            migration: MigrationRef::new(3, "Add metadata", "src/migrations/m0003_add_metadata.rs"),
            direction: Direction::Up,
            batch: false,
            source: sqlite_error(rusqlite::ffi::SQLITE_ERROR, "no such table: x"),
        };
        assert!(render(&error)[0].starts_with("migration 3"));
    }

    /// A write refused because the condition runs read-only says where the write belongs.
    #[test]
    fn a_condition_that_writes_is_told_where_the_write_belongs() {
        let lines = render(&Error::ConditionFailed {
            migration: MigrationRef::new(
                2,
                "Index notes for the flag",
                "src/migrations/m0002_index.rs",
            ),
            condition: "checks::flags_exist",
            source: sqlite_error(
                rusqlite::ffi::SQLITE_READONLY,
                "attempt to write a readonly database",
            ),
        });
        assert_eq!(
            lines[0], "attempt to write a readonly database",
            "{lines:?}"
        );
        assert!(
            lines[1].contains("a condition only reads the database"),
            "{lines:?}"
        );
        assert!(!lines[0].contains("file is read-only"), "{lines:?}");
    }
}
