//! SQLite for `migrate`: the [`Sqlite`] backend (rusqlite with SQLite bundled) and
//! everything a SQLite user needs, so one dependency line and one `use` are enough.
//!
//! ```rust,standalone_crate
//! use migrate_sqlite::{migration, BoxError, Db, Migration, Migrator, Reversible, Sqlite};
//!
//! #[migration(version = 1, description = "Create chat_users")]
//! pub struct CreateChatUsers;
//!
//! impl Migration for CreateChatUsers {
//!     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
//!         db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
//!     }
//! }
//!
//! impl Reversible for CreateChatUsers {
//!     fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
//!         db.execute("DROP TABLE chat_users")
//!     }
//! }
//!
//! fn main() -> Result<(), migrate_sqlite::Error> {
//!     let mut db = Sqlite::open_in_memory()?;
//!     let migrator = Migrator::discovered()?;
//!     let report = migrator.to_latest(&mut db)?;
//!     assert_eq!(report.steps.len(), 1);
//!     // A second run finds nothing to do.
//!     assert!(migrator.to_latest(&mut db)?.is_empty());
//!     Ok(())
//! }
//! ```

mod backend;
mod db;
mod fast_start;
mod foreign_keys;
mod history;
mod sqlite;
pub mod testing;

pub use db::SqliteExt;
pub use history::DEFAULT_HISTORY_TABLE;
pub use sqlite::{DEFAULT_BUSY_TIMEOUT, Sqlite};

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
pub use migrate_macros::sqlite_migration as migration;

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
/// migrate_sqlite::include_migrations!();
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
/// migrate_sqlite::link_migration_crates!();
/// ```
pub use migrate_core::link_migration_crates;

/// The rusqlite version this crate is built on, for data migrations: no separate
/// dependency needed.
pub use rusqlite;

/// Everything at once: `use migrate_sqlite::prelude::*;`.
pub mod prelude {
    pub use crate::{BoxError, Db, Migration, Migrator, Reversible, Sqlite, SqliteExt, migration};
}

/// What the code `#[migration]` generates refers to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use migrate_core::__private::*;
}
