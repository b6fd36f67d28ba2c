use migrate_core::{BoxError, Db, Migration, Migrator, Reversible, migration};

#[migration(version = 115, description = "Create chat_users")]
pub struct CreateChatUsers;

impl Migration for CreateChatUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY)")
    }
}

impl Reversible for CreateChatUsers {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE chat_users")
    }
}

fn main() -> Result<(), migrate_core::Error> {
    let migration: &'static migrate_core::RegisteredMigration = CreateChatUsers::get_migration();
    assert_eq!(migration.version(), 115);
    assert!(migration.is_reversible());

    // The core's registry is the one every backend reads.
    let migrator = Migrator::discovered()?;
    assert_eq!(migrator.migrations().len(), 1);
    let mut db = migrate_sqlite::Sqlite::open_in_memory()?;
    assert_eq!(migrator.to_latest(&mut db)?.steps.len(), 1);
    assert_eq!(migrator.to_version(&mut db, 0)?.steps.len(), 1);
    Ok(())
}
