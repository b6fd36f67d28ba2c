use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

/// Lets the bot flag users who spam.
#[migration(version = 2, description = "Add is_spammer to chat_users")]
pub struct AddIsSpammer;

impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
    }
}

impl Reversible for AddIsSpammer {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users DROP COLUMN is_spammer")
    }
}
