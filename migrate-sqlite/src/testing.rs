//! A check for your own tests: every migration applies on a fresh database, every `down`
//! restores the schema exactly as it was before its `up`, and everything applies again.
//!
//! ```rust,standalone_crate
//! use migrate_sqlite::{migration, BoxError, Db, Migration, Migrator, Reversible};
//!
//! #[migration(version = 1, description = "Create chat_users")]
//! pub struct CreateChatUsers;
//!
//! impl Migration for CreateChatUsers {
//!     fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
//!         db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY, name TEXT)")
//!     }
//! }
//!
//! impl Reversible for CreateChatUsers {
//!     fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
//!         db.execute("DROP TABLE chat_users")
//!     }
//! }
//!
//! // In a #[test]:
//! # fn main() {
//! let checked = migrate_sqlite::testing::check_migrations(&Migrator::discovered().unwrap());
//! assert_eq!(checked.reverted, [1]);
//! # }
//! ```

use crate::{Migrator, Sqlite, SqliteExt};

pub use migrate_core::testing::Checked;

/// Applies `migrator`'s migrations one by one on a new in-memory database; after each
/// reversible one, runs its `down` and compares the schema (`sqlite_master`: tables,
/// indexes, views, triggers and their SQL) with the schema before its `up`, then applies
/// it again. Finally reverts as far as the migrations allow and applies all again.
///
/// # Panics
///
/// When `migrator` has no migrations, with the message of
/// [`Error::NoMigrations`](crate::Error::NoMigrations): a test that checks nothing must
/// not pass (a test in `tests/` does not link a binary's own modules, see
/// docs/getting-started.md). When a migration fails to apply or revert, or a `down` leaves the schema different
/// from before its `up`; the message names the migration and shows the difference.
pub fn check_migrations(migrator: &Migrator) -> Checked {
    let mut db = Sqlite::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    let history = db.history_table_name().to_owned();
    migrate_core::testing::check_migrations_on(migrator, &mut db, |db| schema(db, &history))
}

/// The schema apart from SQLite's own tables and the history table.
fn schema(db: &mut dyn migrate_core::Db, history: &str) -> Vec<String> {
    let sql = "SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_master \
               WHERE name NOT LIKE 'sqlite_%' AND tbl_name != ?1 ORDER BY type, name";
    let conn = db.sqlite().unwrap_or_else(|e| panic!("{e}"));
    let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}"));
    statement
        .query_map([history], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .unwrap_or_else(|e| panic!("reading sqlite_master: {e}"))
}
