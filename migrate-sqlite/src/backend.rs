//! [`Sqlite`]: the [`Backend`] for one SQLite database.

use std::path::Path;
use std::time::Duration;

use migrate_core::{
    AppliedMigration, Backend, BoxError, Db, Error, Freshness, RegisteredMigration,
};
use rusqlite::OptionalExtension;

use crate::db::{Conn, TRANSACTION_DENIED};
use crate::foreign_keys::ForeignKeys;
use crate::history::{self, HistorySql};

/// How long [`Sqlite`] waits for another connection's write lock before giving up.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// A SQLite database to migrate.
///
/// ```rust,standalone_crate
/// use migrate_sqlite::{Migrator, Sqlite};
///
/// let dir = tempfile::tempdir()?;
/// let mut db = Sqlite::open(dir.path().join("app.db"))?;
/// let report = Migrator::discovered()?.to_latest(&mut db)?;
/// assert!(report.is_empty()); // this program registers no migration
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Each migration runs in its own `BEGIN IMMEDIATE` transaction together with its
/// history row. The write lock makes concurrent runs (threads or processes) take turns;
/// each re-checks the history once it holds the lock, so no migration is applied twice.
pub struct Sqlite {
    conn: Conn,
    sql: HistorySql,
    /// Whether the history table existed at the last read.
    table_exists: bool,
    /// `PRAGMA data_version` at the last read: it changes when another connection commits.
    data_version: Option<i64>,
    /// Whether SQLite enforces foreign keys on this connection, asked once per run.
    foreign_keys: Option<bool>,
    /// Whether the history table's columns were checked in this run.
    shape_checked: bool,
    /// Whether the history's fingerprint is kept in the header's `user_version`.
    fast_start: bool,
    /// Whether `user_version` is ours to write, decided at the first write of a run.
    owns_user_version: Option<bool>,
    /// The foreign-key check's view of the step: the schema before it.
    keys: ForeignKeys,
}

impl Sqlite {
    /// Opens (or creates) the database file at `path`, waiting up to
    /// [`DEFAULT_BUSY_TIMEOUT`] for other writers.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the file cannot be opened.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let conn = rusqlite::Connection::open(path).map_err(|source| Error::Database {
            action: format!("open the SQLite database {}", path.display()),
            source: source.into(),
        })?;
        // Reading the header refuses a file of another kind before anything is written.
        if let Err(source) = conn.query_row("PRAGMA schema_version", [], |row| row.get::<_, i64>(0))
        {
            let not_a_database = matches!(
                &source,
                rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::NotADatabase
            );
            return Err(if not_a_database {
                Error::NotADatabase {
                    path: path.display().to_string(),
                    kind: "SQLite",
                    source: source.into(),
                }
            } else {
                Error::Database {
                    action: format!("read the SQLite database {}", path.display()),
                    source: source.into(),
                }
            });
        }
        Self::from_connection(conn)
    }

    /// A new in-memory database, for tests.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite cannot allocate it.
    pub fn open_in_memory() -> Result<Self, Error> {
        let conn = rusqlite::Connection::open_in_memory().map_err(|source| Error::Database {
            action: "open an in-memory SQLite database".to_owned(),
            source: source.into(),
        })?;
        Self::from_connection(conn)
    }

    /// Migrates a connection you opened yourself. Sets its busy timeout to
    /// [`DEFAULT_BUSY_TIMEOUT`] and installs an authorizer (replacing yours) that stops
    /// migration code from ending its own transaction.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the busy timeout cannot be set.
    pub fn from_connection(conn: rusqlite::Connection) -> Result<Self, Error> {
        let sqlite = Sqlite {
            conn: Conn::new(conn),
            sql: HistorySql::new(crate::DEFAULT_HISTORY_TABLE),
            table_exists: false,
            data_version: None,
            foreign_keys: None,
            shape_checked: false,
            fast_start: true,
            owns_user_version: None,
            keys: ForeignKeys::default(),
        };
        sqlite.busy_timeout(DEFAULT_BUSY_TIMEOUT)
    }

    /// Waits up to `timeout` for another connection's write lock before failing.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when SQLite refuses the setting.
    pub fn busy_timeout(self, timeout: Duration) -> Result<Self, Error> {
        self.conn
            .inner
            .busy_timeout(timeout)
            .map_err(|source| Error::Database {
                action: "set the busy timeout".to_owned(),
                source: source.into(),
            })?;
        Ok(self)
    }

    /// Keeps the history in the table `name` instead of
    /// [`DEFAULT_HISTORY_TABLE`](crate::DEFAULT_HISTORY_TABLE). Any text is a valid name;
    /// the table is created on the first migration.
    ///
    /// ```
    /// let db = migrate_sqlite::Sqlite::open_in_memory()?.history_table("schema_versions");
    /// assert_eq!(db.history_table_name(), "schema_versions");
    /// # Ok::<(), migrate_sqlite::Error>(())
    /// ```
    pub fn history_table(mut self, name: &str) -> Self {
        self.sql = HistorySql::new(name);
        self.table_exists = false;
        self.data_version = None;
        self
    }

    /// Whether to keep a fingerprint of the history in the database header's
    /// `user_version` (on by default), so that the start-up check of a database that has
    /// everything applied reads one header field instead of the history. migrate writes
    /// `user_version` only while it holds migrate's own value (or 0): if your program
    /// uses `user_version` itself, migrate leaves it alone and takes the full check; turn
    /// this off to make sure it never touches it. docs/performance.md explains why a
    /// fingerprint match cannot skip a pending migration or hide a changed one.
    pub fn fast_start(mut self, on: bool) -> Self {
        self.fast_start = on;
        self
    }

    /// The name of the history table.
    pub fn history_table_name(&self) -> &str {
        &self.sql.name
    }

    /// The underlying connection, for your own queries between runs.
    pub fn connection(&self) -> &rusqlite::Connection {
        &self.conn.inner
    }

    /// Gives the connection back.
    pub fn into_connection(self) -> rusqlite::Connection {
        self.conn.inner
    }

    fn foreign_table(&self, problem: String) -> BoxError {
        Box::new(Error::ForeignHistoryTable {
            table: self.sql.name.clone(),
            problem,
        })
    }

    /// The history table has every column migrate writes, and no other column that
    /// requires a value.
    fn check_shape(&self) -> Result<(), BoxError> {
        let conn = &self.conn.inner;
        let mut statement =
            conn.prepare("SELECT name, \"notnull\", dflt_value, pk FROM pragma_table_info(?1)")?;
        let columns: Vec<(String, bool, Option<String>, i64)> = statement
            .query_map([&self.sql.name], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        for expected in history::COLUMNS {
            if !columns.iter().any(|(name, ..)| name == expected) {
                return Err(self.foreign_table(format!("it has no column {expected:?}")));
            }
        }
        if let Some((name, ..)) = columns.iter().find(|(name, not_null, default, pk)| {
            !history::COLUMNS.contains(&name.as_str())
                && (*not_null || *pk > 0)
                && default.is_none()
        }) {
            return Err(self.foreign_table(format!(
                "its column {name:?} requires a value that migrate does not write"
            )));
        }
        Ok(())
    }

    fn data_version(&self) -> rusqlite::Result<i64> {
        self.conn
            .inner
            .query_row("PRAGMA data_version", [], |row| row.get(0))
    }
}

impl Backend for Sqlite {
    fn read_history(&mut self) -> Result<Vec<AppliedMigration>, BoxError> {
        // The version first: a commit landing between the two reads then makes the next
        // `begin` see a stale history and read again, never the reverse.
        let data_version = self.data_version()?;
        let conn = &self.conn.inner;
        let mut statement = match conn.prepare_cached(&self.sql.select) {
            Ok(statement) => statement,
            Err(error) => {
                let exists = conn
                    .query_row(
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                        [&self.sql.name],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                if exists {
                    return Err(self.foreign_table(error.to_string()));
                }
                self.table_exists = false;
                self.data_version = Some(data_version);
                return Ok(Vec::new());
            }
        };
        let rows = statement
            .query_map([], history::read_row)?
            .map(|row| match row {
                // A value of the wrong type: the table is not ours.
                Err(
                    error @ (rusqlite::Error::InvalidColumnType(..)
                    | rusqlite::Error::FromSqlConversionFailure(..)
                    | rusqlite::Error::IntegralValueOutOfRange(..)),
                ) => Err(self.foreign_table(error.to_string())),
                Err(error) => Err(error.into()),
                Ok(row) => row,
            })
            .collect::<Result<Vec<_>, BoxError>>()?;
        self.table_exists = true;
        self.shape_checked = false;
        self.owns_user_version = None;
        self.data_version = Some(data_version);
        self.foreign_keys = None;
        Ok(rows)
    }

    fn begin(&mut self) -> Result<Freshness, BoxError> {
        self.conn.guard(false);
        self.conn.inner.execute_batch("BEGIN IMMEDIATE")?;
        let fresh = match self.data_version() {
            Ok(now) => Some(now) == self.data_version,
            Err(error) => {
                let _ = self.conn.inner.execute_batch("ROLLBACK");
                return Err(error.into());
            }
        };
        if !fresh {
            return Ok(Freshness::Stale);
        }
        if !self.table_exists {
            if let Err(error) = self.conn.inner.execute_batch(&self.sql.create) {
                let _ = self.conn.inner.execute_batch("ROLLBACK");
                return Err(error.into());
            }
            self.table_exists = true;
            self.shape_checked = true;
        }
        if !self.shape_checked {
            // Once per run, and only when there is work: a table we did not create must
            // take our rows before any migration runs.
            if let Err(error) = self.check_shape() {
                let _ = self.conn.inner.execute_batch("ROLLBACK");
                return Err(error);
            }
            self.shape_checked = true;
        }
        self.keys.begin(&self.conn, &mut self.foreign_keys);
        self.conn.guard(true);
        Ok(Freshness::Current)
    }

    fn db(&mut self) -> &mut dyn Db {
        &mut self.conn
    }

    fn check(&mut self) -> Result<(), BoxError> {
        // Only what the migration could have broken: see `foreign_keys`.
        self.keys.check(&self.conn, self.foreign_keys)
    }

    fn record_applied(
        &mut self,
        migration: &RegisteredMigration,
        duration: Duration,
        complete: bool,
    ) -> Result<(), BoxError> {
        if !complete {
            self.keys.hold();
        }
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        let version = i64::try_from(migration.version())?;
        self.conn.inner.prepare_cached(&self.sql.insert)?.execute((
            migration.set(),
            version,
            migration.description(),
            migration.type_name(),
            migration.checksum(),
            history::utc_now(),
            micros,
            complete,
        ))?;
        Ok(())
    }

    fn remove_applied(&mut self, set: &str, version: u64) -> Result<(), BoxError> {
        let version = i64::try_from(version)?;
        self.conn
            .inner
            .prepare_cached(&self.sql.delete)?
            .execute((set, version))?;
        Ok(())
    }

    fn read_fingerprint(&mut self) -> Result<Option<u32>, BoxError> {
        if !self.fast_start {
            return Ok(None);
        }
        // A header field: no schema load, however many tables the database has.
        let value: i32 = self
            .conn
            .inner
            .query_row("PRAGMA user_version", [], |row| row.get(0))?;
        Ok((value != 0).then_some(value.cast_unsigned()))
    }

    fn store_fingerprint(&mut self, previous: u32, new: u32) -> Result<(), BoxError> {
        if !self.fast_start {
            return Ok(());
        }
        let owned = match self.owns_user_version {
            Some(owned) => owned,
            None => {
                let current: i32 = self
                    .conn
                    .inner
                    .query_row("PRAGMA user_version", [], |row| row.get(0))?;
                // 0 is nobody's; our own earlier value is the history's fingerprint as
                // read. Anything else belongs to the program, which we leave alone.
                let owned = current == 0 || current.cast_unsigned() == previous;
                if !owned {
                    log::info!(
                        "user_version holds a value migrate did not write; keeping it, so the \
                         start-up check reads the history"
                    );
                }
                self.owns_user_version = Some(owned);
                owned
            }
        };
        if owned {
            // Inside the step's transaction: it commits or rolls back with the history.
            self.conn
                .inner
                .execute_batch(&format!("PRAGMA user_version = {}", new.cast_signed()))?;
        }
        Ok(())
    }

    fn update_checksum(&mut self, migration: &RegisteredMigration) -> Result<(), BoxError> {
        let version = i64::try_from(migration.version())?;
        self.conn
            .inner
            .prepare_cached(&self.sql.update_checksum)?
            .execute((migration.set(), version, migration.checksum()))?;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), BoxError> {
        let denied = self.conn.transaction_statement_denied();
        self.conn.guard(false);
        if denied {
            return Err(TRANSACTION_DENIED.into());
        }
        if self.conn.inner.is_autocommit() {
            return Err("the migration's transaction ended before its commit".into());
        }
        self.conn.inner.execute_batch("COMMIT")?;
        self.keys.end(true);
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), BoxError> {
        self.conn.guard(false);
        self.keys.end(false);
        if !self.conn.inner.is_autocommit() {
            self.conn.inner.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }
}
