use migrate_sqlite::{BoxError, Db, Migration, Migrator, Sqlite, migration};

#[migration(
    version = 20261124093000,
    description = "Create chat_users",
    irreversible
)]
pub struct CreateChatUsers;

impl Migration for CreateChatUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY)")
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    assert_eq!(
        CreateChatUsers::get_migration().version(),
        20_261_124_093_000
    );

    let mut db = Sqlite::open_in_memory()?;
    let migrator = Migrator::discovered()?;
    let report = migrator.to_latest(&mut db)?;
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].version, 20_261_124_093_000);
    // The history stored it and reads it back.
    assert!(migrator.pending(&mut db)?.is_empty());
    Ok(())
}
