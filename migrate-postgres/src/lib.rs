//! PostgreSQL for `migrate`: the [`Postgres`] backend and everything a PostgreSQL user
//! needs, so one dependency line and one `use` are enough.
//!
//! ```rust,no_run
//! use migrate_postgres::{migration, BoxError, Db, Migration, Migrator, Postgres, Reversible};
//!
//! #[migration(version = 1, description = "Create chat_users")]
//! pub struct CreateChatUsers;
//!
//! impl Migration for CreateChatUsers {
//!     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
//!         db.execute("CREATE TABLE chat_users (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL)")
//!     }
//! }
//!
//! impl Reversible for CreateChatUsers {
//!     fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
//!         db.execute("DROP TABLE chat_users")
//!     }
//! }
//!
//! fn main() -> Result<(), migrate_postgres::Error> {
//!     let mut db = Postgres::connect("postgres://app@localhost/app")?;
//!     Migrator::discovered()?.to_latest(&mut db)?;
//!     Ok(())
//! }
//! ```
//!
//! # The driver
//!
//! Migrations run through [`postgres`], the synchronous client over `tokio-postgres`
//! (the most used PostgreSQL driver of Rust): the manager and migration code are plain
//! functions, so a synchronous client fits them, and a code migration gets the same
//! client methods ([`PgTransaction`]) inside its transaction. That client runs a tokio
//! runtime of its own, which tokio refuses to start inside another one ("Cannot start a
//! runtime from within a runtime", what refinery users meet from `#[tokio::main]`):
//! called from inside a runtime, each call here runs on a short-lived thread of its own
//! instead, so migrating works from a plain `fn main` and from async code alike (it
//! blocks the calling task while it runs, as any start-up migration does; wrap it in
//! `spawn_blocking` to keep the executor's thread free).
//!
//! # Locks
//!
//! A run with work to do takes a session-level advisory lock whose key covers the
//! schema and the history table (so tenants in separate schemas migrate independently),
//! by polling `pg_try_advisory_lock`: a runner that waits holds no transaction open, so a
//! `CREATE INDEX CONCURRENTLY` of the runner that holds the lock does not wait for it.
//! It waits at most [`Postgres::lock_wait`], then fails naming the session that holds
//! the lock. The lock is released when the run ends, on every path, and by the server
//! when the connection ends. At the first lock, `pg_locks` must show it: engines that
//! accept advisory locks without locking are refused. Each migration's transaction has a
//! `lock_timeout` ([`Postgres::lock_timeout`], or the migration's own:
//! `#[migration(.., lock_timeout = "30s")]`), so a migration queued behind a long query
//! fails instead of stalling every query queued behind it.

mod backend;
mod catalog;
mod connect;
mod database;
mod freshness;
mod history;
mod hold;
mod lease;
mod lock;
mod lock_timeout;
mod offload;
mod rows;
// Public for the command line (its `history`) only: not part of the API.
#[doc(hidden)]
pub mod scratch;
mod session;
mod table;
pub mod testing;
mod transaction;

pub use connect::{DEFAULT_CONNECT_TIMEOUT, TlsNotSupported};
pub use database::{DEFAULT_LOCK_TIMEOUT, DEFAULT_LOCK_WAIT, Lock, Postgres};
pub use history::DEFAULT_HISTORY_TABLE;
pub use transaction::{InvalidIndex, LockTimedOut, PgTransaction, PostgresExt};

/// What a user of this crate needs of the core; what only a backend's author needs
/// (`Freshness`, `HistoryChange`, `testing::check_migrations_on`) stays in `migrate_core`.
pub use migrate_core::{
    Backend, BoxError, Db, Direction, EnvironmentLimited, Error, HistoryRow, LockTimeout,
    MAX_VERSION, Migration, MigrationRef, MigrationStatus, Migrator, Plan, PlanContext,
    RegisteredMigration, Remedy, Report, Result, Reversible, State, Step, StepReport, Target, When,
    discovered_migrations, fan_out,
};

/// Marks a unit struct as a migration and registers it:
/// `#[migration(version = N, description = "...")]`, plus `irreversible` for a migration
/// without `down`. See the [crate docs](crate) for an example.
pub use migrate_macros::postgres_migration as migration;

/// Compiles every file of the migrations folder that `migrate-build` listed in your
/// build script, so no file needs a `mod` line, and declares the folder linked, so that
/// an empty one is legal: see [`migrate_core::include_migrations!`].
///
/// ```text
/// // build.rs
/// fn main() {
///     migrate_build::migrations("src/migrations").generate_or_report();
/// }
///
/// // src/migrations.rs
/// migrate_postgres::include_migrations!();
/// ```
pub use migrate_core::include_migrations;

/// Links every crate of the package's dependency graph that holds migrations, with
/// `migrate_build::link_migration_crates()` in the build script: see
/// [`migrate_core::link_migration_crates!`].
///
/// ```text
/// // build.rs
/// fn main() {
///     migrate_build::link_migration_crates();
/// }
///
/// // src/main.rs
/// migrate_postgres::link_migration_crates!();
/// ```
pub use migrate_core::link_migration_crates;

/// The driver this crate is built on, for data migrations: no separate dependency needed.
pub use postgres;

/// Everything at once: `use migrate_postgres::prelude::*;`.
pub mod prelude {
    pub use crate::{
        BoxError, Db, Migration, Migrator, PgTransaction, Postgres, PostgresExt, Reversible,
        migration,
    };
}

/// What the code `#[migration]` generates refers to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use migrate_core::__private::*;
}
