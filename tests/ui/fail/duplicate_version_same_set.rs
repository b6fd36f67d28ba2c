use migrate_sqlite::{BoxError, Db, Migration, migration};

#[migration(version = 3, description = "Create events", irreversible, set = "analytics")]
pub struct CreateEvents;

impl Migration for CreateEvents {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    }
}

#[migration(version = 3, description = "Create sessions", irreversible, set = "analytics")]
pub struct CreateSessions;

impl Migration for CreateSessions {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY)")
    }
}

fn main() {}
