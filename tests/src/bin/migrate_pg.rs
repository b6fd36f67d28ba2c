//! A `migrate` command whose migrations run on PostgreSQL, for the command line's
//! PostgreSQL tests (tests/tests/cli/postgres.rs): the chat bot's migrations are
//! SQLite's (`strftime` defaults, a data migration through rusqlite). It does not link
//! the chat bot: its migrations are the two below.

use migrate_postgres::{BoxError, Db, Migration, Reversible, migration};

/// A table of notes.
#[migration(version = 1, description = "Create notes")]
pub struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)")
    }
}

impl Reversible for CreateNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE notes")
    }
}

/// Tags on notes.
#[migration(version = 2, description = "Add tags to notes")]
pub struct AddTags;

impl Migration for AddTags {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE notes ADD COLUMN tags TEXT[] NOT NULL DEFAULT '{}'")
    }
}

impl Reversible for AddTags {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE notes DROP COLUMN tags")
    }
}

fn main() {
    migrate_cli::main()
}
