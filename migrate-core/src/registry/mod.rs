//! The registry: every `#[migration]` puts one [`RegisteredMigration`] into a linkme
//! distributed slice, which discovery reads.

use core::time::Duration;

pub(crate) mod condition;

use crate::metadata::Metadata;
use crate::migration::{BoxError, Db, Migration, Reversible};
use condition::Condition;

/// How long a migration's statements may wait for a table lock another session holds,
/// as its attribute sets it: `lock_timeout = "30s"` or `lock_timeout = "off"`. A backend
/// that supports it (PostgreSQL) uses it instead of its own default for that migration
/// alone; SQLite ignores it.
///
/// ```rust,standalone_crate
/// use core::time::Duration;
/// use migrate_core::{migration, BoxError, Db, LockTimeout, Migration};
///
/// #[migration(version = 1, description = "Add an index", irreversible, lock_timeout = "30s")]
/// pub struct AddIndex;
///
/// impl Migration for AddIndex {
///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
///         db.execute("CREATE INDEX chat_users_name ON chat_users (name)")
///     }
/// }
///
/// assert_eq!(
///     AddIndex::get_migration().lock_timeout(),
///     Some(LockTimeout::After(Duration::from_secs(30)))
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LockTimeout {
    /// A statement that waits longer than this for a lock fails, and the migration with
    /// it (`lock_timeout = "500ms"`, `"30s"`, `"5m"`). Never zero.
    After(Duration),
    /// No limit: the migration waits as long as it takes (`lock_timeout = "off"`).
    Off,
}

impl LockTimeout {
    /// The longest a statement waits for a lock, or `None` for no limit: what a backend
    /// sets, whatever the variant (new ones may be added, so a `match` outside
    /// migrate-core needs a `_` arm).
    ///
    /// ```
    /// use std::time::Duration;
    /// use migrate_core::LockTimeout;
    ///
    /// assert_eq!(LockTimeout::After(Duration::from_secs(5)).limit(), Some(Duration::from_secs(5)));
    /// assert_eq!(LockTimeout::Off.limit(), None);
    /// ```
    pub const fn limit(&self) -> Option<Duration> {
        match *self {
            LockTimeout::After(duration) => Some(duration),
            LockTimeout::Off => None,
        }
    }
}

/// A migration as the registry knows it: its version and description from the
/// attribute, where it is defined, and its code.
///
/// `#[migration]` builds one for every struct it marks; get it with the generated
/// `get_migration()`, or all of them through [`discovered_migrations`](crate::discovered_migrations).
pub struct RegisteredMigration {
    version: u64,
    description: &'static str,
    type_name: &'static str,
    file: &'static str,
    line: u32,
    up: &'static dyn Migration,
    down: Option<&'static dyn Reversible>,
    set: &'static str,
    transactional: bool,
    lock_timeout: Option<LockTimeout>,
    checksum: &'static str,
    metadata: Metadata,
    condition: Condition,
}

/// Builds the registry entry of one migration: what the code `#[migration]` generates
/// calls (through `__private`); not part of the public API.
#[allow(clippy::too_many_arguments)]
pub const fn registered_migration(
    version: u64,
    description: &'static str,
    type_name: &'static str,
    file: &'static str,
    line: u32,
    up: &'static dyn Migration,
    down: Option<&'static dyn Reversible>,
    set: &'static str,
    transactional: bool,
    lock_timeout: Option<LockTimeout>,
    checksum: &'static str,
) -> RegisteredMigration {
    RegisteredMigration {
        version,
        description,
        type_name,
        file,
        line,
        up,
        down,
        set,
        transactional,
        lock_timeout,
        checksum,
        metadata: Metadata::NONE,
        condition: Condition::NONE,
    }
}

/// The registry entry with the condition of its attribute (`when`, `environments`): what
/// the code `#[migration]` generates calls (through `__private`); not part of the public
/// API.
pub const fn with_condition(
    migration: RegisteredMigration,
    condition: Condition,
) -> RegisteredMigration {
    RegisteredMigration {
        condition,
        ..migration
    }
}

/// The registry entry with the metadata of its attribute (`tags`, `category`, `after`):
/// what the code `#[migration]` generates calls (through `__private`); not part of the
/// public API.
pub const fn with_metadata(
    migration: RegisteredMigration,
    metadata: Metadata,
) -> RegisteredMigration {
    RegisteredMigration {
        metadata,
        ..migration
    }
}

impl RegisteredMigration {
    /// The version from the attribute, between 1 and [`MAX_VERSION`](crate::MAX_VERSION).
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The description from the attribute.
    pub fn description(&self) -> &'static str {
        self.description
    }

    /// The name of the struct the attribute is on.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The source file that defines the migration, as the compiler names it.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line of the struct in [`file`](Self::file).
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The named set the migration belongs to (`set = "..."` in its attribute); `""` for
    /// the default set. Versions are unique per set, and a [`Migrator`](crate::Migrator)
    /// works on one set.
    pub fn set(&self) -> &'static str {
        self.set
    }

    /// Whether the migration runs inside a transaction; `transaction = false` in its
    /// attribute turns it off, for statements SQLite refuses inside one.
    pub fn is_transactional(&self) -> bool {
        self.transactional
    }

    /// The migration's own lock timeout (`lock_timeout = ".."` in its attribute), or
    /// `None` when the backend's default applies. PostgreSQL sets it for this migration's
    /// code alone; SQLite ignores it.
    pub fn lock_timeout(&self) -> Option<LockTimeout> {
        self.lock_timeout
    }

    /// A checksum of the migration's source file, recorded when it is applied: a
    /// different one later means the migration was changed after it ran. Formatting and
    /// comments do not count.
    pub fn checksum(&self) -> &'static str {
        self.checksum
    }

    /// The migration's tags (`tags = ["billing", "slow"]` in its attribute), in the
    /// order written; none when the attribute has no `tags`. Tags describe a migration:
    /// `status` and `history` filter by them; they never change what runs.
    ///
    /// ```rust,standalone_crate
    /// use migrate_core::{migration, BoxError, Db, Migration};
    ///
    /// #[migration(version = 7, description = "Backfill invoice totals", irreversible,
    ///             tags = ["billing", "slow"], category = "data")]
    /// pub struct BackfillInvoiceTotals;
    ///
    /// impl Migration for BackfillInvoiceTotals {
    ///     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
    ///         db.execute("UPDATE invoices SET total = 0 WHERE total IS NULL")
    ///     }
    /// }
    ///
    /// let migration = BackfillInvoiceTotals::get_migration();
    /// assert_eq!(migration.tags(), ["billing", "slow"]);
    /// assert!(migration.has_tag("slow"));
    /// assert_eq!(migration.category(), Some("data"));
    /// ```
    pub fn tags(&self) -> &'static [&'static str] {
        self.metadata.tags
    }

    /// Whether [`tags`](Self::tags) has this one.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.metadata.tags.contains(&tag)
    }

    /// The migration's category (`category = "data"` in its attribute), or `None`.
    pub fn category(&self) -> Option<&'static str> {
        self.metadata.category
    }

    /// The versions of the migrations this one needs, from `after = [..]` in its
    /// attribute (a struct named there gives its version), in the order written; `None` when the
    /// attribute has no `after`, which means the migration needs every earlier one of its
    /// set. `Some(&[])` (`after = []`) means it needs none.
    ///
    /// Declared dependencies make a late migration safe to apply out of order: see
    /// [`PlanOptions::allow_out_of_order`](crate::planner::PlanOptions::allow_out_of_order).
    ///
    /// ```rust,standalone_crate
    /// use migrate_core::{migration, BoxError, Db, Migration};
    ///
    /// #[migration(version = 1, description = "Create users", irreversible)]
    /// pub struct CreateUsers;
    ///
    /// #[migration(version = 2, description = "Create invoices", irreversible)]
    /// pub struct CreateInvoices;
    ///
    /// #[migration(version = 3, description = "Index user names", irreversible,
    ///             after = [CreateUsers])]
    /// pub struct IndexUserNames;
    /// # impl Migration for CreateUsers {
    /// #     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> { db.execute("CREATE TABLE users (name TEXT)") }
    /// # }
    /// # impl Migration for CreateInvoices {
    /// #     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> { db.execute("CREATE TABLE invoices (total INTEGER)") }
    /// # }
    /// # impl Migration for IndexUserNames {
    /// #     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> { db.execute("CREATE INDEX users_name ON users (name)") }
    /// # }
    ///
    /// assert_eq!(IndexUserNames::get_migration().dependencies(), Some(&[1][..]));
    /// assert_eq!(CreateInvoices::get_migration().dependencies(), None);
    /// ```
    pub fn dependencies(&self) -> Option<&'static [u64]> {
        self.metadata.after
    }

    /// Whether this migration needs the migration `version` of its set: it lists it in
    /// `after = [..]`, or it declares no dependencies and `version` is earlier.
    pub fn depends_on(&self, version: u64) -> bool {
        match self.metadata.after {
            Some(after) => after.contains(&version),
            None => version < self.version,
        }
    }

    /// The path of the predicate in `when = ..` (as written in the attribute), or `None`.
    /// The migration runs only when it returns true ([`When::Run`](crate::When)); see
    /// [`PlanContext`](crate::PlanContext).
    pub fn condition(&self) -> Option<&'static str> {
        self.condition.predicate.map(|(_, path)| path)
    }

    /// The environments of `environments = [..]`, or `None`: the migration runs only when
    /// the application names one of them
    /// ([`Migrator::environment`](crate::Migrator::environment)).
    pub fn environments(&self) -> Option<&'static [&'static str]> {
        self.condition.environments
    }

    /// Whether the migration has a condition (`when` or `environments`).
    pub fn is_conditional(&self) -> bool {
        self.condition.is_some()
    }

    pub(crate) fn condition_parts(&self) -> Condition {
        self.condition
    }

    /// Whether the migration has a `down` (it implements [`Reversible`]).
    pub fn is_reversible(&self) -> bool {
        self.down.is_some()
    }

    pub(crate) fn run_up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        self.up.up(db)
    }

    /// Runs `down`; callers check [`is_reversible`](Self::is_reversible) first.
    pub(crate) fn run_down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        match self.down {
            Some(down) => down.down(db),
            None => Err("migration is irreversible".into()),
        }
    }
}

impl core::fmt::Debug for RegisteredMigration {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RegisteredMigration")
            .field("version", &self.version)
            .field("description", &self.description)
            .field("type_name", &self.type_name)
            .field("file", &self.file)
            .field("line", &self.line)
            .field("reversible", &self.is_reversible())
            .field("set", &self.set)
            .field("transactional", &self.transactional)
            .field("lock_timeout", &self.lock_timeout)
            .field("checksum", &self.checksum)
            .field("tags", &self.metadata.tags)
            .field("category", &self.metadata.category)
            .field("dependencies", &self.metadata.after)
            .field("condition", &self.condition())
            .field("environments", &self.condition.environments)
            .finish()
    }
}

impl core::fmt::Display for RegisteredMigration {
    /// `3 "Add metadata to chat_users" (src/migrations/m003.rs:12)`
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} {:?} ({}:{})",
            self.version, self.description, self.file, self.line
        )
    }
}

/// The distributed slice every `#[migration]` adds to. Unordered: read it through
/// discovery, which sorts and validates it.
#[linkme::distributed_slice]
pub static MIGRATIONS: [RegisteredMigration];

/// A migrations folder that `migrate-build` compiled (`include_migrations!()`), linked
/// into this program: the declaration that the program's migrations are linked here, so
/// that a new project whose folder is still empty may discover none.
#[doc(hidden)]
#[derive(Debug)]
pub struct MigrationsFolder {
    files: usize,
}

/// Declares a migrations folder of `files` files: what `include_migrations!()` calls
/// (through `__private`); not part of the public API.
pub const fn migrations_folder(files: usize) -> MigrationsFolder {
    MigrationsFolder { files }
}

impl MigrationsFolder {
    /// How many files the folder had when the program was built.
    pub(crate) fn files(&self) -> usize {
        self.files
    }
}

/// Every migrations folder linked into the program (see [`MigrationsFolder`]).
#[linkme::distributed_slice]
pub static MIGRATION_FOLDERS: [MigrationsFolder];

/// Compiles every file of the migrations folder that `migrate-build` listed in your
/// build script, so no file needs a `mod` line: put `include_migrations!();` in the
/// module that should hold them (for example `src/migrations.rs`). Each backend
/// re-exports it: `migrate_sqlite::include_migrations!()` and
/// `migrate_postgres::include_migrations!()` are this macro.
///
/// ```text
/// // build.rs (migrate-build is a build dependency)
/// fn main() {
///     migrate_build::migrations("src/migrations").generate_or_report();
/// }
///
/// // src/migrations.rs
/// migrate_core::include_migrations!();
/// ```
///
/// Besides a module per file it defines `MIGRATION_FILES` and
/// `unregistered_migration_files(..)`, for a test that every file registers a migration.
///
/// It also declares the folder linked into the program: while the folder is empty (a new
/// project), `Migrator::discovered()` returns a manager with no migrations instead of
/// `Error::NoMigrations`, which it returns when no folder is linked (a missing
/// `mod migrations;`, or a library nothing names). A raw
/// `include!(concat!(env!("OUT_DIR"), "/migrations.rs"))` compiles the files but does not
/// declare the folder.
#[macro_export]
macro_rules! include_migrations {
    () => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/migrations.rs"));

        const _: () = {
            #[$crate::__private::linkme::distributed_slice($crate::__private::MIGRATION_FOLDERS)]
            #[linkme(crate = $crate::__private::linkme)]
            static MIGRATIONS_FOLDER: $crate::__private::MigrationsFolder =
                $crate::__private::migrations_folder(MIGRATION_FILES.len());
        };
    };
}
