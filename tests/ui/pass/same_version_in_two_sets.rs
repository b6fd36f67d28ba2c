//! Versions are per set: version 120 in the default set and in `analytics` are two
//! migrations, each applied by the manager of its own set.
use migrate_sqlite::{BoxError, Db, Migration, Migrator, Sqlite, migration};

#[migration(version = 120, description = "Create users", irreversible)]
pub struct CreateUsers;

impl Migration for CreateUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    }
}

#[migration(version = 120, description = "Create events", irreversible, set = "analytics")]
pub struct CreateEvents;

impl Migration for CreateEvents {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    assert_eq!(CreateEvents::get_migration().set(), "analytics");
    assert_eq!(CreateUsers::get_migration().set(), "");

    let mut db = Sqlite::open_in_memory()?;
    let app = Migrator::discovered()?;
    let analytics = Migrator::discovered_set("analytics")?;
    assert_eq!(app.to_latest(&mut db)?.steps[0].description, "Create users");
    assert_eq!(analytics.pending(&mut db)?.len(), 1, "each set keeps its own history");
    assert_eq!(analytics.to_latest(&mut db)?.steps[0].description, "Create events");
    assert!(app.to_latest(&mut db)?.is_empty());
    assert!(analytics.to_latest(&mut db)?.is_empty());
    Ok(())
}
