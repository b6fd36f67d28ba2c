//! The migrations of `runner::concurrency_conditions`, shared by the test module and its
//! child process (`src/bin/sqlite_child.rs`): a ledger, and a migration that appends to
//! it only once the parent has created the table `flags`.

use std::time::Duration;

use migrate_sqlite::{BoxError, Db, Migration, PlanContext, migration};

fn record(db: &mut dyn Db, version: u64) -> Result<(), BoxError> {
    db.execute(&format!(
        "INSERT INTO ledger (version, pid) VALUES ({version}, {})",
        std::process::id()
    ))
}

#[migration(version = 701, description = "Create the process ledger", irreversible)]
pub(crate) struct CreateLedger;

impl Migration for CreateLedger {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE ledger (version INTEGER NOT NULL, pid INTEGER NOT NULL)")?;
        std::thread::sleep(Duration::from_millis(10));
        record(db, 701)
    }
}

/// True once the parent created the `flags` table.
fn flagged(context: &mut PlanContext<'_>) -> bool {
    context
        .db()
        .execute("SELECT 1 FROM flags WHERE 1 = 0")
        .is_ok()
}

#[migration(
    version = 702,
    description = "Append when flagged",
    irreversible,
    when = flagged,
    after = [CreateLedger]
)]
pub(crate) struct WhenFlagged;

impl Migration for WhenFlagged {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        std::thread::sleep(Duration::from_millis(10));
        record(db, 702)
    }
}
