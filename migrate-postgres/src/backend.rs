//! [`Postgres`]: the [`Backend`] for one PostgreSQL database (a schema's history table).

use std::time::Duration;

use migrate_core::{
    AppliedMigration, Backend, BoxError, DOWN_MARK, Db, Direction, Error, Freshness, LockTimeout,
    RegisteredMigration,
};
use postgres::{Client, NoTls, SimpleQueryMessage};

use crate::history::{self, DEFAULT_HISTORY_TABLE, HistorySql, quote_literal};
use crate::lease::{self, Lease};
use crate::lock;
use crate::offload::off_runtime;
use crate::transaction::PgTransaction;

/// How long a run waits for another session's migration lock before it gives up,
/// naming the holder, unless [`Postgres::lock_wait`] says otherwise.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(60);

/// The `lock_timeout` of each migration's transaction unless [`Postgres::lock_timeout`]
/// says otherwise: a statement that waits longer for a table lock (an `ALTER TABLE`
/// queued behind a long query, which would stall every query queued behind it) fails
/// instead, and the migration is rolled back.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`Postgres::connect`] waits for the server unless the connection string sets
/// `connect_timeout`.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const TRANSACTION_ENDED: &str = "the migration's transaction ended before its history row \
    was written: a migration runs inside the transaction that also records it, so its SQL \
    must not COMMIT, ROLLBACK or start a transaction of its own (use SAVEPOINT for a nested \
    one); what it did before that is committed without a history row: check the database by \
    hand";

/// How concurrent runs on one history table are kept apart ([`Postgres::lock`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lock {
    /// A session-level advisory lock (the default): released by the server when the
    /// session ends, however it ends; needs a session of its own, so not through a
    /// pooler in transaction mode.
    Advisory,
    /// A lease: a row in `<history>_lock` naming the holder and when its lease expires,
    /// renewed by a thread on a connection of its own every third of `ttl`, checked in
    /// every commit. Works through a pooler in transaction mode (PgBouncer); a holder that
    /// dies keeps the others waiting until its lease expires. Needs
    /// [`Postgres::connect`] or [`Postgres::connect_config`] (the renewing thread
    /// connects again), and sends no statement prepared in one transaction into another.
    Lease {
        /// How long a lease lasts without renewal.
        ttl: Duration,
    },
}

impl Lock {
    /// A lease that lasts 30 seconds without renewal.
    pub const LEASE: Lock = Lock::Lease {
        ttl: Duration::from_secs(30),
    };
}

/// The lock this session holds.
enum Held {
    Advisory(i32),
    Lease(Lease),
    /// Held by the session that opened this one ([`Backend::sibling`]), for a run of
    /// migrations at once: never taken nor released here. With a lease, each commit
    /// checks that the lease is still the run's (`fence`).
    Parent {
        fence: Option<String>,
    },
}

/// The catalog of one schema, one line per object, the history table left out: tables,
/// views and sequences; columns with type, nullability and default; constraints;
/// indexes; triggers; functions; types and enum labels.
const SCHEMA: &str = "
SELECT 'relation ' || c.relkind::text || ' ' || c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relname <> $2
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname <> $2
    AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname <> $2
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname <> $2
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND NOT t.tgisinternal
UNION ALL
SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
UNION ALL
SELECT 'type ' || t.typname || ' ' || t.typtype::text
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'r', 'm')
     OR (n.nspname = $1 AND t.typtype = 'c'
         AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
UNION ALL
SELECT 'enum ' || t.typname || ' ' || e.enumlabel
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
  JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1
ORDER BY 1";

/// The objects of `schema` as [`SCHEMA`] lists them, `history` left out.
pub(crate) fn schema_objects(
    tx: &mut PgTransaction,
    schema: &str,
    history: &str,
) -> Result<Vec<String>, postgres::Error> {
    let rows = tx.query(SCHEMA, &[&schema, &history])?;
    Ok(rows.iter().map(|row| row.get(0)).collect())
}

/// A PostgreSQL database, migrated through one connection.
///
/// The history lives in a table of one schema (by default `migrate_history` in the
/// connection's first `search_path` schema). A run that has work to do takes a
/// session-level advisory lock on that schema and table first, polling for it rather
/// than waiting inside the server, and holds it until the run ends; each migration then
/// runs in its own transaction with its history row, with a `lock_timeout`.
///
/// ```rust,no_run
/// use migrate_postgres::{Migrator, Postgres};
///
/// fn main() -> Result<(), migrate_postgres::Error> {
///     let mut db = Postgres::connect("postgres://app@localhost/app")?;
///     Migrator::discovered()?.to_latest(&mut db)?;
///     Ok(())
/// }
/// ```
pub struct Postgres {
    tx: PgTransaction,
    schema: String,
    table: String,
    sql: HistorySql,
    lock_wait: Duration,
    lock_timeout: Option<Duration>,
    /// How runs are kept apart.
    lock: Lock,
    /// The connection's settings, for the lease's renewing connection.
    config: Option<postgres::Config>,
    /// The lock while this session holds it.
    held: Option<Held>,
    /// Whether `pg_locks` showed the lock once on this connection.
    verified: bool,
    /// The last history read, to tell at `begin` whether another session wrote since.
    last_read: Option<LastRead>,
    /// The mark of the open transaction (`SET LOCAL migrate.step`); 0 when none is open.
    step: u64,
    steps: u64,
    /// Whether the table was seen, and checked, in this run.
    table_ready: bool,
    /// Whether the open transaction created the table: a rollback takes it away again.
    table_created: bool,
    /// The history's writes, prepared once per connection: one round trip each after.
    prepared: Vec<(String, postgres::Statement)>,
    /// The `lock_timeout` the open transaction had before a migration of its own set
    /// another, for the next migration in the same transaction.
    restore_local: Option<String>,
    /// The session's `lock_timeout` before a `transaction = false` migration set its own,
    /// set back at the next `begin` or the end of the run.
    restore_session: Option<String>,
}

/// What a read returned, in the form `begin` compares.
#[derive(PartialEq, Eq)]
struct LastRead {
    set: Option<String>,
    /// The rows as read, in one buffer ([`rows_key`]): compared exactly, with one
    /// allocation instead of one per row. `None` when the read found the history up to
    /// date and kept nothing ([`Backend::read_applied_unless_up_to_date`]): any check
    /// against it finds the history changed.
    rows: Option<Vec<u8>>,
    under_lock: bool,
}

/// The set, version (8 bytes), checksum and completeness of every row, the texts ended
/// by NUL (which no text column of PostgreSQL holds), so that equal buffers mean equal
/// rows.
fn rows_key(rows: &[AppliedMigration]) -> Vec<u8> {
    let mut key = Vec::with_capacity(
        rows.iter()
            .map(|r| r.set.len() + r.checksum.len() + 11)
            .sum(),
    );
    for row in rows {
        key.extend_from_slice(row.set.as_bytes());
        key.push(0);
        key.extend_from_slice(&row.version.to_le_bytes());
        key.extend_from_slice(row.checksum.as_bytes());
        key.push(0);
        key.push(u8::from(row.complete));
    }
    key
}

impl Postgres {
    /// Connects with a connection string: a URL (`postgres://user:password@host:5432/db`)
    /// or `key=value` pairs (`host=localhost user=app dbname=app`), as libpq takes them.
    /// Waits [`DEFAULT_CONNECT_TIMEOUT`] for the server unless the string sets
    /// `connect_timeout`, and names the session `migrate` in `pg_stat_activity` unless it
    /// sets `application_name`. No TLS: `sslmode=prefer` (the default) and `disable`
    /// connect without it; for TLS, connect a client with a TLS connector yourself and
    /// pass it to [`Postgres::from_client`].
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] naming the host, port, database and user (never the password)
    /// and what to check, when the string cannot be read or the server refuses or cannot
    /// be reached; at once, before connecting, when the string asks for TLS
    /// (`sslmode=require`, `verify-ca`, `verify-full`), saying what to do instead.
    pub fn connect(url: &str) -> Result<Self, Error> {
        // The driver does not read verify-ca or verify-full: said here, not as a parse
        // error of the string.
        if let Some(mode) = ssl_mode(url).filter(|mode| mode.starts_with("verify-")) {
            return Err(no_tls(&mode, None));
        }
        let config: postgres::Config = url.parse().map_err(|source| Error::Connect {
            action: "read the PostgreSQL connection string".to_owned(),
            advice: "write it as a URL, postgres://user:password@host:port/database, or as \
                     key=value pairs, host=... port=... user=... dbname=...",
            source: Box::new(source),
        })?;
        Self::connect_config(config)
    }

    /// [`connect`](Self::connect) with the driver's [`postgres::Config`], built or
    /// parsed yourself.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect) (`SslMode::Require` is refused at once).
    pub fn connect_config(mut config: postgres::Config) -> Result<Self, Error> {
        if config.get_ssl_mode() == postgres::config::SslMode::Require {
            return Err(no_tls("require", Some(&config)));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("migrate");
        }
        let client = off_runtime(|| config.connect(NoTls)).map_err(|source| Error::Connect {
            action: format!("connect to PostgreSQL {}", describe(&config)),
            advice: connect_advice(&source),
            source: Box::new(source),
        })?;
        let mut postgres = Self::from_client(client)?;
        postgres.config = Some(config);
        Ok(postgres)
    }

    /// Migrates through a client you connected yourself (with TLS, a pooler's settings,
    /// ...). Reads the connection's first `search_path` schema, where the history goes
    /// unless [`schema`](Self::schema) names another.
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the server cannot be asked, or when its `search_path`
    /// names no schema that exists (name one with [`schema`](Self::schema)).
    pub fn from_client(mut client: Client) -> Result<Self, Error> {
        // A simple query: through a pooler in transaction mode, a statement prepared in
        // one round trip may be gone in the next.
        let schema = off_runtime(|| {
            client
                .simple_query("SELECT current_schema()")
                .map(|messages| {
                    messages.into_iter().find_map(|message| match message {
                        SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                        _ => None,
                    })
                })
        })
        .map_err(|source| Error::Database {
            action: "read the connection's schema".to_owned(),
            source: Box::new(source),
        })?;
        let Some(schema) = schema else {
            return Err(Error::Database {
                action: "find the schema for the history table".to_owned(),
                source: "the connection's search_path names no schema that exists; create \
                         one, or name the schema with Postgres::schema"
                    .into(),
            });
        };
        Ok(Postgres {
            tx: PgTransaction::new(client),
            sql: HistorySql::new(&schema, DEFAULT_HISTORY_TABLE),
            schema,
            table: DEFAULT_HISTORY_TABLE.to_owned(),
            lock_wait: DEFAULT_LOCK_WAIT,
            lock_timeout: Some(DEFAULT_LOCK_TIMEOUT),
            lock: Lock::Advisory,
            config: None,
            held: None,
            verified: false,
            last_read: None,
            step: 0,
            steps: 0,
            table_ready: false,
            table_created: false,
            prepared: Vec::new(),
            restore_local: None,
            restore_session: None,
        })
    }

    /// Keeps the history in `schema` (created when missing, at the first migration)
    /// instead of the connection's first `search_path` schema. Migration code runs with
    /// the connection's own `search_path`: schema-qualify its names, or set it.
    #[must_use]
    pub fn schema(mut self, schema: &str) -> Self {
        schema.clone_into(&mut self.schema);
        self.renamed();
        self
    }

    /// Keeps the history in the table `name` instead of [`DEFAULT_HISTORY_TABLE`].
    #[must_use]
    pub fn history_table(mut self, name: &str) -> Self {
        name.clone_into(&mut self.table);
        self.renamed();
        self
    }

    /// How long a run waits for another session's migration lock before it fails with
    /// [`Error::LockTimeout`], naming who holds it ([`DEFAULT_LOCK_WAIT`] unless set).
    #[must_use]
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The `lock_timeout` of each migration's transaction ([`DEFAULT_LOCK_TIMEOUT`]
    /// unless set); `None` leaves the server's setting alone (by default: wait forever).
    /// A migration with `lock_timeout = ".."` in its attribute has its own instead
    /// ([`RegisteredMigration::lock_timeout`]), for its code alone; a `transaction =
    /// false` migration has no transaction, so this does not apply to it; its own is set
    /// for the session while its code runs, except with [`Lock::Lease`] (a pooler in
    /// transaction mode), where a session's setting would reach the pooler's other
    /// clients: there it runs with the server's `lock_timeout` (docs/postgres.md).
    #[must_use]
    pub fn lock_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.lock_timeout = timeout;
        self
    }

    /// How concurrent runs are kept apart: [`Lock::Advisory`] unless set; [`Lock::LEASE`]
    /// through a pooler in transaction mode (docs/postgres.md).
    #[must_use]
    pub fn lock(mut self, lock: Lock) -> Self {
        self.lock = lock;
        self
    }

    /// The schema of the history table.
    pub fn schema_name(&self) -> &str {
        &self.schema
    }

    /// The history table's name.
    pub fn history_table_name(&self) -> &str {
        &self.table
    }

    /// The connection, for your own queries between runs.
    pub fn connection(&mut self) -> &mut PgTransaction {
        &mut self.tx
    }

    /// What the history's schema holds, one line per object, sorted, the history table
    /// left out: tables, views and sequences (`relation r chat_users`); columns with type,
    /// nullability and default; constraints; indexes; triggers; functions; types and enum
    /// labels. Two schemas with the same lines have the same structure: this is what
    /// [`testing::check_migrations`](crate::testing::check_migrations) compares before an
    /// `up` and after its `down`, and what `migrate history` shows after each migration.
    ///
    /// ```rust,no_run
    /// use migrate_postgres::{Migrator, Postgres};
    ///
    /// fn main() -> Result<(), migrate_postgres::Error> {
    ///     let mut db = Postgres::connect("postgres://app@localhost/app")?;
    ///     Migrator::discovered()?.to_latest(&mut db)?;
    ///     for line in db.schema_objects()? {
    ///         println!("{line}"); // e.g. `column chat_users.name text NOT NULL`
    ///     }
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Database`] when the catalog cannot be read.
    pub fn schema_objects(&mut self) -> Result<Vec<String>, Error> {
        schema_objects(&mut self.tx, &self.schema, &self.table).map_err(|source| Error::Database {
            action: format!("read the catalog of the schema {}", self.schema),
            source: Box::new(source),
        })
    }

    fn renamed(&mut self) {
        self.sql = HistorySql::new(&self.schema, &self.table);
        self.table_ready = false;
        self.last_read = None;
    }

    fn client(&mut self) -> &mut Client {
        self.tx.client()
    }

    /// Runs a simple query (one round trip) and returns its rows.
    fn simple(&mut self, sql: &str) -> Result<Vec<postgres::SimpleQueryRow>, postgres::Error> {
        let client = self.client();
        let messages = off_runtime(move || client.simple_query(sql))?;
        Ok(messages
            .into_iter()
            .filter_map(|message| match message {
                SimpleQueryMessage::Row(row) => Some(row),
                _ => None,
            })
            .collect())
    }

    /// A read of the history that finds no table is an empty history.
    fn read(&mut self, sql: &str) -> Result<Option<Vec<postgres::SimpleQueryRow>>, BoxError> {
        match self.simple(sql) {
            Ok(rows) => Ok(Some(rows)),
            Err(error) => match error.code() {
                Some(code) if *code == postgres::error::SqlState::UNDEFINED_TABLE => Ok(None),
                Some(code) if *code == postgres::error::SqlState::UNDEFINED_COLUMN => {
                    Err(Box::new(Error::ForeignHistoryTable {
                        table: self.sql.display.clone(),
                        problem: db_message(&error),
                    }))
                }
                _ => Err(error.into()),
            },
        }
    }

    fn remember(&mut self, set: Option<&str>, rows: Option<&[AppliedMigration]>) {
        self.last_read = Some(LastRead {
            set: set.map(str::to_owned),
            rows: rows.map(rows_key),
            under_lock: self.held.is_some(),
        });
        // The table's shape is checked again at the next run's first step.
        if self.held.is_none() {
            self.table_ready = false;
        }
    }

    fn read_history_rows(&mut self) -> Result<Vec<AppliedMigration>, BoxError> {
        let sql = self.sql.select.clone();
        let Some(rows) = self.read(&sql)? else {
            return Ok(Vec::new());
        };
        rows.iter()
            .map(|row| history::full_row(row, &self.sql.display))
            .collect()
    }

    /// The narrow read of `set` as the server sent it; empty when there is no table.
    fn read_applied_raw(&mut self, set: &str) -> Result<Vec<postgres::SimpleQueryRow>, BoxError> {
        let sql = self.sql.select_applied(set);
        Ok(self.read(&sql)?.unwrap_or_default())
    }

    fn applied_rows(
        &self,
        set: &str,
        rows: &[postgres::SimpleQueryRow],
    ) -> Result<Vec<AppliedMigration>, BoxError> {
        let mut read = Vec::with_capacity(rows.len());
        for row in rows {
            read.push(history::applied_row(set, row, &self.sql.display)?);
        }
        Ok(read)
    }

    fn read_applied_rows(&mut self, set: &str) -> Result<Vec<AppliedMigration>, BoxError> {
        let rows = self.read_applied_raw(set)?;
        self.applied_rows(set, &rows)
    }

    /// Takes the migration lock unless this session holds it; `true` when taken now.
    fn take_lock(&mut self) -> Result<bool, BoxError> {
        if self.held.is_some() {
            return Ok(false);
        }
        let scope = lock::scope(&self.sql.display, "");
        let wait = self.lock_wait;
        if let Lock::Lease { ttl } = self.lock {
            let Some(config) = self.config.clone() else {
                return Err(
                    "the lease lock renews its lease on a connection of its own: \
                            connect with Postgres::connect or Postgres::connect_config, not \
                            from_client; nothing was written"
                        .into(),
                );
            };
            let table = lease::table(&self.schema, &self.table);
            let client = self.client();
            let lease =
                off_runtime(move || lease::acquire(client, &config, &table, ttl, wait, &scope))?;
            self.held = Some(Held::Lease(lease));
            return Ok(true);
        }
        let key = lock::key(&self.schema, &self.table, "");
        let first = !self.verified;
        let client = self.client();
        off_runtime(move || {
            lock::acquire(
                client,
                key,
                wait,
                &scope,
                first,
                "Postgres::lock_wait, --lock-timeout",
            )
        })?;
        self.held = Some(Held::Advisory(key));
        if !self.verified {
            let client = self.client();
            let shown = off_runtime(move || lock::really_held(client, key));
            if !matches!(shown, Ok(true)) {
                self.release_all();
                return Err(shown.err().unwrap_or_else(|| {
                    "the server granted an advisory lock but does not show it in pg_locks for \
                     this session: either the connection goes through a pooler in \
                     transaction mode (PgBouncer), where a session's lock does not hold, or \
                     the server speaks PostgreSQL's protocol without its locks (CockroachDB, \
                     YugabyteDB and Aurora DSQL do so); behind a pooler, use the lease lock \
                     (Postgres::lock(Lock::LEASE)) or connect to the server directly; \
                     nothing was written"
                        .into()
                }));
            }
            self.verified = true;
        }
        Ok(true)
    }

    /// Gives the lock back.
    fn unlock(&mut self) -> Result<(), BoxError> {
        match self.held.take() {
            None => Ok(()),
            Some(Held::Advisory(key)) => {
                let client = self.client();
                off_runtime(move || lock::release(client, key))
            }
            Some(Held::Lease(lease)) => {
                let client = self.client();
                off_runtime(move || lease.release(client))
            }
            Some(Held::Parent { .. }) => Ok(()),
        }
    }

    /// Sets the session's `lock_timeout` back to what it was before a
    /// `transaction = false` migration set its own. A statement of its own: in the batch
    /// that starts a transaction it would be part of that transaction, and undone with it.
    fn restore_session_lock_timeout(&mut self) -> Result<(), BoxError> {
        if let Some(old) = self.restore_session.take() {
            self.simple(&format!("SET lock_timeout = {}", quote_literal(&old)))?;
        }
        Ok(())
    }

    /// Ends whatever is open: the transaction, then the lock.
    fn release_all(&mut self) {
        if self.step != 0 {
            let _ = self.rollback();
        }
        if let Err(error) = self.restore_session_lock_timeout() {
            log::warn!("could not set the session's lock_timeout back: {error}");
        }
        if let Err(error) = self.unlock() {
            log::warn!("could not release the migration lock: {error}");
        }
        if let Some(read) = &mut self.last_read {
            read.under_lock = false;
        }
    }

    /// Creates the schema and table when missing, or checks the shape of a table that
    /// is there: once per run, in the first step's transaction.
    fn prepare_table(&mut self) -> Result<(), BoxError> {
        if self.table_ready {
            return Ok(());
        }
        // The columns, and whether the schema exists: one simple query.
        let columns = self.simple(&format!(
            "SELECT column_name::text, data_type::text, is_nullable, \
             (column_default IS NOT NULL)::text FROM information_schema.columns \
             WHERE table_schema = {schema} AND table_name = {table} \
             UNION ALL SELECT '', '', '', 'schema' FROM pg_namespace WHERE nspname = {schema} \
             UNION ALL SELECT '', '', '', 'read-only' \
             WHERE current_setting('transaction_read_only') = 'on'",
            schema = quote_literal(&self.schema),
            table = quote_literal(&self.table),
        ))?;
        let flag = |name: &str| columns.iter().any(|c| c.get(3) == Some(name));
        if flag("read-only") {
            // Before any migration runs, whether or not the history table exists.
            return Err(READ_ONLY.into());
        }
        let schema_exists = flag("schema");
        let columns: Vec<_> = columns
            .into_iter()
            .filter(|c| c.get(0) != Some(""))
            .collect();
        if columns.is_empty() {
            let create = self.sql.create.clone();
            let client = self.client();
            off_runtime(move || -> Result<(), postgres::Error> {
                let exists = schema_exists;
                // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
                // schema exists: skip it then.
                let create = if exists {
                    create.split_once(';').map_or(create.as_str(), |(_, t)| t)
                } else {
                    create.as_str()
                };
                client.batch_execute(create)
            })?;
            self.table_created = true;
        } else {
            self.check_shape(&columns)?;
        }
        self.table_ready = true;
        Ok(())
    }

    fn check_shape(&self, columns: &[postgres::SimpleQueryRow]) -> Result<(), BoxError> {
        let foreign = |problem: String| -> BoxError {
            Box::new(Error::ForeignHistoryTable {
                table: self.sql.display.clone(),
                problem,
            })
        };
        for (expected, ty) in history::COLUMNS {
            let Some(column) = columns.iter().find(|c| c.get(0) == Some(expected)) else {
                return Err(foreign(format!("it has no column {expected:?}")));
            };
            let declared = column.get(1).unwrap_or_default();
            if declared != ty {
                return Err(foreign(format!(
                    "its column {expected:?} is of type {declared} where migrate declares {ty}"
                )));
            }
        }
        if let Some(column) = columns.iter().find(|c| {
            let name = c.get(0).unwrap_or_default();
            let (nullable, has_default) = (c.get(2) == Some("YES"), c.get(3) == Some("true"));
            !history::COLUMNS.iter().any(|(n, _)| *n == name) && !nullable && !has_default
        }) {
            let name = column.get(0).unwrap_or_default();
            return Err(foreign(format!(
                "its column {name:?} requires a value that migrate does not write"
            )));
        }
        Ok(())
    }

    /// Whether the history still reads as it did when the plan was made.
    fn unchanged_since_read(&mut self) -> Result<bool, BoxError> {
        let Some(read) = self.last_read.take() else {
            return Ok(true);
        };
        let rows = match &read.set {
            Some(set) => self.read_applied_rows(set)?,
            None => self.read_history_rows()?,
        };
        let same = read.rows.as_ref() == Some(&rows_key(&rows));
        self.last_read = Some(read);
        Ok(same)
    }

    /// `sql` prepared on this connection, once.
    /// With the lease lock (a pooler in transaction mode), prepared in each transaction
    /// anew: the pooler may give the next transaction another server connection.
    fn prepared(&mut self, sql: &str) -> Result<postgres::Statement, BoxError> {
        if let Some((_, statement)) = self.prepared.iter().find(|(text, _)| text == sql) {
            return Ok(statement.clone());
        }
        let client = self.client();
        let statement = off_runtime(move || client.prepare(sql))?;
        if self.lock == Lock::Advisory {
            self.prepared.push((sql.to_owned(), statement.clone()));
        }
        Ok(statement)
    }

    fn write_guarded(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<(), BoxError> {
        let statement = self.prepared(sql)?;
        let client = self.client();
        let changed = off_runtime(move || client.execute(&statement, params))?;
        if changed == 1 {
            Ok(())
        } else {
            Err(TRANSACTION_ENDED.into())
        }
    }
}

/// The value of `sslmode` in a connection string (a URL's query or `key=value` pairs),
/// lower-cased, when it has one.
fn ssl_mode(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let at = lower.find("sslmode")?;
    let rest = lower[at + "sslmode".len()..].trim_start();
    let rest = rest.strip_prefix('=')?.trim_start();
    let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest);
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(rest.len());
    Some(rest[..end].to_owned())
}

/// What to check when [`Postgres::connect`] fails: the server out of reach, the login
/// refused, the database missing; the driver's own message follows as the cause.
fn connect_advice(error: &postgres::Error) -> &'static str {
    use postgres::error::SqlState;
    match error.code() {
        None => {
            "the PostgreSQL server cannot be reached; check that it runs and listens on that \
             host and port, that they are the right ones, and that no firewall is in the way \
             (a slow network may need a longer connect_timeout)"
        }
        Some(code)
            if *code == SqlState::INVALID_PASSWORD
                || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            "the server refused the login; check the user and password, and that the \
             server's pg_hba.conf lets this user connect to this database from this host"
        }
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => {
            "the database does not exist; create it (createdb NAME, or CREATE DATABASE) or \
             correct the database name"
        }
        Some(_) => {
            "the server refused the session (its message follows); check the user, the \
             database and the server's pg_hba.conf"
        }
    }
}

/// A connection string that asks for TLS, which [`Postgres::connect`] does not speak.
fn no_tls(mode: &str, config: Option<&postgres::Config>) -> Error {
    let at = config.map(|config| format!(" {}", describe(config)));
    Error::Connect {
        action: format!(
            "connect to PostgreSQL{} with TLS (sslmode={mode})",
            at.unwrap_or_default()
        ),
        advice: "Postgres::connect speaks no TLS: use sslmode=prefer or sslmode=disable, or \
                 pass a client connected with TLS to Postgres::from_client",
        source: Box::new(TlsNotSupported {
            mode: mode.to_owned(),
        }),
    }
}

/// The cause of the [`Error::Database`] that [`Postgres::connect`] returns, before
/// connecting, for a connection string that asks for TLS (`sslmode=require`,
/// `verify-ca`, `verify-full`): TLS is not supported there yet. Its message says what to
/// do in code instead ([`Postgres::from_client`] with a client connected with a TLS
/// connector).
#[derive(Debug)]
pub struct TlsNotSupported {
    mode: String,
}

impl TlsNotSupported {
    /// The `sslmode` the connection string asked for (`require`, `verify-ca`,
    /// `verify-full`).
    pub fn ssl_mode(&self) -> &str {
        &self.mode
    }
}

impl std::fmt::Display for TlsNotSupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "migrate-postgres does not support TLS in Postgres::connect yet (the connection \
             string says sslmode={}); in code, connect a postgres::Client with a TLS \
             connector yourself (postgres-native-tls, postgres-openssl or \
             tokio-postgres-rustls) and pass it to Postgres::from_client; where the network \
             may carry the connection unencrypted, use sslmode=prefer or sslmode=disable; \
             nothing was sent to the server",
            self.mode
        )
    }
}

impl std::error::Error for TlsNotSupported {}

/// Host, port, database and user of a connection string, never its password.
fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports = config.get_ports();
    let at = match (hosts.as_slice(), ports) {
        ([], _) => "localhost".to_owned(),
        ([host], [port]) => format!("{host}:{port}"),
        ([host], _) => format!("{host}:5432"),
        (hosts, _) => hosts.join(","),
    };
    format!(
        "at {at} (database {}, user {})",
        config.get_dbname().unwrap_or("(the user's name)"),
        config.get_user().unwrap_or("(the system user)")
    )
}

/// A write refused because the transaction is read-only, said so: the server is a hot
/// standby, or the connection's `default_transaction_read_only` is on.
fn read_only(error: BoxError) -> BoxError {
    let refused = error
        .downcast_ref::<postgres::Error>()
        .and_then(postgres::Error::code)
        .is_some_and(|code| *code == postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION);
    if !refused {
        return error;
    }
    format!(
        "{READ_ONLY} ({})",
        error
            .downcast_ref::<postgres::Error>()
            .map(db_message)
            .unwrap_or_default()
    )
    .into()
}

const READ_ONLY: &str = "the connection is read-only (a hot standby, or \
    default_transaction_read_only is on), so no migration can be written; migrate on the \
    primary, with a connection that may write; nothing was written";

/// The server's own message of a database error, without the driver's prefix.
pub(crate) fn db_message(error: &postgres::Error) -> String {
    error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.message().to_owned())
}

impl Postgres {
    /// One history row of `migration`, with the checksum column's text, the duration in
    /// microseconds and whether it finished, guarded by the step's mark.
    fn insert_row(
        &mut self,
        migration: &RegisteredMigration,
        checksum: &str,
        micros: i64,
        complete: bool,
    ) -> Result<(), BoxError> {
        let version = i64::try_from(migration.version())?;
        let step = self.step.to_string();
        let sql = self.sql.insert.clone();
        self.write_guarded(
            &sql,
            &[
                &migration.set(),
                &version,
                &migration.description(),
                &migration.type_name(),
                &checksum,
                &micros,
                &complete,
                &step,
            ],
        )
    }
}

impl Backend for Postgres {
    fn read_history(&mut self) -> Result<Vec<AppliedMigration>, BoxError> {
        let rows = self.read_history_rows()?;
        self.remember(None, Some(&rows));
        Ok(rows)
    }

    fn read_applied(&mut self, set: &str) -> Result<Vec<AppliedMigration>, BoxError> {
        let rows = self.read_applied_rows(set)?;
        self.remember(Some(set), Some(&rows));
        Ok(rows)
    }

    /// Compares the rows as the server sent them: when nothing is to be done, no row is
    /// built and no key kept.
    fn read_applied_unless_up_to_date(
        &mut self,
        set: &str,
        known: &[&'static RegisteredMigration],
    ) -> Result<Option<Vec<AppliedMigration>>, BoxError> {
        let raw = self.read_applied_raw(set)?;
        if history::up_to_date(&raw, known) {
            self.remember(Some(set), None);
            return Ok(None);
        }
        let rows = self.applied_rows(set, &raw)?;
        self.remember(Some(set), Some(&rows));
        Ok(Some(rows))
    }

    fn begin(&mut self) -> Result<Freshness, BoxError> {
        let taken_now = self.take_lock()?;
        if let Some(Held::Lease(lease)) = &self.held
            && lease.lost()
        {
            return Err(
                "the migration lease was lost (this run stalled longer than its time \
                        to live and another run took it over); run again"
                    .into(),
            );
        }
        self.restore_session_lock_timeout()?;
        self.restore_local = None;
        self.steps += 1;
        let mut start = format!("BEGIN; SET LOCAL migrate.step = '{}'", self.steps);
        if let Some(timeout) = self.lock_timeout {
            start.push_str(&format!(
                "; SET LOCAL lock_timeout = '{}ms'",
                timeout.as_millis()
            ));
        }
        let client = self.client();
        off_runtime(move || client.batch_execute(&start))?;
        self.step = self.steps;
        self.tx.in_transaction = true;
        let ready = self.prepare_table().and_then(|()| {
            // A history read before this session held the lock may be out of date.
            let stale = taken_now
                && !self.last_read.as_ref().is_some_and(|read| read.under_lock)
                && !self.unchanged_since_read()?;
            Ok(stale)
        });
        match ready {
            Ok(true) => Ok(Freshness::Stale),
            Ok(false) => Ok(Freshness::Current),
            Err(error) => {
                let _ = self.rollback();
                Err(read_only(error))
            }
        }
    }

    fn db(&mut self) -> &mut dyn Db {
        &mut self.tx
    }

    fn before_code(
        &mut self,
        migration: &RegisteredMigration,
        in_transaction: bool,
    ) -> Result<(), BoxError> {
        let own = migration.lock_timeout().map(|timeout| match timeout {
            LockTimeout::After(duration) => format!("{}ms", duration.as_millis().max(1)),
            // PostgreSQL's 0: no limit.
            LockTimeout::Off => "0".to_owned(),
        });
        let sql = match (own, in_transaction) {
            // The migration before it in this transaction set its own: back to what the
            // transaction had.
            (None, true) => match self.restore_local.take() {
                Some(old) => format!("SET LOCAL lock_timeout = {}", quote_literal(&old)),
                None => return Ok(()),
            },
            (None, false) => return Ok(()),
            // What it replaces is read in the same round trip.
            (Some(own), true) if self.restore_local.is_none() => {
                format!("SHOW lock_timeout; SET LOCAL lock_timeout = '{own}'")
            }
            (Some(own), true) => format!("SET LOCAL lock_timeout = '{own}'"),
            // Through a pooler in transaction mode, a session's SET lands on whichever
            // server connection serves that round trip, stays there for the pooler's
            // next client, and the statements after it may run on another one: nothing
            // is set, and the code runs with the server connection's own lock_timeout.
            (Some(own), false) if matches!(self.lock, Lock::Lease { .. }) => {
                log::warn!(
                    "migration {} ({}) runs without a transaction through the lease lock (a \
                     pooler in transaction mode), where a session's lock_timeout cannot be \
                     set without reaching other clients: it runs with the server's \
                     lock_timeout, not its own {own}; to bound its lock waits, set \
                     lock_timeout for the role (ALTER ROLE .. SET lock_timeout), or run it \
                     on a direct connection with the advisory lock",
                    migration.version(),
                    migration.description()
                );
                return Ok(());
            }
            (Some(own), false) => format!("SHOW lock_timeout; SET lock_timeout = '{own}'"),
        };
        let rows = self.simple(&sql)?;
        if let Some(old) = rows.first().and_then(|row| row.get(0)) {
            let old = old.to_owned();
            if in_transaction {
                self.restore_local = Some(old);
            } else if self.restore_session.is_none() {
                self.restore_session = Some(old);
            }
        }
        Ok(())
    }

    fn check(&mut self) -> Result<(), BoxError> {
        // PostgreSQL checks constraints itself (deferred ones at the commit).
        Ok(())
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

    /// A savepoint made read-only (`transaction_read_only`); rolling back to it makes the
    /// transaction writable again and undoes whatever the condition's statements did,
    /// failed ones included.
    fn read_only(&mut self, on: bool) -> Result<(), BoxError> {
        let sql = if on {
            "SAVEPOINT migrate_condition; SET LOCAL transaction_read_only = on"
        } else {
            "ROLLBACK TO SAVEPOINT migrate_condition; RELEASE SAVEPOINT migrate_condition"
        };
        self.simple(sql)?;
        Ok(())
    }

    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn parallel_support(&self) -> Result<(), String> {
        if self.config.is_none() {
            return Err(
                "this session was connected with Postgres::from_client, so migrate \
                        cannot open more sessions like it; connect with Postgres::connect \
                        or Postgres::connect_config"
                    .to_owned(),
            );
        }
        Ok(())
    }

    fn sibling(&mut self) -> Result<Box<dyn Backend + Send>, BoxError> {
        self.parallel_support()?;
        let (Some(config), Some(held)) = (self.config.clone(), &self.held) else {
            return Err(
                "a sibling session is opened by the session holding the migration \
                        lock"
                    .into(),
            );
        };
        let held = match held {
            Held::Lease(lease) => Ok(Some(lease.fence())),
            Held::Parent { fence } => Ok(fence.clone()),
            Held::Advisory(key) => Err(*key),
        };
        // The migrations' unqualified names resolve as on this session, whether its
        // search_path came from the connection string or from a SET since; and this
        // session's id, which holds the advisory lock.
        let row = self.simple("SELECT current_setting('search_path'), pg_backend_pid()::text")?;
        let value = |i: usize| row.first().and_then(|row| row.get(i)).unwrap_or_default();
        let path = value(0).to_owned();
        let fence = match held {
            Ok(fence) => fence,
            Err(key) => Some(lock::fence(value(1).parse()?, key)),
        };
        let mut other = Postgres::connect_config(config)?;
        // Set only when the connection string did not already give it: through a pooler
        // in transaction mode, a session's SET would stay with the server connection.
        let own = other.simple("SELECT current_setting('search_path')")?;
        let own = own.first().and_then(|row| row.get(0)).unwrap_or_default();
        if !path.is_empty() && own != path {
            other.simple(&format!("SET search_path TO {path}"))?;
        }
        other.schema.clone_from(&self.schema);
        other.table.clone_from(&self.table);
        other.sql = self.sql.clone();
        other.lock_wait = self.lock_wait;
        other.lock_timeout = self.lock_timeout;
        other.lock = self.lock;
        other.held = Some(Held::Parent { fence });
        other.verified = true;
        other.table_ready = self.table_ready;
        Ok(Box::new(other))
    }

    fn remove_applied(&mut self, set: &str, version: u64) -> Result<(), BoxError> {
        let version = i64::try_from(version)?;
        let step = self.step.to_string();
        let statement = self.prepared(&self.sql.delete.clone())?;
        let client = self.client();
        let marked = off_runtime(move || client.query(&statement, &[&set, &version, &step]))?;
        if marked.len() == 1 {
            Ok(())
        } else {
            Err(TRANSACTION_ENDED.into())
        }
    }

    fn update_checksum(&mut self, migration: &RegisteredMigration) -> Result<(), BoxError> {
        let version = i64::try_from(migration.version())?;
        let step = self.step.to_string();
        let sql = self.sql.update_checksum.clone();
        self.write_guarded(
            &sql,
            &[&migration.set(), &version, &migration.checksum(), &step],
        )
    }

    fn commit(&mut self) -> Result<(), BoxError> {
        // With a lease, the commit checks in its own transaction that the lease is still
        // this run's (one simple query with the COMMIT).
        let commit = match &self.held {
            Some(Held::Lease(lease)) => format!("{}; COMMIT", lease.fence()),
            Some(Held::Parent { fence: Some(fence) }) => format!("{fence}; COMMIT"),
            _ => "COMMIT".to_owned(),
        };
        let client = self.client();
        let done = off_runtime(move || client.batch_execute(&commit));
        if done.is_err() && self.table_created {
            self.table_ready = false;
        }
        self.table_created = false;
        self.step = 0;
        self.tx.in_transaction = false;
        self.restore_local = None;
        done.map_err(BoxError::from)
    }

    fn rollback(&mut self) -> Result<(), BoxError> {
        if std::mem::take(&mut self.table_created) {
            self.table_ready = false;
        }
        self.step = 0;
        self.tx.in_transaction = false;
        self.restore_local = None;
        let client = self.client();
        off_runtime(move || client.batch_execute("ROLLBACK"))?;
        if let Some(holders) = self.tx.timed_out.take() {
            // A statement hit the lock_timeout: who held locks, now that we can ask.
            let client = self.client();
            let _ = holders.set(off_runtime(move || lock::table_lock_holders(client)));
        }
        Ok(())
    }

    fn end_run(&mut self) -> Result<(), BoxError> {
        if self.step != 0 {
            self.rollback()?;
        }
        // The lock goes whether or not the setting could be put back.
        let restored = self.restore_session_lock_timeout();
        self.unlock()?;
        if let Some(read) = &mut self.last_read {
            read.under_lock = false;
        }
        restored
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // The server drops a session's locks with the session anyway; this also covers a
        // run that unwound past `end_run`.
        self.release_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_string_is_described_without_its_password() {
        let config: postgres::Config = "postgres://app:s3cret@db.example:6543/orders"
            .parse()
            .unwrap();
        let text = describe(&config);
        assert_eq!(text, "at db.example:6543 (database orders, user app)");
        assert!(!text.contains("s3cret"));
        assert_eq!(quote_literal("x"), "E'x'");
    }

    #[test]
    fn the_ssl_mode_is_read_from_urls_and_key_value_pairs() {
        for (url, mode) in [
            ("postgres://app@db/app?sslmode=require", Some("require")),
            (
                "postgres://app@db/app?connect_timeout=3&sslmode=verify-full&x=1",
                Some("verify-full"),
            ),
            ("host=db sslmode = 'verify-ca' user=app", Some("verify-ca")),
            ("host=db SSLMODE=Prefer", Some("prefer")),
            ("host=db user=app", None),
        ] {
            assert_eq!(ssl_mode(url).as_deref(), mode, "{url}");
        }
    }
}
