//! The migrations of `runner::concurrency_processes`, shared by the test module and its
//! child processes (`src/bin/sqlite_child.rs`): a ledger that every migration appends its
//! version and its process's id to.

use std::time::Duration;

use migrate_sqlite::{BoxError, Db, Migration, RegisteredMigration, migration};

/// Appends `version` to the ledger with the id of the process applying it: a migration
/// applied twice shows up as two rows.
fn record(db: &mut dyn Db, version: u64) -> Result<(), BoxError> {
    db.execute(&format!(
        "INSERT INTO ledger (version, pid) VALUES ({version}, {})",
        std::process::id()
    ))
}

#[migration(version = 601, description = "Create the process ledger", irreversible)]
struct CreateLedger;

impl Migration for CreateLedger {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE ledger (version INTEGER NOT NULL, pid INTEGER NOT NULL)")?;
        // Hold the write lock a while so the other processes pile up behind it.
        std::thread::sleep(Duration::from_millis(20));
        record(db, 601)
    }
}

macro_rules! ledger_migrations {
    ($($name:ident = $version:literal),* $(,)?) => {
        $(
            #[migration(version = $version, description = "Append to the process ledger", irreversible)]
            struct $name;

            impl Migration for $name {
                fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                    std::thread::sleep(Duration::from_millis(1));
                    record(db, $version)
                }
            }
        )*

        /// Every migration of this file, in version order.
        pub(crate) fn all() -> Vec<&'static RegisteredMigration> {
            let mut all = vec![CreateLedger::get_migration()];
            all.extend([$($name::get_migration()),*]);
            all
        }
    };
}

ledger_migrations!(
    P602 = 602,
    P603 = 603,
    P604 = 604,
    P605 = 605,
    P606 = 606,
    P607 = 607,
    P608 = 608,
    P609 = 609,
    P610 = 610,
    P611 = 611,
    P612 = 612,
    P613 = 613,
    P614 = 614,
    P615 = 615,
    P616 = 616,
);
