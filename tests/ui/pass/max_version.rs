use migrate_sqlite::{BoxError, Db, MAX_VERSION, Migration, Migrator, Sqlite, migration};

#[migration(
    version = 9223372036854775807,
    description = "The last migration",
    irreversible
)]
pub struct Last;

impl Migration for Last {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE last (id INTEGER PRIMARY KEY)")
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    assert_eq!(Last::get_migration().version(), MAX_VERSION);
    assert_eq!(MAX_VERSION, i64::MAX as u64);

    let mut db = Sqlite::open_in_memory()?;
    let migrator = Migrator::discovered()?;
    let report = migrator.to_latest(&mut db)?;
    assert_eq!(report.steps.len(), 1);
    assert_eq!(report.steps[0].version, MAX_VERSION);
    assert!(migrator.pending(&mut db)?.is_empty());
    Ok(())
}
