//! The migrations of `runner::concurrency`, shared by the test module and its child
//! process (`src/bin/sqlite_child.rs`): a ledger that every migration appends its version
//! to, in the set `concurrency`, which `migrate` reads from the registry.

use std::path::Path;
use std::time::Duration;

use migrate_sqlite::{BoxError, Db, Migration, Migrator, Reversible, Sqlite, migration};

/// Every migration appends its version to `ledger`: a migration applied twice shows up
/// as two rows.
fn record(db: &mut dyn Db, version: u64) -> Result<(), BoxError> {
    db.execute(&format!("INSERT INTO ledger (version) VALUES ({version})"))
}

#[migration(version = 201, description = "Create the ledger", set = "concurrency")]
struct CreateLedger;

impl Migration for CreateLedger {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE ledger (version INTEGER NOT NULL)")?;
        // Hold the write lock a while so the other runs pile up behind it.
        std::thread::sleep(Duration::from_millis(20));
        record(db, 201)
    }
}

impl Reversible for CreateLedger {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE ledger")
    }
}

macro_rules! ledger_migrations {
    ($($name:ident = $version:literal),* $(,)?) => {$(
        #[migration(version = $version, description = "Append to the ledger", set = "concurrency")]
        struct $name;

        impl Migration for $name {
            fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                record(db, $version)
            }
        }

        impl Reversible for $name {
            fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                db.execute(&format!("DELETE FROM ledger WHERE version = {}", $version))
            }
        }
    )*};
}

ledger_migrations!(
    L202 = 202,
    L203 = 203,
    L204 = 204,
    L205 = 205,
    L206 = 206,
    L207 = 207,
    L208 = 208,
    L209 = 209,
    L210 = 210,
    L211 = 211,
    L212 = 212,
);

pub(crate) fn migrate(path: &Path) -> Result<usize, migrate_sqlite::Error> {
    let mut db = Sqlite::open(path)?;
    Ok(Migrator::discovered_set("concurrency")?
        .to_latest(&mut db)?
        .steps
        .len())
}
