//! The connection a migration sees: [`Db`] for SQL text, [`PostgresExt`] for queries with
//! parameters and rows through [`PgTransaction`].

use std::any::Any;
use std::sync::{Arc, OnceLock};

use migrate_core::{BoxError, Db};
use postgres::types::ToSql;
use postgres::{Client, Row};

use crate::offload::off_runtime;

/// The connection of a migration: inside the transaction the manager opened for it (or
/// with none, for a `transaction = false` migration). Its methods are the driver's
/// ([`postgres::Client`]), callable from plain and from async code alike.
///
/// ```rust,no_run
/// use migrate_postgres::{migration, BoxError, Db, Migration, PostgresExt};
///
/// #[migration(version = 7, description = "Lower-case every name", irreversible)]
/// pub struct LowerCaseNames;
///
/// impl Migration for LowerCaseNames {
///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
///         let tx = db.postgres()?;
///         for row in tx.query("SELECT id, name FROM chat_users", &[])? {
///             let (id, name): (i64, String) = (row.get(0), row.get(1));
///             tx.execute(
///                 "UPDATE chat_users SET name = $1 WHERE id = $2",
///                 &[&name.to_lowercase(), &id],
///             )?;
///         }
///         Ok(())
///     }
/// }
/// # fn main() {}
/// ```
pub struct PgTransaction {
    /// Always there, but for the moment `Drop` takes it to close it off the runtime.
    client: Option<Client>,
    /// Where the sessions that held the lock go, once the transaction is rolled back and
    /// they can be read, for a statement that hit the `lock_timeout`.
    pub(crate) timed_out: Option<Arc<OnceLock<String>>>,
    /// Whether the manager has a transaction open on it (false while a
    /// `transaction = false` migration runs).
    pub(crate) in_transaction: bool,
}

impl PgTransaction {
    pub(crate) fn new(client: Client) -> Self {
        PgTransaction {
            client: Some(client),
            timed_out: None,
            in_transaction: false,
        }
    }

    /// The driver's client.
    pub(crate) fn client(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .unwrap_or_else(|| unreachable!("only `Drop` takes the client"))
    }

    /// Runs one statement with parameters (`$1`, `$2`, ...); returns the rows it changed.
    ///
    /// # Errors
    ///
    /// The server's error.
    pub fn execute(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let client = self.client();
        off_runtime(move || client.execute(sql, params))
    }

    /// Runs one query with parameters and returns its rows.
    ///
    /// # Errors
    ///
    /// The server's error.
    pub fn query(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let client = self.client();
        off_runtime(move || client.query(sql, params))
    }

    /// Runs one query that returns exactly one row.
    ///
    /// # Errors
    ///
    /// The server's error, or the driver's when the query returns no row or several.
    pub fn query_one(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Row, postgres::Error> {
        let client = self.client();
        off_runtime(move || client.query_one(sql, params))
    }

    /// Runs one query that returns at most one row.
    ///
    /// # Errors
    ///
    /// The server's error, or the driver's when the query returns several rows.
    pub fn query_opt(
        &mut self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let client = self.client();
        off_runtime(move || client.query_opt(sql, params))
    }

    /// Runs SQL text: one statement or several separated by `;`, with no parameters.
    ///
    /// # Errors
    ///
    /// The server's error.
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        let client = self.client();
        off_runtime(move || client.batch_execute(sql))
    }

    /// The driver's client itself, for what the methods above do not cover (`COPY`,
    /// prepared statements, notifications), inside the migration's transaction.
    /// `work` runs on a thread of its own when the caller is inside a tokio runtime,
    /// where the driver cannot run. Do not end the transaction in it (`COMMIT`,
    /// `ROLLBACK`, or `Client::transaction`, which sends `BEGIN`): the manager commits
    /// the migration together with its history row, and refuses to record a migration
    /// whose transaction was ended.
    pub fn with_client<R: Send>(&mut self, work: impl FnOnce(&mut Client) -> R + Send) -> R {
        let client = self.client();
        off_runtime(move || work(client))
    }
}

impl PgTransaction {
    /// A concurrent index build that fails leaves its index behind, marked INVALID: the
    /// error names the invalid indexes there are now and how to recover.
    fn invalid_indexes(&mut self, source: postgres::Error) -> BoxError {
        let invalid = self.query(
            "SELECT n.nspname || '.' || c.relname FROM pg_index i \
             JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE NOT i.indisvalid ORDER BY 1",
            &[],
        );
        let names: Vec<String> = match invalid {
            Ok(rows) => rows.iter().map(|row| row.get(0)).collect(),
            Err(_) => return source.into(),
        };
        if names.is_empty() {
            return source.into();
        }
        Box::new(InvalidIndex { source, names })
    }
}

/// A concurrent index build that failed and left INVALID indexes behind (PostgreSQL keeps
/// them, and they slow writes without serving reads).
#[derive(Debug)]
pub struct InvalidIndex {
    source: postgres::Error,
    names: Vec<String>,
}

impl std::fmt::Display for InvalidIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "a concurrent index build failed and the database now has INVALID indexes: {}; \
             drop each (`DROP INDEX CONCURRENTLY name`) before the migration runs again",
            self.names.join(", ")
        )
    }
}

impl std::error::Error for InvalidIndex {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl Drop for PgTransaction {
    fn drop(&mut self) {
        // Closing the connection blocks on the driver's runtime too.
        if let Some(client) = self.client.take() {
            off_runtime(move || drop(client));
        }
    }
}

impl Db for PgTransaction {
    fn execute(&mut self, sql: &str) -> Result<(), BoxError> {
        self.batch_execute(sql).map_err(|source| {
            if !self.in_transaction && sql.to_ascii_lowercase().contains("concurrently") {
                return self.invalid_indexes(source);
            }
            if source.code() != Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
                return BoxError::from(source);
            }
            let holders = Arc::new(OnceLock::new());
            self.timed_out = Some(Arc::clone(&holders));
            Box::new(LockTimedOut { source, holders })
        })
    }

    fn native(&mut self) -> &mut dyn Any {
        self
    }
}

/// Typed access to PostgreSQL from a migration's `&mut dyn Db`: see [`PgTransaction`].
///
/// Sealed: implemented for `dyn Db` only, so that methods can be added to it without
/// breaking anyone. A type of your own cannot implement it:
///
/// ```rust,compile_fail,E0277
/// use migrate_postgres::{BoxError, PgTransaction, PostgresExt};
///
/// struct Mine;
///
/// impl PostgresExt for Mine {
///     fn postgres(&mut self) -> Result<&mut PgTransaction, BoxError> {
///         Err("mine".into())
///     }
/// }
/// ```
pub trait PostgresExt: sealed::Sealed {
    /// The migration's connection, inside the transaction the manager opened for it.
    ///
    /// # Errors
    ///
    /// When the migration runs on a backend other than PostgreSQL.
    fn postgres(&mut self) -> Result<&mut PgTransaction, BoxError>;
}

mod sealed {
    /// Keeps [`PostgresExt`](super::PostgresExt) implemented for `dyn Db` only.
    pub trait Sealed {}

    impl Sealed for dyn migrate_core::Db + '_ {}
}

impl PostgresExt for dyn Db + '_ {
    fn postgres(&mut self) -> Result<&mut PgTransaction, BoxError> {
        self.native()
            .downcast_mut::<PgTransaction>()
            .ok_or_else(|| "this migration needs PostgreSQL, but runs on another backend".into())
    }
}

/// A statement of a migration (run with `db.execute`) that waited longer than its
/// transaction's `lock_timeout` for a lock another session holds. Its message names the
/// sessions that held table locks with a transaction open when it failed, read once the
/// migration was rolled back.
#[derive(Debug)]
pub struct LockTimedOut {
    source: postgres::Error,
    holders: Arc<OnceLock<String>>,
}

impl LockTimedOut {
    /// The sessions that held table locks with a transaction open when the statement
    /// failed (process id, application, client, since when, what they ran), as its
    /// message shows them; `None` when they could not be read.
    pub fn holders(&self) -> Option<&str> {
        self.holders.get().map(String::as_str)
    }
}

impl std::fmt::Display for LockTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "a statement waited longer than the migration's lock_timeout for a lock that \
             another session holds",
        )?;
        if let Some(holders) = self.holders.get() {
            write!(f, " ({holders})")?;
        }
        f.write_str(
            "; run again once that session is done (or end it), or give the migration \
             longer with lock_timeout = \"..\" in its attribute, or every migration with \
             Postgres::lock_timeout",
        )
    }
}

impl std::error::Error for LockTimedOut {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}
