//! The migrations of the crash tests, shared by the test module (`sqlite::crash`) and
//! the child process that runs them (`src/bin/sqlite_child.rs`): 30 migrations, each of
//! which creates a table, inserts rows, sleeps a little and inserts more rows, so most
//! kills land inside a migration's transaction.

use std::time::Duration;

use migrate_sqlite::{BoxError, Db, Migration, Migrator, RegisteredMigration, migration};

/// Rows each migration inserts, in two halves with a sleep between them.
pub(crate) const ROWS: i64 = 40;
/// The sleep inside each migration's transaction.
const SLEEP: Duration = Duration::from_millis(3);

/// Creates `crash_<version>`, fills half of it, sleeps, fills the rest. Each row carries
/// a padded text so commits write a few pages.
fn fill(db: &mut dyn Db, version: u64) -> Result<(), BoxError> {
    db.execute(&format!(
        "CREATE TABLE crash_{version} (i INTEGER PRIMARY KEY, body TEXT NOT NULL)"
    ))?;
    insert_rows(db, version, 1..=ROWS / 2)?;
    std::thread::sleep(SLEEP);
    insert_rows(db, version, ROWS / 2 + 1..=ROWS)
}

fn insert_rows(
    db: &mut dyn Db,
    version: u64,
    rows: std::ops::RangeInclusive<i64>,
) -> Result<(), BoxError> {
    let (first, last) = (rows.start(), rows.end());
    db.execute(&format!(
        "WITH RECURSIVE n(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
         INSERT INTO crash_{version} (i, body) SELECT i, printf('%0200d', i) FROM n"
    ))
}

macro_rules! crash_migrations {
    ($($name:ident = $version:literal),* $(,)?) => {
        $(
            #[migration(version = $version, description = "Create and fill a table", irreversible)]
            struct $name;

            impl Migration for $name {
                fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                    fill(db, $version)
                }
            }
        )*

        /// Every migration of this file, in version order.
        pub(crate) fn all() -> Vec<&'static RegisteredMigration> {
            vec![$($name::get_migration()),*]
        }
    };
}

crash_migrations!(
    C501 = 501,
    C502 = 502,
    C503 = 503,
    C504 = 504,
    C505 = 505,
    C506 = 506,
    C507 = 507,
    C508 = 508,
    C509 = 509,
    C510 = 510,
    C511 = 511,
    C512 = 512,
    C513 = 513,
    C514 = 514,
    C515 = 515,
    C516 = 516,
    C517 = 517,
    C518 = 518,
    C519 = 519,
    C520 = 520,
    C521 = 521,
    C522 = 522,
    C523 = 523,
    C524 = 524,
    C525 = 525,
    C526 = 526,
    C527 = 527,
    C528 = 528,
    C529 = 529,
    C530 = 530,
);

pub(crate) fn migrator() -> Migrator {
    Migrator::new().register_migrations(all()).unwrap()
}
