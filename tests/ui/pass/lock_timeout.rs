//! `lock_timeout = ".."`: a migration's own lock timeout, `ms`, `s` or `m`, or `"off"`.
//! SQLite has no lock_timeout and ignores it; the migration runs as any other.
use core::time::Duration;

use migrate_sqlite::{BoxError, Db, LockTimeout, Migration, Migrator, Sqlite, migration};

#[migration(version = 131, description = "Create t", irreversible, lock_timeout = "500ms")]
pub struct CreateT;

impl Migration for CreateT {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    }
}

#[migration(
    version = 132,
    description = "Index t",
    irreversible,
    lock_timeout = "off",
    transaction = false
)]
pub struct IndexT;

impl Migration for IndexT {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX t_id ON t (id)")
    }
}

#[migration(lock_timeout = "5m", version = 133, description = "Drop t", irreversible)]
pub struct DropT;

impl Migration for DropT {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE t")
    }
}

#[migration(version = 134, description = "Nothing", irreversible)]
pub struct Nothing;

impl Migration for Nothing {
    fn up(&self, _db: &mut dyn Db) -> Result<(), BoxError> {
        Ok(())
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    assert_eq!(
        CreateT::get_migration().lock_timeout(),
        Some(LockTimeout::After(Duration::from_millis(500)))
    );
    assert_eq!(IndexT::get_migration().lock_timeout(), Some(LockTimeout::Off));
    assert_eq!(
        DropT::get_migration().lock_timeout(),
        Some(LockTimeout::After(Duration::from_secs(300)))
    );
    assert_eq!(Nothing::get_migration().lock_timeout(), None);
    let dir = std::env::temp_dir().join(format!("migrate-ui-lock-timeout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut db = Sqlite::open(dir.join("t.db"))?;
    let report = Migrator::discovered()?.to_latest(&mut db)?;
    assert_eq!(report.steps.len(), 4);
    drop(db);
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}
