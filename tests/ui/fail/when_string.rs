use migrate_sqlite::{BoxError, Db, Migration, migration};

fn demo_database(_: &mut migrate_core::PlanContext<'_>) -> bool {
    true
}

#[migration(version = 3, description = "Seed demo users", irreversible, when = "demo_database")]
pub struct SeedDemoUsers;

impl Migration for SeedDemoUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO chat_users (name) VALUES ('demo')")
    }
}

fn main() {}
