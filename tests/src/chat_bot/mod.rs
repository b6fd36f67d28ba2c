//! The chat bot's schema, one migration per file in `migrations/`:
//!
//! - `001` creates `chat_users`, `chats` and `chat_messages`;
//! - `002` adds `is_spammer` to `chat_users`;
//! - `003` adds `metadata` to `chat_users`.
//!
//! There is no `mod` line per file: the build script (`tests/build.rs`) lists the folder
//! with `migrate-build`, and `include_migrations!` compiles every file in it. A file
//! dropped into the folder is compiled on the next build; a file that registers no
//! migration fails the build, naming it.

migrate_sqlite::include_migrations!();

pub use m001_initial_schema::InitialSchema;
pub use m002_add_is_spammer::AddIsSpammer;
pub use m003_add_metadata::AddMetadata;

/// The versions this module defines, lowest first.
pub const VERSIONS: [u64; 3] = [1, 2, 3];

/// The files of the migrations folder, as the build script listed them.
pub fn migration_files() -> &'static [&'static str] {
    MIGRATION_FILES
}

/// The files of the migrations folder that registered no migration: empty when every
/// file holds one (a test checks it).
pub fn unregistered_files() -> Vec<&'static str> {
    let discovered = migrate_sqlite::discovered_migrations().unwrap_or_default();
    unregistered_migration_files(discovered.iter().map(|m| m.file()))
}

/// Call this from a program that needs the chat bot's migrations: referring to this crate
/// makes sure the linker keeps it, and with it the migrations it registers
/// (docs/discovery.md explains why that matters).
pub fn link() {}
