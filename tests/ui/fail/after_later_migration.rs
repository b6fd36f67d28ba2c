use migrate_sqlite::{BoxError, Db, Migration, migration};

#[migration(version = 3, description = "Add is_spammer", irreversible, after = [AddIndex])]
pub struct AddIsSpammer;

impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
    }
}

#[migration(version = 4, description = "Add an index", irreversible)]
pub struct AddIndex;

impl Migration for AddIndex {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX chat_users_spam ON chat_users (is_spammer)")
    }
}

fn main() {}
