//! [`Sqlite`]: the [`Backend`] for one SQLite database.

use std::path::Path;
use std::time::Duration;

use migrate_core::{
    AppliedMigration, Backend, BoxError, DOWN_MARK, Db, Direction, Error, Freshness,
    RegisteredMigration,
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
/// # use migrate_sqlite::{migration, BoxError, Db, Migration};
/// # #[migration(version = 1, description = "Create users", irreversible)]
/// # pub struct CreateUsers;
/// # impl Migration for CreateUsers {
/// #     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
/// #         db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
/// #     }
/// # }
///
/// let dir = tempfile::tempdir()?;
/// let mut db = Sqlite::open(dir.path().join("app.db"))?;
/// let report = Migrator::discovered()?.to_latest(&mut db)?;
/// assert_eq!(report.steps.len(), 1); // this program has one migration, `CreateUsers`
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
    /// Whether the history's fingerprint is kept in the header's `user_version` and
    /// trusted at start-up (opt-in).
    fast_start: bool,
    /// Whether the companion table that proves migrate owns `user_version` exists, as
    /// far as this run knows.
    companion_exists: Option<bool>,
    /// `user_version` and the recorded value as this connection's last write left them;
    /// valid while nobody else commits (dropped at every read and every stale `begin`).
    header: Option<(i32, Option<i32>)>,
    /// The foreign-key check's view of the step: the schema before it.
    keys: ForeignKeys,
}

impl Sqlite {
    /// Opens (or creates) the database file at `path`, waiting up to
    /// [`DEFAULT_BUSY_TIMEOUT`] for another connection's lock, from the first read of the
    /// file on; [`open_with_busy_timeout`](Self::open_with_busy_timeout) to wait longer or
    /// less.
    ///
    /// # Errors
    ///
    /// [`Error::NotADatabase`] when the file is not a SQLite database;
    /// [`Error::Database`] when it cannot be opened or read, for example when another
    /// connection held an exclusive lock on it for longer than the timeout.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::open_with_busy_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`open`](Self::open), waiting up to `timeout` for another connection's lock:
    /// while opening (the first read of the file checks that it is a SQLite database)
    /// and for every statement after, until [`busy_timeout`](Self::busy_timeout) changes
    /// it. `Sqlite::open(path)?.busy_timeout(t)` sets `t` only after the first read,
    /// which waits up to [`DEFAULT_BUSY_TIMEOUT`].
    ///
    /// ```rust,standalone_crate
    /// use std::time::Duration;
    /// use migrate_sqlite::{Migrator, Sqlite};
    ///
    /// let dir = tempfile::tempdir()?;
    /// // A program that would rather fail fast than wait for another writer.
    /// let mut db = Sqlite::open_with_busy_timeout(dir.path().join("app.db"), Duration::from_secs(2))?;
    /// let waits_ms: i64 = db.connection().query_row("PRAGMA busy_timeout", [], |r| r.get(0))?;
    /// assert_eq!(waits_ms, 2000);
    /// assert!(Migrator::new().to_latest(&mut db)?.is_empty()); // an empty manager
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open); [`Error::Database`] also when SQLite refuses the timeout.
    pub fn open_with_busy_timeout(
        path: impl AsRef<Path>,
        timeout: Duration,
    ) -> Result<Self, Error> {
        Self::open_with_flags(path, rusqlite::OpenFlags::default(), timeout)
    }

    /// [`open_with_busy_timeout`](Self::open_with_busy_timeout) with SQLite's open flags
    /// ([`rusqlite::OpenFlags`], re-exported as `migrate_sqlite::rusqlite`): open
    /// read-only (`SQLITE_OPEN_READ_ONLY`), or read and write without creating a file
    /// that does not exist (`SQLITE_OPEN_READ_WRITE` without `SQLITE_OPEN_CREATE`), as the
    /// `migrate` command does for commands that must not create the database.
    ///
    /// ```
    /// use std::time::Duration;
    /// use migrate_sqlite::{rusqlite::OpenFlags, Sqlite};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("missing.db");
    /// let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    /// // Without SQLITE_OPEN_CREATE, a file that does not exist is an error, not a new file.
    /// assert!(Sqlite::open_with_flags(&path, flags, Duration::from_secs(5)).is_err());
    /// assert!(!path.exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`] naming the file when SQLite cannot open it with these flags,
    /// or the busy timeout cannot be set.
    pub fn open_with_flags(
        path: impl AsRef<Path>,
        flags: rusqlite::OpenFlags,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let path = path.as_ref();
        let conn = rusqlite::Connection::open_with_flags(path, flags).map_err(|source| {
            Error::Database {
                action: format!("open the SQLite database {}", path.display()),
                source: source.into(),
            }
        })?;
        // Before the first read: rusqlite opens with a busy timeout of its own (5 s),
        // which must not decide how long the header read waits for another connection.
        conn.busy_timeout(timeout)
            .map_err(|source| Error::Database {
                action: "set the busy timeout".to_owned(),
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
        Self::from_connection(conn)?.busy_timeout(timeout)
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
    /// [`Error::Database`] when the busy timeout or the authorizer cannot be set.
    pub fn from_connection(conn: rusqlite::Connection) -> Result<Self, Error> {
        let conn = Conn::new(conn).map_err(|source| Error::Database {
            action: "install the guard that keeps migrations inside their transaction".to_owned(),
            source: source.into(),
        })?;
        let sqlite = Sqlite {
            conn,
            sql: HistorySql::new(crate::DEFAULT_HISTORY_TABLE),
            table_exists: false,
            data_version: None,
            foreign_keys: None,
            shape_checked: false,
            fast_start: false,
            companion_exists: None,
            header: None,
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

    /// Opt in to the fast start: keep a fingerprint of the history in the database
    /// header's `user_version`, so that a start with everything applied reads two header
    /// fields instead of the history (off by default: the default start-up check reads
    /// the history, narrowly).
    ///
    /// What it trusts: that nobody edits the history table's rows by hand. It sees every
    /// change migrate makes (each one rewrites or invalidates the fingerprint in its own
    /// transaction, fast start on or off), every schema change (the value is bound to the
    /// header's schema version, so a dropped history table, a column removed by hand or
    /// any other DDL makes it miss and the full check run) and a program writing
    /// `user_version` itself. What it cannot see: a history row deleted or edited by
    /// hand without a schema change; after such an edit, turn it off for one start or set
    /// `PRAGMA user_version = 0`.
    ///
    /// Ownership: migrate writes `user_version` only while it holds the value migrate
    /// recorded at its own last write (in the table `<history table>_fast_start`), or,
    /// the first time, while it is 0 and the fast start is on: turning it on says your
    /// program does not use `user_version`. A value anybody else wrote is left alone,
    /// and the start-up check then reads the history. docs/safety.md has the argument.
    ///
    /// ```rust,standalone_crate
    /// use migrate_sqlite::{Migrator, Sqlite};
    /// # use migrate_sqlite::{migration, BoxError, Db, Migration};
    /// # #[migration(version = 1, description = "Create users", irreversible)]
    /// # pub struct CreateUsers;
    /// # impl Migration for CreateUsers {
    /// #     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    /// #         db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    /// #     }
    /// # }
    ///
    /// let dir = tempfile::tempdir()?;
    /// let mut db = Sqlite::open(dir.path().join("app.db"))?.fast_start(true);
    /// Migrator::discovered()?.to_latest(&mut db)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
        let mut statement = conn
            .prepare("SELECT name, \"notnull\", dflt_value, pk, type FROM pragma_table_info(?1)")?;
        let columns: Vec<(String, bool, Option<String>, i64, String)> = statement
            .query_map([&self.sql.name], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        for expected in history::COLUMNS {
            if !columns.iter().any(|(name, ..)| name == expected) {
                return Err(self.foreign_table(format!("it has no column {expected:?}")));
            }
        }
        if let Some((name, .., declared)) = columns.iter().find(|(name, .., declared)| {
            history::INTEGER_COLUMNS.contains(&name.as_str())
                && !declared.eq_ignore_ascii_case("INTEGER")
        }) {
            return Err(self.foreign_table(format!(
                "its column {name:?} is declared {declared:?} where migrate declares INTEGER"
            )));
        }
        if let Some((name, ..)) = columns.iter().find(|(name, not_null, default, pk, _)| {
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

    fn table_exists(&self, name: &str) -> rusqlite::Result<bool> {
        Ok(self
            .conn
            .inner
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Prepares `sql` over the history table; `None` when there is no history table.
    ///
    /// A failed prepare with the table present is retried before the table is called
    /// foreign: another connection may have created it between the prepare and the
    /// look (a fresh file with several processes starting at once).
    fn prepare_history(
        &self,
        sql: &str,
    ) -> Result<Option<rusqlite::CachedStatement<'_>>, BoxError> {
        let mut failure = None;
        for _ in 0..3 {
            match self.conn.inner.prepare_cached(sql) {
                Ok(statement) => return Ok(Some(statement)),
                Err(error) => {
                    if !self.table_exists(&self.sql.name)? {
                        return Ok(None);
                    }
                    failure = Some(error);
                }
            }
        }
        Err(self.foreign_table(failure.map_or_else(String::new, |e| e.to_string())))
    }

    /// After a read of the history: what `begin` compares with, and per-run facts that
    /// another connection may have changed since.
    fn mark_read(&mut self, data_version: i64, table_exists: bool) {
        self.table_exists = table_exists;
        // Checked once per run, at its first `begin`, when the table was not made there.
        self.shape_checked = false;
        self.companion_exists = None;
        self.header = None;
        self.data_version = Some(data_version);
        self.foreign_keys = None;
    }

    /// A row as read, with a value of the wrong type taken as a table that is not ours.
    fn checked_row(
        &self,
        row: rusqlite::Result<Result<AppliedMigration, BoxError>>,
    ) -> Result<AppliedMigration, BoxError> {
        match row {
            Err(rusqlite::Error::InvalidColumnType(_, ref name, ty))
                if self.declared_integer(name) =>
            {
                Err(Box::new(Error::UnreadableHistoryRow {
                    table: self.sql.name.clone(),
                    problem: format!(
                        "its column `{name}` holds a value of type {ty} where migrate writes \
                         an integer"
                    ),
                }))
            }
            Err(
                error @ (rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)),
            ) => Err(self.foreign_table(error.to_string())),
            Err(error) => Err(error.into()),
            Ok(row) => row,
        }
    }

    /// Whether the history table declares `column` INTEGER, as migrate creates it: a
    /// value of another type in it is a row edited by hand, not a table of another kind.
    fn declared_integer(&self, column: &str) -> bool {
        self.conn
            .inner
            .query_row(
                "SELECT type FROM pragma_table_info(?1) WHERE name = ?2",
                [self.sql.name.as_str(), column],
                |row| row.get::<_, String>(0),
            )
            .is_ok_and(|ty| ty.eq_ignore_ascii_case("INTEGER"))
    }

    /// `user_version` as migrate last recorded writing it, when it ever did.
    fn recorded_user_version(&mut self) -> Result<Option<i32>, BoxError> {
        let exists = match self.companion_exists {
            Some(exists) => exists,
            None => {
                let exists = self.table_exists(&self.sql.companion)?;
                self.companion_exists = Some(exists);
                exists
            }
        };
        if !exists {
            return Ok(None);
        }
        Ok(self
            .conn
            .inner
            .prepare_cached(&self.sql.companion_select)?
            .query_row([], |row| row.get(0))
            .optional()?)
    }
}

/// The stored fingerprint is bound to the header's schema version, so that any schema
/// change made outside migrate (a dropped history table, a column removed by hand)
/// makes a fast start miss. Multiplying by an odd constant keeps every bit of it.
fn bind(schema_version: i32) -> u32 {
    schema_version.cast_unsigned().wrapping_mul(0x9e37_79b1)
}

impl Sqlite {
    /// One history row of `migration`, with the checksum column's text, the duration in
    /// microseconds and whether it finished.
    fn insert_row(
        &mut self,
        migration: &RegisteredMigration,
        checksum: &str,
        micros: i64,
        complete: bool,
    ) -> Result<(), BoxError> {
        let version = i64::try_from(migration.version())?;
        self.conn.inner.prepare_cached(&self.sql.insert)?.execute((
            migration.set(),
            version,
            migration.description(),
            migration.type_name(),
            checksum,
            history::utc_now(),
            micros,
            complete,
        ))?;
        Ok(())
    }
}

impl Backend for Sqlite {
    fn read_history(&mut self) -> Result<Vec<AppliedMigration>, BoxError> {
        // The version first: a commit landing between the two reads then makes the next
        // `begin` see a stale history and read again, never the reverse.
        let data_version = self.data_version()?;
        let Some(mut statement) = self.prepare_history(&self.sql.select)? else {
            self.mark_read(data_version, false);
            return Ok(Vec::new());
        };
        let rows = statement
            .query_map([], history::read_row)?
            .map(|row| self.checked_row(row))
            .collect::<Result<Vec<_>, BoxError>>()?;
        drop(statement);
        self.mark_read(data_version, true);
        Ok(rows)
    }

    fn read_applied(&mut self, set: &str) -> Result<Vec<AppliedMigration>, BoxError> {
        let data_version = self.data_version()?;
        let Some(mut statement) = self.prepare_history(&self.sql.select_applied)? else {
            self.mark_read(data_version, false);
            return Ok(Vec::new());
        };
        // A plain loop, one row built in place each: this is the start-up path.
        let mut read = Vec::new();
        let mut rows = statement.query([set])?;
        while let Some(row) = rows.next()? {
            read.push(self.checked_row(history::read_applied_row(set, row))?);
        }
        drop(rows);
        drop(statement);
        self.mark_read(data_version, true);
        Ok(read)
    }

    fn begin(&mut self) -> Result<Freshness, BoxError> {
        self.conn.guard(false);
        self.conn.inner.execute_batch("BEGIN IMMEDIATE")?;
        let now = match self.data_version() {
            Ok(now) => now,
            Err(error) => {
                let _ = self.conn.inner.execute_batch("ROLLBACK");
                return Err(error.into());
            }
        };
        if Some(now) != self.data_version {
            self.header = None;
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
        self.keys.begin(&self.conn, &mut self.foreign_keys, now);
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
        let micros = i64::try_from(duration.as_micros()).unwrap_or(i64::MAX);
        self.insert_row(migration, migration.checksum(), micros, complete)
    }

    fn record_started(
        &mut self,
        migration: &RegisteredMigration,
        direction: Direction,
    ) -> Result<(), BoxError> {
        // The schema read at this step's `begin` is the one its code starts from.
        self.keys.hold();
        let checksum = match direction {
            Direction::Up => migration.checksum().to_owned(),
            Direction::Down => format!("{DOWN_MARK}{}", migration.checksum()),
        };
        self.insert_row(migration, &checksum, 0, false)
    }

    fn record_skipped(
        &mut self,
        migration: &RegisteredMigration,
        checksum: &str,
    ) -> Result<(), BoxError> {
        self.insert_row(migration, checksum, 0, true)
    }

    /// `PRAGMA query_only`: every statement that would write fails while it is on.
    fn read_only(&mut self, on: bool) -> Result<(), BoxError> {
        let pragma = if on {
            "PRAGMA query_only = 1"
        } else {
            "PRAGMA query_only = 0"
        };
        self.conn.inner.execute_batch(pragma)?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn parallel_support(&self) -> Result<(), String> {
        Err(
            "SQLite lets one connection write at a time, so a second migration would only \
             wait for the first; to migrate many SQLite files at once, run the migrator \
             over them with Migrator::fan_out (`migrate up --each`)"
                .to_owned(),
        )
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
        // Two header fields: no schema load, however many tables the database has.
        let conn = &self.conn.inner;
        let value: i32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if value == 0 {
            return Ok(None);
        }
        let schema: i32 = conn.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
        Ok(Some(value.cast_unsigned() ^ bind(schema)))
    }

    fn store_fingerprint(&mut self, fingerprint: Option<u32>) -> Result<(), BoxError> {
        let (current, recorded) = match self.header {
            Some(header) => header,
            None => {
                let recorded = self.recorded_user_version()?;
                if recorded.is_none() && !self.fast_start {
                    // migrate never wrote user_version here: nothing to keep up to date.
                    return Ok(());
                }
                let current: i32 = self
                    .conn
                    .inner
                    .query_row("PRAGMA user_version", [], |row| row.get(0))?;
                (current, recorded)
            }
        };
        // Ours when it still holds what migrate recorded at its last write; or when it
        // is 0 and the fast start is on (turning it on says the program does not use
        // user_version; 0 is also what the docs say to write after a hand edit).
        let owned = recorded == Some(current) || (current == 0 && self.fast_start);
        if !owned {
            if self.fast_start && self.header.is_none() {
                log::info!(
                    "user_version holds {current}, a value migrate did not write; leaving it \
                     alone, so the start-up check reads the history"
                );
            }
            self.header = Some((current, recorded));
            return Ok(());
        }
        let conn = &self.conn.inner;
        if recorded.is_none() {
            // DDL, so before the schema version is read below.
            conn.execute_batch(&self.sql.companion_create)?;
            self.companion_exists = Some(true);
        }
        let value = match fingerprint {
            Some(fingerprint) if self.fast_start => {
                let schema: i32 = conn.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
                (fingerprint ^ bind(schema)).cast_signed()
            }
            // Invalidated: a history with an incomplete mark, or a fast start turned off
            // (a later fast start must not trust a value this run did not keep up).
            _ => 0,
        };
        // Inside the step's transaction: it commits or rolls back with the history.
        let companion = &self.sql.companion_quoted;
        let record = if recorded.is_some() {
            format!("UPDATE {companion} SET user_version = {value}")
        } else {
            format!("INSERT INTO {companion} (user_version) VALUES ({value})")
        };
        if value != current {
            conn.execute_batch(&format!("PRAGMA user_version = {value}"))?;
        }
        if recorded != Some(value) {
            conn.execute_batch(&record)?;
        }
        self.header = Some((value, Some(value)));
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
        // What this transaction wrote to the header and the companion table is undone.
        self.header = None;
        self.companion_exists = None;
        self.conn.guard(false);
        self.keys.end(false);
        if !self.conn.inner.is_autocommit() {
            self.conn.inner.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }
}
