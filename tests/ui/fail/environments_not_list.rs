use migrate_sqlite::{BoxError, Db, Migration, migration};

#[migration(version = 3, description = "Seed demo users", irreversible, environments = "dev")]
pub struct SeedDemoUsers;

impl Migration for SeedDemoUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO chat_users (name) VALUES ('demo')")
    }
}

fn main() {}
