//! [`Postgres`]: the state of one session on one history table, its builder and its
//! accessors. What it does lives beside it, one job a module: connecting (`connect`), the
//! `Backend` impl (`backend`), the history table (`table`) and its rows (`rows`, with
//! `freshness`), the run's lock (`hold`, over `lock` and `lease`), the per-migration
//! `lock_timeout` (`lock_timeout`), sibling sessions (`session`) and the catalog
//! (`catalog`). The types of its state sit here or in modules below these, so that no
//! module imports one that imports it back.

use std::time::Duration;

use postgres::{Client, SimpleQueryMessage};

use crate::freshness::LastRead;
use crate::history::HistorySql;
use crate::lease::Lease;
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
pub(crate) enum Held {
    Advisory(i32),
    Lease(Lease),
    /// Held by the session that opened this one
    /// ([`Sessions::sibling`](migrate_core::Sessions::sibling)), for a run of migrations
    /// at once: never taken nor released here. With a lease, each commit checks that the
    /// lease is still the run's (`fence`).
    Parent {
        fence: Option<String>,
    },
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
    pub(crate) tx: PgTransaction,
    pub(crate) schema: String,
    pub(crate) table: String,
    pub(crate) sql: HistorySql,
    pub(crate) lock_wait: Duration,
    pub(crate) lock_timeout: Option<Duration>,
    /// How runs are kept apart.
    pub(crate) lock: Lock,
    /// The connection's settings, for the lease's renewing connection.
    pub(crate) config: Option<postgres::Config>,
    /// The lock while this session holds it.
    pub(crate) held: Option<Held>,
    /// Whether `pg_locks` showed the lock once on this connection.
    pub(crate) verified: bool,
    /// The last history read, to tell at `begin` whether another session wrote since.
    pub(crate) last_read: Option<LastRead>,
    /// The mark of the open transaction (`SET LOCAL migrate.step`); 0 when none is open.
    pub(crate) step: u64,
    pub(crate) steps: u64,
    /// Whether the table was seen, and checked, in this run.
    pub(crate) table_ready: bool,
    /// Whether the open transaction created the table: a rollback takes it away again.
    pub(crate) table_created: bool,
    /// The history's writes, prepared once per connection: one round trip each after.
    pub(crate) prepared: Vec<(String, postgres::Statement)>,
    /// The `lock_timeout` the open transaction had before a migration of its own set
    /// another, for the next migration in the same transaction.
    pub(crate) restore_local: Option<String>,
    /// The session's `lock_timeout` before a `transaction = false` migration set its own,
    /// set back at the next `begin` or the end of the run.
    pub(crate) restore_session: Option<String>,
    /// Whether a condition's read-only savepoint is open inside the write transaction of
    /// a batch (`begin(TxMode::ReadOnly)` with a transaction open).
    pub(crate) read_only_scope: bool,
}

impl Postgres {
    /// Keeps the history in `schema` (created when missing, at the first migration)
    /// instead of the connection's first `search_path` schema. Migration code runs with
    /// the connection's own `search_path`: schema-qualify its names, or set it.
    #[must_use]
    pub fn schema(mut self, schema: &str) -> Self {
        schema.clone_into(&mut self.schema);
        self.renamed();
        self
    }

    /// Keeps the history in the table `name` instead of
    /// [`DEFAULT_HISTORY_TABLE`](crate::DEFAULT_HISTORY_TABLE).
    #[must_use]
    pub fn history_table(mut self, name: &str) -> Self {
        name.clone_into(&mut self.table);
        self.renamed();
        self
    }

    /// How long a run waits for another session's migration lock before it fails with
    /// [`Error::LockTimeout`](crate::Error::LockTimeout), naming who holds it
    /// ([`DEFAULT_LOCK_WAIT`] unless set).
    #[must_use]
    pub fn lock_wait(mut self, wait: Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    /// The `lock_timeout` of each migration's transaction ([`DEFAULT_LOCK_TIMEOUT`]
    /// unless set); `None` leaves the server's setting alone (by default: wait forever).
    /// A migration with `lock_timeout = ".."` in its attribute has its own instead
    /// ([`RegisteredMigration::lock_timeout`](crate::RegisteredMigration::lock_timeout)),
    /// for its code alone; a `transaction = false` migration has no transaction, so this
    /// does not apply to it; its own is set for the session while its code runs, except
    /// with [`Lock::Lease`] (a pooler in transaction mode), where a session's setting
    /// would reach the pooler's other clients: there it runs with the server's
    /// `lock_timeout` (docs/postgres.md).
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

    fn renamed(&mut self) {
        self.sql = HistorySql::new(&self.schema, &self.table);
        self.table_ready = false;
        self.last_read = None;
    }

    pub(crate) fn client(&mut self) -> &mut Client {
        self.tx.client()
    }

    /// Runs a simple query (one round trip) and returns its rows.
    pub(crate) fn simple(
        &mut self,
        sql: &str,
    ) -> Result<Vec<postgres::SimpleQueryRow>, postgres::Error> {
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
}
