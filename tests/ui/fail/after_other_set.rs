use migrate_sqlite::{BoxError, Db, Migration, migration};

#[migration(version = 3, description = "Add is_spammer", irreversible, after = [CreateReports])]
pub struct AddIsSpammer;

impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
    }
}

#[migration(version = 1, description = "Create reports", irreversible, set = "analytics")]
pub struct CreateReports;

impl Migration for CreateReports {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY)")
    }
}

fn main() {}
