use migrate_sqlite::{BoxError, Db, Migration, migration};

#[migration(version = 3, description = "Add is_spammer", irreversible, tags = ["Spam Filter"])]
pub struct AddIsSpammer;

impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
    }
}

fn main() {}
