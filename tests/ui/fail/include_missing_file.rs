use migrate_sqlite::{BoxError, Db, Migration, migration};

#[migration(version = 1, description = "Create chat_logs", irreversible)]
pub struct CreateChatLogs;

impl Migration for CreateChatLogs {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(include_str!("sql/no_such_file.sql"))
    }
}

fn main() {}
