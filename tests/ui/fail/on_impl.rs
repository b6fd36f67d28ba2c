use migrate_sqlite::{BoxError, Db, Migration, migration};

pub struct AddIsSpammer;

#[migration(version = 3, description = "Add is_spammer to chat_users")]
impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
    }
}

fn main() {}
