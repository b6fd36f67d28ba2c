//! The migrations of `runner::races`, shared by the test module and its child processes
//! (`src/bin/sqlite_child.rs`): a ledger each migration appends its version to, one of
//! them outside a transaction, and one that a child asked to be killed in waits in.

use std::time::Duration;

use migrate_sqlite::{BoxError, Db, Migration, Migrator, Reversible, migration};

/// Set for a child that is to be killed inside migration 1102's `up`: the file it writes
/// once it is there.
pub(crate) const SLOW_UP_ENV: &str = "MIGRATE_RACES_SLOW_UP";

#[migration(version = 1101, description = "Create the ledger")]
pub(crate) struct CreateLedger;

impl Migration for CreateLedger {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE ledger (version INTEGER NOT NULL);
             INSERT INTO ledger VALUES (1101);",
        )
    }
}

impl Reversible for CreateLedger {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE ledger")
    }
}

#[migration(version = 1102, description = "Add a note column")]
pub(crate) struct AddNote;

impl Migration for AddNote {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "ALTER TABLE ledger ADD COLUMN note TEXT;
             INSERT INTO ledger (version) VALUES (1102);",
        )?;
        // A child asked to be killed in here says so, then waits for the kill.
        if let Some(flag) = std::env::var_os(SLOW_UP_ENV) {
            std::fs::write(flag, b"in up").unwrap();
            std::thread::sleep(Duration::from_secs(30));
        }
        Ok(())
    }
}

impl Reversible for AddNote {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "DELETE FROM ledger WHERE version = 1102;
             ALTER TABLE ledger DROP COLUMN note;",
        )
    }
}

#[migration(
    version = 1103,
    description = "Backfill outside a transaction",
    transaction = false
)]
pub(crate) struct Backfill;

impl Migration for Backfill {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO ledger (version) VALUES (1103)")
    }
}

impl Reversible for Backfill {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DELETE FROM ledger WHERE version = 1103")
    }
}

pub(crate) fn all() -> Migrator {
    Migrator::new()
        .register_migrations([
            CreateLedger::get_migration(),
            AddNote::get_migration(),
            Backfill::get_migration(),
        ])
        .unwrap()
}
