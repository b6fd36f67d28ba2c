//! [`Sqlite`]: the [`Backend`] for one SQLite database.

use std::path::Path;
use std::time::Duration;

use migrate_core::{
    Backend, BoxError, Capabilities, CodeScope, Db, Error, Freshness, HistoryChange, HistoryRead,
    HistoryRow, NewRow, Read, RegisteredMigration, RowState, Sessions, TxMode, Unsupported,
};
use rusqlite::OptionalExtension;

use crate::db::{Conn, TRANSACTION_DENIED};
use crate::fast_start::FastStart;
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
    /// The history's fingerprint in the header's `user_version`, trusted at start-up
    /// when the fast start is on (opt-in).
    fast: FastStart,
    /// The read-only transaction or scope that is open, for a condition.
    read_only: Option<ReadOnly>,
    /// The foreign-key check's view of the step: the schema before it.
    keys: ForeignKeys,
}

/// What `begin(TxMode::ReadOnly)` opened.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ReadOnly {
    /// A transaction of its own (`BEGIN IMMEDIATE`, so under the write lock).
    Transaction,
    /// `query_only` inside the open write transaction (a batch).
    Scope,
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
            fast: FastStart::default(),
            read_only: None,
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
        self.fast.on = on;
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
        self.data_version = Some(data_version);
        self.foreign_keys = None;
    }

    /// A row as read, with a value of the wrong type taken as a table that is not ours.
    fn checked_row(
        &self,
        row: rusqlite::Result<Result<HistoryRow, BoxError>>,
    ) -> Result<HistoryRow, BoxError> {
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
}

impl Sqlite {
    /// Inserts `row` as core encoded it, the time taken now.
    fn insert_row(&mut self, row: &NewRow<'_>) -> Result<(), BoxError> {
        let version = i64::try_from(row.version())?;
        let micros = i64::try_from(row.duration().as_micros()).unwrap_or(i64::MAX);
        self.conn.inner.prepare_cached(&self.sql.insert)?.execute((
            row.set(),
            version,
            row.description(),
            row.type_name(),
            row.checksum_column(),
            history::utc_now(),
            micros,
            row.complete(),
        ))?;
        Ok(())
    }

    /// The narrow read of `set`; every row built, one in place each (the start-up path).
    fn read_set(&mut self, set: &str) -> Result<Vec<HistoryRow>, BoxError> {
        // The version first: a commit landing between the two reads then makes the next
        // `begin` see a stale history and read again, never the reverse.
        let data_version = self.data_version()?;
        let Some(mut statement) = self.prepare_history(&self.sql.select_applied)? else {
            self.mark_read(data_version, false);
            self.fast.read(Some((set, &[])));
            return Ok(Vec::new());
        };
        let mut read = Vec::new();
        let mut rows = statement.query([set])?;
        while let Some(row) = rows.next()? {
            read.push(self.checked_row(history::read_applied_row(set, row))?);
        }
        drop(rows);
        drop(statement);
        self.mark_read(data_version, true);
        self.fast.read(Some((set, &read)));
        Ok(read)
    }

    /// The full read of every set.
    fn read_all(&mut self) -> Result<Vec<HistoryRow>, BoxError> {
        let data_version = self.data_version()?;
        self.fast.read(None);
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

    /// `BEGIN IMMEDIATE`: the write lock, waited for up to the busy timeout. Whether the
    /// history changed since the last read.
    fn begin_immediate(&mut self) -> Result<Freshness, BoxError> {
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
            self.fast.stale();
            return Ok(Freshness::Stale);
        }
        Ok(Freshness::Current)
    }

    /// A condition's read-only transaction, under the write lock: it decides on the
    /// database as it is, and the write transaction after it finds any commit made in
    /// between (`PRAGMA data_version`) and plans again.
    fn begin_read_only(&mut self) -> Result<Freshness, BoxError> {
        if !self.conn.inner.is_autocommit() {
            // In a batch: read-only inside its transaction, which sees what it did so far.
            self.conn.inner.execute_batch("PRAGMA query_only = 1")?;
            self.read_only = Some(ReadOnly::Scope);
            return Ok(Freshness::Current);
        }
        let freshness = self.begin_immediate()?;
        self.read_only = Some(ReadOnly::Transaction);
        if freshness == Freshness::Current {
            self.conn.inner.execute_batch("PRAGMA query_only = 1")?;
            self.conn.guard(true);
        }
        Ok(freshness)
    }
}

const ONE_WRITER: &str = "SQLite lets one connection write at a time, so a second migration \
    would only wait for the first; to migrate many SQLite files at once, run the migrator \
    over them with Migrator::fan_out (`migrate up --each`)";

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TRANSACTIONAL
    }

    fn read_history(&mut self, read: Read<'_>) -> Result<HistoryRead, BoxError> {
        match read {
            Read::SetUnlessUpToDate { set, known } => {
                if self.fast.up_to_date(&self.conn.inner, known) {
                    // Nothing was read: the next `begin` must take the history as changed.
                    self.data_version = None;
                    self.fast.read(None);
                    return Ok(HistoryRead::UpToDate);
                }
                let rows = self.read_set(set)?;
                Ok(HistoryRead::unless_up_to_date(rows, known))
            }
            Read::Set(set) => self.read_set(set).map(HistoryRead::Rows),
            _ => self.read_all().map(HistoryRead::Rows),
        }
    }

    fn write_history(&mut self, change: HistoryChange<'_>) -> Result<(), BoxError> {
        self.fast.write(&change);
        match &change {
            HistoryChange::Insert(row) => {
                if matches!(row.state(), RowState::Incomplete { .. }) {
                    // A mark: the schema read at this step's `begin` is the one its code
                    // starts from.
                    self.keys.hold();
                }
                self.insert_row(row)
            }
            HistoryChange::Delete { set, version } => {
                let version = i64::try_from(*version)?;
                self.conn
                    .inner
                    .prepare_cached(&self.sql.delete)?
                    .execute((set, version))?;
                Ok(())
            }
            HistoryChange::SetChecksum {
                set,
                version,
                checksum_column,
            } => {
                let version = i64::try_from(*version)?;
                self.conn
                    .inner
                    .prepare_cached(&self.sql.update_checksum)?
                    .execute((set, version, checksum_column))?;
                Ok(())
            }
            _ => Err("a change of the history this version of migrate-sqlite cannot write".into()),
        }
    }

    fn begin(&mut self, mode: TxMode) -> Result<Freshness, BoxError> {
        if mode == TxMode::ReadOnly {
            return self.begin_read_only();
        }
        if self.begin_immediate()? == Freshness::Stale {
            return Ok(Freshness::Stale);
        }
        let now = self.data_version.unwrap_or_default();
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

    fn commit(&mut self) -> Result<(), BoxError> {
        let denied = self.conn.transaction_statement_denied();
        self.conn.guard(false);
        if denied {
            return Err(TRANSACTION_DENIED.into());
        }
        if self.conn.inner.is_autocommit() {
            return Err("the migration's transaction ended before its commit".into());
        }
        self.fast.before_commit(&self.conn.inner, &self.sql)?;
        self.conn.inner.execute_batch("COMMIT")?;
        self.fast.committed();
        self.keys.end(true);
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), BoxError> {
        match self.read_only.take() {
            Some(ReadOnly::Scope) => {
                // Back to the batch's transaction, writable.
                self.conn.inner.execute_batch("PRAGMA query_only = 0")?;
                return Ok(());
            }
            Some(ReadOnly::Transaction) => {
                self.conn.guard(false);
                let writable = self.conn.inner.execute_batch("PRAGMA query_only = 0");
                if !self.conn.inner.is_autocommit() {
                    self.conn.inner.execute_batch("ROLLBACK")?;
                }
                return writable.map_err(BoxError::from);
            }
            None => {}
        }
        // What this transaction wrote to the history, the header and the companion table
        // is undone.
        self.fast.rolled_back();
        self.conn.guard(false);
        self.keys.end(false);
        if !self.conn.inner.is_autocommit() {
            self.conn.inner.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    fn end_run(&mut self) -> Result<(), BoxError> {
        // The lock is the write transaction, which every step ends itself.
        Ok(())
    }

    fn db(&mut self) -> &mut dyn Db {
        &mut self.conn
    }

    fn prepare_code(&mut self, _: &RegisteredMigration, _: CodeScope) -> Result<(), BoxError> {
        // SQLite has no per-migration settings: the busy timeout is the connection's.
        Ok(())
    }

    fn verify(&mut self) -> Result<(), BoxError> {
        // Only what the migration could have broken: see `foreign_keys`.
        self.keys.check(&self.conn, self.foreign_keys)
    }

    fn sessions(&mut self) -> Result<&mut dyn Sessions, Unsupported> {
        Err(Unsupported::new(ONE_WRITER))
    }
}
