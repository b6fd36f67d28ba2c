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

use crate::{Migrator, Sqlite};

/// What [`check_migrations`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Every version applied, in order.
    pub applied: Vec<u64>,
    /// The versions whose `down` was run and restored the schema.
    pub reverted: Vec<u64>,
    /// The irreversible versions, whose `down` could not be checked.
    pub irreversible: Vec<u64>,
}

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
    if migrator.migrations().is_empty() {
        panic!(
            "check_migrations has nothing to check: {}",
            crate::Error::no_migrations(migrator.set())
        );
    }
    let mut db = Sqlite::open_in_memory().unwrap_or_else(|e| panic!("{e}"));
    let mut checked = Checked::default();
    let mut previous = 0;
    for m in migrator.migrations() {
        let before = schema(&db);
        if let Err(error) = migrator.to_version(&mut db, m.version()) {
            panic!(
                "migration {m} does not apply on a fresh database: {}",
                chain(&error)
            );
        }
        checked.applied.push(m.version());
        if m.is_reversible() {
            if let Err(error) = migrator.to_version(&mut db, previous) {
                panic!("the down of migration {m} fails: {}", chain(&error));
            }
            let after = schema(&db);
            if after != before {
                panic!(
                    "the down of migration {m} does not restore the schema as it was before its \
                     up:\n{}",
                    difference(&before, &after)
                );
            }
            if let Err(error) = migrator.to_version(&mut db, m.version()) {
                panic!(
                    "migration {m} does not apply again after its down: {}",
                    chain(&error)
                );
            }
            checked.reverted.push(m.version());
        } else {
            checked.irreversible.push(m.version());
        }
        previous = m.version();
    }

    // All the way down (to the last irreversible migration), and up again.
    let floor = checked.irreversible.last().copied().unwrap_or(0);
    if let Err(error) = migrator.to_version(&mut db, floor) {
        panic!(
            "reverting every migration down to {floor} fails: {}",
            chain(&error)
        );
    }
    if let Err(error) = migrator.to_latest(&mut db) {
        panic!("applying every migration again fails: {}", chain(&error));
    }
    checked
}

/// The schema apart from SQLite's own tables and the history table.
fn schema(db: &Sqlite) -> Vec<String> {
    let sql = "SELECT type || ' ' || name || ': ' || ifnull(sql, '') FROM sqlite_master \
               WHERE name NOT LIKE 'sqlite_%' AND tbl_name != ?1 ORDER BY type, name";
    let conn = db.connection();
    let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}"));
    statement
        .query_map([db.history_table_name()], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .unwrap_or_else(|e| panic!("reading sqlite_master: {e}"))
}

fn difference(before: &[String], after: &[String]) -> String {
    let mut lines = Vec::new();
    for entry in before.iter().filter(|e| !after.contains(e)) {
        lines.push(format!("  before its up, not after its down: {entry}"));
    }
    for entry in after.iter().filter(|e| !before.contains(e)) {
        lines.push(format!("  after its down, not before its up:  {entry}"));
    }
    lines.join("\n")
}

fn chain(error: &crate::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
