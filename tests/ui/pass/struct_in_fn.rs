use migrate_sqlite::{BoxError, Db, Migration, Migrator, Reversible, Sqlite, migration};

fn main() -> Result<(), migrate_sqlite::Error> {
    #[migration(version = 113, description = "Create chat_users")]
    struct CreateChatUsers;

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

    assert_eq!(CreateChatUsers::get_migration().version(), 113);

    let mut db = Sqlite::open_in_memory()?;
    let report = Migrator::discovered()?.to_latest(&mut db)?;
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].version, 113);
    Ok(())
}
