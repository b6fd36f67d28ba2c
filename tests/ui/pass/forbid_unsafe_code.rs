//! A crate that forbids unsafe code can use `#[migration]`: the `unsafe(..)` attributes
//! in the expansion (linkme's `link_section`, our `export_name`) come from the macro,
//! not from the user's code.

#![forbid(unsafe_code)]

use migrate_sqlite::{BoxError, Db, Migration, Migrator, Reversible, Sqlite, migration};

/// Creates `chat_users`.
#[migration(version = 122, description = "Create chat_users")]
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

fn main() -> Result<(), migrate_sqlite::Error> {
    assert_eq!(CreateChatUsers::get_migration().version(), 122);
    let mut db = Sqlite::open_in_memory()?;
    let report = Migrator::discovered()?.to_latest(&mut db)?;
    assert_eq!(report.steps.len(), 1);
    Ok(())
}
