use migrate_sqlite::{BoxError, Db, Direction, Migration, Migrator, Reversible, Sqlite, migration};

#[migration(version = 100, description = "Create chat_users")]
pub struct CreateChatUsers;

impl Migration for CreateChatUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    }
}

impl Reversible for CreateChatUsers {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE chat_users")
    }
}

fn table_exists(db: &Sqlite) -> bool {
    db.connection()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'chat_users'",
            [],
            |row| row.get::<_, i64>(0),
        )
        .unwrap()
        == 1
}

fn main() -> Result<(), migrate_sqlite::Error> {
    let migration = CreateChatUsers::get_migration();
    assert_eq!(migration.version(), 100);
    assert_eq!(migration.description(), "Create chat_users");
    assert_eq!(migration.type_name(), "CreateChatUsers");
    assert!(migration.file().ends_with("unit_struct.rs"));
    assert_eq!(migration.line(), 4);
    assert!(migration.is_reversible());

    // Discovery finds it without any list, and the migrator runs it.
    let migrator = Migrator::discovered()?;
    let versions: Vec<u64> = migrator.migrations().iter().map(|m| m.version()).collect();
    assert_eq!(versions, [100]);

    let mut db = Sqlite::open_in_memory()?;
    let report = migrator.to_latest(&mut db)?;
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].version, 100);
    assert_eq!(report.steps[0].description, "Create chat_users");
    assert_eq!(report.steps[0].direction, Direction::Up);
    assert!(table_exists(&db));
    assert!(migrator.to_latest(&mut db)?.is_empty());

    let report = migrator.to_version(&mut db, 0)?;
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].direction, Direction::Down);
    assert!(!table_exists(&db));
    Ok(())
}
