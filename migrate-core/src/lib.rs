//! The backend-agnostic core of `migrate`: a database migration is a struct with one
//! attribute on it.
//!
//! ```rust,standalone_crate
//! use migrate_core::{migration, BoxError, Db, Migration, Reversible};
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
//! # fn main() -> Result<(), migrate_core::Error> {
//! // Nothing to register: the attribute did it.
//! let migrator = migrate_core::Migrator::discovered()?;
//! assert_eq!(migrator.migrations()[0].description(), "Create chat_users");
//! assert_eq!(CreateChatUsers::get_migration().version(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! The data flow, one module each: `#[migration]` adds a [`RegisteredMigration`] to a
//! distributed slice (`registry`); [`discovered_migrations`] sorts and validates it once
//! (`discover`); conditions are evaluated under the migration lock (`condition`);
//! [`planner::plan`] (pure) turns the known set, the history and a [`Target`] into a [`Plan`]
//! or a refusal (`plan`); the [`Migrator`] runs the plan (`run`: one transaction per
//! migration, one per batch, none for `transaction = false`) on a [`Backend`]
//! (`backend`). History edits that run no code are `maintain`. SQLite users depend on
//! `migrate-sqlite`, which re-exports all of this.

mod backend;
mod condition;
mod direction;
mod discover;
mod error;
pub mod fan_out;
mod history;
mod maintain;
mod manager;
mod metadata;
mod migration;
mod plan;
mod registry;
mod report;
mod run;
mod settings;
mod status;
pub mod testing;

/// The pure planner, for a tool or a test that plans without a database: the known
/// migrations, the history rows and a [`Target`] in, a [`Plan`] or a refusal out. A run
/// plans through it; [`Migrator::plan`] reads the history and plans the same way.
///
/// ```
/// use migrate_core::planner::{PlanOptions, plan};
/// use migrate_core::Target;
///
/// // Nothing known, nothing applied: nothing to do.
/// let steps = plan(&[], &[], Target::Latest, PlanOptions::default()).unwrap();
/// assert!(steps.is_empty());
/// ```
pub mod planner {
    pub use crate::plan::{PlanOptions, plan};
}

pub use backend::{
    Backend, Capabilities, CodeScope, Freshness, HistoryChange, HistoryRead, NewRow, Read,
    Sessions, TxMode, Unsupported,
};
pub use discover::{MAX_VERSION, discovered_migrations};
pub use error::{EnvironmentLimited, Error, Fact, MigrationRef, Remedy, Result};
pub use history::{HistoryRow, RowState};
pub use manager::Migrator;
pub use migration::{BoxError, Db, Migration, Reversible};
pub use plan::{Direction, Plan, Step, Target};
pub use registry::condition::{PlanContext, When};
pub use registry::{LockTimeout, RegisteredMigration};
pub use report::{Report, StepReport};
pub use settings::{Hook, Progress};
pub use status::{MigrationStatus, State};

/// Marks a unit struct as a migration and registers it; see the crate docs.
///
/// `#[migration(version = N, description = "...")]`, with `irreversible` added for a
/// migration that has no `down`, and optionally `set = ".."`, `transaction = false`,
/// `lock_timeout = ".."` (see [`LockTimeout`]), `tags = [..]`, `category = ".."`,
/// `after = [..]` (see [`RegisteredMigration::tags`] and
/// [`RegisteredMigration::dependencies`]), `when = path::to::predicate` and
/// `environments = [..]` (see [`When`] and [`PlanContext`]). The struct must implement
/// [`Migration`], and [`Reversible`] unless it is `irreversible`.
pub use migrate_macros::migration;

/// Links every crate of the package's dependency graph that holds migrations: includes
/// the `use ::that_crate as _;` lines that `migrate_build::link_migration_crates()` wrote
/// in the package's build script. Put it once in the binary (at the root of `main.rs`,
/// or in any module of it); `migrate_sqlite::link_migration_crates!()` and
/// `migrate_postgres::link_migration_crates!()` are the same macro.
///
/// ```text
/// // build.rs (migrate-build is a build dependency)
/// fn main() {
///     migrate_build::link_migration_crates();
/// }
///
/// // src/main.rs
/// migrate_core::link_migration_crates!();
/// ```
///
/// A crate is linked into a program only when its code names it, so a library of
/// migrations that the binary depends on but never names is left out, with its
/// migrations; with this line, every such crate is named. See docs/discovery.md.
#[macro_export]
macro_rules! link_migration_crates {
    () => {
        ::core::include!(::core::concat!(
            ::core::env!(
                "OUT_DIR",
                "link_migration_crates!() includes what the build script writes: call \
                 migrate_build::link_migration_crates() in build.rs (migrate-build is a \
                 build dependency)"
            ),
            "/migrate_link_migration_crates.rs"
        ));
    };
}

/// What the code `#[migration]` generates refers to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::metadata::{Metadata, Registered, same_set};
    pub use crate::migration::BoxError;
    pub use crate::migration::{Migration, Reversible};
    pub use crate::registry::condition::{Condition, Decision, PlanContext, Predicate, When};
    pub use crate::registry::{
        LockTimeout, RegisteredMigration, registered_migration, with_condition, with_metadata,
    };
    pub use crate::registry::{MIGRATION_FOLDERS, MIGRATIONS, MigrationsFolder, migrations_folder};
    pub use linkme;
}
