//! `transaction = false` runs the migration outside a transaction, for statements SQLite
//! refuses inside one, such as VACUUM.
use migrate_sqlite::{BoxError, Db, Migration, Migrator, Sqlite, migration};

#[migration(version = 121, description = "Vacuum", irreversible, transaction = false)]
pub struct Vacuum;

impl Migration for Vacuum {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("VACUUM")
    }
}

#[migration(version = 122, description = "Create t", irreversible, transaction = true)]
pub struct CreateT;

impl Migration for CreateT {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    assert!(!Vacuum::get_migration().is_transactional());
    assert!(CreateT::get_migration().is_transactional());
    let dir = std::env::temp_dir().join(format!("migrate-ui-vacuum-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut db = Sqlite::open(dir.join("t.db"))?;
    let report = Migrator::discovered()?.to_latest(&mut db)?;
    assert_eq!(report.steps.len(), 2);
    drop(db);
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}
