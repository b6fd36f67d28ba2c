// SQL kept in a file of its own: the checksum counts the included file's contents.
use migrate_sqlite::{BoxError, Db, Migration, Migrator, Sqlite, migration};

#[migration(version = 1, description = "Create chat_logs", irreversible)]
pub struct CreateChatLogs;

impl Migration for CreateChatLogs {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(include_str!("sql/create_chat_logs.sql"))
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    let mut db = Sqlite::open_in_memory()?;
    assert_eq!(Migrator::discovered()?.to_latest(&mut db)?.steps.len(), 1);
    Ok(())
}
