//! Concurrent runs against one SQLite file, from threads with their own connections and
//! from separate processes: every migration is applied exactly once, nobody fails (they
//! wait for the write lock), and the history is complete and ordered.

use migrate_test_support as support;

use std::path::Path;
use std::sync::{Arc, Barrier};
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

const ALL: std::ops::RangeInclusive<u64> = 201..=212;

fn migrate(path: &Path) -> Result<usize, migrate_sqlite::Error> {
    let mut db = Sqlite::open(path)?;
    Ok(Migrator::discovered_set("concurrency")?
        .to_latest(&mut db)?
        .steps
        .len())
}

/// The ledger and the history, read back: both must list every version once, in order.
fn assert_applied_exactly_once(path: &Path) {
    let db = Sqlite::open(path).unwrap();
    let conn = db.connection();
    let read = |sql: &str| -> Vec<u64> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |row| row.get::<_, i64>(0))
            .unwrap()
            .map(|v| u64::try_from(v.unwrap()).unwrap())
            .collect()
    };
    let expected: Vec<u64> = ALL.collect();
    assert_eq!(read("SELECT version FROM ledger ORDER BY rowid"), expected);
    assert_eq!(
        read("SELECT version FROM migrate_history ORDER BY applied_at, version"),
        expected
    );
}

#[test]
fn threads_with_their_own_connections_apply_each_migration_once() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 10;
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join("shared.db"));
        let barrier = Arc::new(Barrier::new(THREADS));
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                let (path, barrier) = (Arc::clone(&path), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    migrate(&path)
                })
            })
            .collect();
        let applied: usize = handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("round {round}: {e}"))
            })
            .sum();
        assert_eq!(
            applied,
            ALL.count(),
            "round {round}: the runs applied {applied} in all"
        );
        assert_applied_exactly_once(&path);
    }
}

/// Set for the child processes of the test below: the database to migrate.
const CHILD_ENV: &str = "MIGRATE_CONCURRENCY_CHILD_DB";

/// The body of each child process of `processes_apply_each_migration_once`.
#[test]
#[ignore = "child process entry, run by processes_apply_each_migration_once"]
fn child_process_entry() {
    let path = support::child_env(CHILD_ENV, "processes_apply_each_migration_once");
    let applied = migrate(Path::new(&path)).expect("child run failed");
    println!("applied={applied}");
}

#[test]
fn processes_apply_each_migration_once() {
    const PROCESSES: usize = 6;
    const ROUNDS: usize = 3;
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                support::child_entry("concurrency::child_process_entry")
                    .env(CHILD_ENV, &path)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut applied = 0;
        for child in children {
            let output = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "round {round}: a child failed: {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            // The harness prints the test name on the same line, so search the text.
            applied += stdout
                .split("applied=")
                .nth(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                })
                .and_then(|n| n.parse::<usize>().ok())
                .unwrap_or_else(|| panic!("round {round}: no count in {stdout}"));
        }
        assert_eq!(applied, ALL.count(), "round {round}");
        assert_applied_exactly_once(&path);
    }
}
