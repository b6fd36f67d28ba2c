use migrate_sqlite::prelude::*;

#[migration(version = 116, description = "Create chat_users")]
pub struct CreateChatUsers;

impl Migration for CreateChatUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.sqlite()?
            .execute_batch("CREATE TABLE chat_users (id INTEGER PRIMARY KEY)")?;
        Ok(())
    }
}

impl Reversible for CreateChatUsers {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE chat_users")
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    assert_eq!(CreateChatUsers::get_migration().version(), 116);

    let mut db = Sqlite::open_in_memory()?;
    let migrator = Migrator::discovered()?;
    assert_eq!(migrator.to_latest(&mut db)?.steps.len(), 1);
    assert_eq!(migrator.to_version(&mut db, 0)?.steps.len(), 1);
    Ok(())
}
