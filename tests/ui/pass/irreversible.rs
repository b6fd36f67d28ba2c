use migrate_sqlite::{BoxError, Db, Migration, Migrator, Sqlite, migration};

#[migration(version = 114, description = "Drop chat_logs", irreversible)]
pub struct DropChatLogs;

impl Migration for DropChatLogs {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE IF EXISTS chat_logs")
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    let migration = DropChatLogs::get_migration();
    assert_eq!(migration.version(), 114);
    assert!(!migration.is_reversible());

    // Applied, it cannot be reverted: the planner refuses and nothing changes.
    let mut db = Sqlite::open_in_memory()?;
    let migrator = Migrator::discovered()?;
    assert_eq!(migrator.to_latest(&mut db)?.steps.len(), 1);
    assert!(migrator.to_version(&mut db, 0).is_err());
    assert!(migrator.pending(&mut db)?.is_empty());
    Ok(())
}
