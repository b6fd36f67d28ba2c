//! Eight processes start migrating the same fresh SQLite file at the same instant, with a
//! conditional migration among the migrations: its condition is evaluated under the write
//! lock, so it is recorded as skipped exactly once while it is false, and, once the
//! parent makes it true, applied exactly once by the next eight racing processes.
//!
//! The children are this test binary re-executed (`process_child_entry`), started
//! together by a `go` file as in `concurrency_processes.rs`.
//!
//! The decision rests on the same check as every step: the condition is evaluated after
//! `begin` found the history unchanged since the plan, holding the lock. Checked on a
//! scratch copy: with `Sqlite::begin` always reporting the history current, the round
//! fails at once (children plan from a stale read and collide).

use migrate_test_support as support;

use std::path::Path;
use std::time::Duration;

use migrate_sqlite::{
    BoxError, Db, Migration, Migrator, PlanContext, RegisteredMigration, Sqlite, migration,
};

fn record(db: &mut dyn Db, version: u64) -> Result<(), BoxError> {
    db.execute(&format!(
        "INSERT INTO ledger (version, pid) VALUES ({version}, {})",
        std::process::id()
    ))
}

#[migration(version = 701, description = "Create the process ledger", irreversible)]
struct CreateLedger;

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
struct WhenFlagged;

impl Migration for WhenFlagged {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        std::thread::sleep(Duration::from_millis(10));
        record(db, 702)
    }
}

fn all() -> Vec<&'static RegisteredMigration> {
    vec![CreateLedger::get_migration(), WhenFlagged::get_migration()]
}

const CHILD_DB_ENV: &str = "MIGRATE_CONDITIONS_CHILD_DB";
const CHILD_GO_ENV: &str = "MIGRATE_CONDITIONS_CHILD_GO";
const PARENT: &str = "racing_processes_skip_a_conditional_migration_once_and_apply_it_once";

/// The body of each child: migrate, then print how many steps ran code and how many
/// were recorded as skipped.
#[test]
#[ignore = "child process entry, run by racing_processes_skip_a_conditional_migration_once_and_apply_it_once"]
fn process_child_entry() {
    let path = support::child_env(CHILD_DB_ENV, PARENT);
    let go = support::child_env(CHILD_GO_ENV, PARENT);
    support::ready_then_wait_for(Path::new(&go));
    let mut db = Sqlite::open(Path::new(&path)).expect("child: open");
    let migrator = Migrator::new().register_migrations(all()).unwrap();
    let report = migrator.to_latest(&mut db).expect("child: migrate");
    let skipped = report.steps.iter().filter(|s| s.skipped.is_some()).count();
    println!("ran={} skipped={skipped}", report.steps.len() - skipped);
}

/// Starts eight children on `path`, lets them go at once, and sums what they report.
fn race(path: &Path, go: &Path) -> (usize, usize) {
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut command = support::child_entry("concurrency_conditions::process_child_entry");
            command.env(CHILD_DB_ENV, path).env(CHILD_GO_ENV, go);
            support::spawn_ready(command)
        })
        .collect();
    std::fs::write(go, b"").unwrap();
    let (mut ran, mut skipped) = (0, 0);
    for (child, lines) in children {
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        let output = child.wait_with_output().unwrap();
        let text = rest.join("\n");
        assert!(
            output.status.success(),
            "a child failed: {text}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let number = |key: &str| -> usize {
            text.split(&format!("{key}="))
                .nth(1)
                .and_then(|rest| {
                    rest.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse()
                        .ok()
                })
                .unwrap_or_else(|| panic!("no {key} in {text}"))
        };
        ran += number("ran");
        skipped += number("skipped");
    }
    std::fs::remove_file(go).unwrap();
    (ran, skipped)
}

fn ledger(path: &Path) -> Vec<i64> {
    let db = Sqlite::open(path).unwrap();
    db.connection()
        .prepare("SELECT version FROM ledger ORDER BY rowid")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn history(path: &Path) -> Vec<(i64, String)> {
    let db = Sqlite::open(path).unwrap();
    db.connection()
        .prepare("SELECT version, checksum FROM migrate_history ORDER BY version")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn racing_processes_skip_a_conditional_migration_once_and_apply_it_once() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let go = dir.path().join("go");

        // The flag is absent: 701 runs once, 702 is recorded as skipped once.
        assert_eq!(race(&path, &go), (1, 1), "round {round}, no flag");
        assert_eq!(ledger(&path), [701], "round {round}");
        let rows = history(&path);
        assert_eq!(rows.len(), 2, "round {round}: {rows:?}");
        assert!(rows[1].1.starts_with("skipped:"), "round {round}: {rows:?}");
        assert!(rows[1].1.ends_with(":`flagged` returned false"), "{rows:?}");

        // Flag set: 702 is applied exactly once, by one of the next eight.
        let conn = migrate_sqlite::rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE flags (name TEXT)")
            .unwrap();
        drop(conn);
        assert_eq!(race(&path, &go), (1, 0), "round {round}, flag set");
        assert_eq!(ledger(&path), [701, 702], "round {round}");
        let rows = history(&path);
        assert!(
            !rows[1].1.starts_with("skipped:"),
            "round {round}: {rows:?}"
        );
        assert_eq!(
            rows[1].1,
            WhenFlagged::get_migration().checksum(),
            "round {round}"
        );
    }
}
