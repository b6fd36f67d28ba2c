//! A `migrate` command whose migrations have tags, categories and declared dependencies,
//! for the command line's tests of `--tag` and `--category` (tests/tests/cli/tags.rs). It
//! does not link the chat bot, whose migrations have none: its migrations are the five
//! below.

use migrate_sqlite::{BoxError, Db, Migration, migration};

/// Users.
#[migration(
    version = 1,
    description = "Create users",
    irreversible,
    category = "schema"
)]
pub struct CreateUsers;

impl Migration for CreateUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    }
}

/// Invoices.
#[migration(version = 2, description = "Create invoices", irreversible,
            tags = ["billing"], category = "schema")]
pub struct CreateInvoices;

impl Migration for CreateInvoices {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
    }
}

/// A data migration over every invoice.
#[migration(version = 3, description = "Backfill invoice totals", irreversible,
            tags = ["billing", "slow"], category = "data", after = [CreateInvoices])]
pub struct BackfillInvoiceTotals;

impl Migration for BackfillInvoiceTotals {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("UPDATE invoices SET total = 0 WHERE total IS NULL")
    }
}

/// An index that takes long on a big table.
#[migration(version = 4, description = "Index user names", irreversible,
            tags = ["slow"], after = [1])]
pub struct IndexUserNames;

impl Migration for IndexUserNames {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX users_name ON users (name)")
    }
}

/// No tags, no category, no declared dependencies.
#[migration(version = 5, description = "Create notes", irreversible)]
pub struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    }
}

fn main() {
    migrate_cli::main()
}
