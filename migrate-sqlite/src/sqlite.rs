//! [`Sqlite`]: one SQLite database to migrate: opening it and the builder. Its
//! [`Backend`](migrate_core::Backend) implementation is in `backend.rs`.

use std::path::Path;
use std::time::Duration;

use migrate_core::Error;

use crate::db::Conn;
use crate::fast_start::FastStart;
use crate::foreign_keys::ForeignKeys;
use crate::history::HistorySql;

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
    pub(crate) conn: Conn,
    pub(crate) sql: HistorySql,
    /// Whether the history table existed at the last read.
    pub(crate) table_exists: bool,
    /// `PRAGMA data_version` at the last read: it changes when another connection commits.
    pub(crate) data_version: Option<i64>,
    /// Whether SQLite enforces foreign keys on this connection, asked once per run.
    pub(crate) foreign_keys: Option<bool>,
    /// Whether the history table's columns were checked in this run.
    pub(crate) shape_checked: bool,
    /// The history's fingerprint in the header's `user_version`, trusted at start-up
    /// when the fast start is on (opt-in).
    pub(crate) fast: FastStart,
    /// The read-only transaction or scope that is open, for a condition.
    pub(crate) read_only: Option<ReadOnly>,
    /// The foreign-key check's view of the step: the schema before it.
    pub(crate) keys: ForeignKeys,
}

/// What `begin(TxMode::ReadOnly)` opened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadOnly {
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
}
