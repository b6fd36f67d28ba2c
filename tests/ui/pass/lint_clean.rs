//! The code `#[migration]` generates is clean under the rustc lints users deny. trybuild
//! runs rustc, not clippy: clippy's lints (`clippy::pedantic` included) are checked by a
//! real `cargo clippy` run in tests/tests/build/generated_code_lints.rs.

#![deny(warnings)]
#![deny(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused_qualifications,
    unused_results,
    trivial_casts,
    trivial_numeric_casts,
    single_use_lifetimes,
    unused_import_braces,
    unused_lifetimes,
    variant_size_differences
)]

use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

/// A migration at the crate root.
#[derive(Debug)]
#[migration(version = 119, description = "Create chat_users")]
pub struct CreateChatUsers;

impl Migration for CreateChatUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY)")
    }
}

impl Reversible for CreateChatUsers {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE chat_users")
    }
}

mod migrations {
    use migrate_sqlite::{BoxError, Db, Migration, migration};

    /// A private migration in a private module, never named outside it.
    #[derive(Debug)]
    #[migration(version = 120, description = "Drop chat_logs", irreversible)]
    pub(crate) struct DropChatLogs;

    impl Migration for DropChatLogs {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("DROP TABLE IF EXISTS chat_logs")
        }
    }

    /// A migration that nothing calls `get_migration()` on, with tags, a category and
    /// dependencies.
    #[derive(Debug)]
    #[migration(
        version = 121,
        description = "Add is_spammer to chat_users",
        tags = ["spam"],
        category = "schema",
        after = [super::CreateChatUsers, 120]
    )]
    struct AddIsSpammer;

    impl Migration for AddIsSpammer {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER")
        }
    }

    impl migrate_sqlite::Reversible for AddIsSpammer {
        fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("ALTER TABLE chat_users DROP COLUMN is_spammer")
        }
    }

    /// The condition of `SeedDemoUsers`.
    fn not_in_production(context: &mut migrate_core::PlanContext<'_>) -> Result<bool, BoxError> {
        Ok(context.environment() != Some("production"))
    }

    /// A conditional migration: `when` and `environments`.
    #[derive(Debug)]
    #[migration(
        version = 122,
        description = "Seed demo users",
        irreversible,
        when = not_in_production,
        environments = ["dev", "test"]
    )]
    pub(crate) struct SeedDemoUsers;

    impl Migration for SeedDemoUsers {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("INSERT INTO chat_users (id) VALUES (1)")
        }
    }
}

fn main() {
    assert_eq!(CreateChatUsers::get_migration().version(), 119);
    assert!(!migrations::DropChatLogs::get_migration().is_reversible());
    let discovered = migrate_sqlite::discovered_migrations().unwrap();
    let versions: Vec<u64> = discovered.iter().map(|m| m.version()).collect();
    assert_eq!(versions, [119, 120, 121, 122]);
}
