//! Many processes start migrating the same SQLite file at the same instant, round after
//! round: every migration is applied exactly once, no process fails (each waits for the
//! write lock, then sees what the others did), and the history is complete and ordered.
//!
//! The children are processes of their own (`src/bin/sqlite_child.rs`, with the
//! migrations of `migrations.rs`). Each
//! prints `ready` once started, then waits for a `go` file the parent creates when all
//! are ready, so all of them open the file (possibly creating it) and take the lock at
//! once.
//!
//! Run on a fresh file each round (the children race to create it) in the default
//! rollback-journal mode, and on a file the parent switched to WAL first.
//!
//! How these tests fail when the promise breaks (checked on a scratch copy of the
//! workspace): with `Sqlite::begin` always reporting `Freshness::Current` (no re-check
//! of the history once the lock is held), a child that planned from the empty history
//! applies 601 again and fails with `table ledger already exists` in round 0; with
//! `BEGIN` instead of `BEGIN IMMEDIATE` (the write lock taken late), a child fails with
//! `database is locked` in round 0, a lock upgrade the busy timeout cannot wait out.

use migrate_test_support as support;

use std::io::{BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command};
use std::time::{Duration, Instant};

mod migrations;

use migrations::all;

use migrate_sqlite::Sqlite;

fn versions() -> Vec<u64> {
    all().iter().map(|m| m.version()).collect()
}

struct Running {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
}

/// Starts a child and waits until it has printed `ready`.
fn spawn_child(path: &Path, go: &Path) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sqlite_child"));
    command.arg("concurrency_processes").arg(path).arg(go);
    let (child, stdout) = support::spawn_ready(command);
    Running { child, stdout }
}

/// The number after `key=` in `text`.
fn field(text: &str, key: &str) -> Option<u128> {
    let rest = text.split(&format!("{key}=")).nth(1)?;
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// The ledger and the history, read back: both list every version once, in order.
/// Returns how many processes the ledger names.
fn assert_applied_exactly_once(path: &PathBuf, round: usize) -> usize {
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
    assert_eq!(
        read("SELECT version FROM ledger ORDER BY rowid"),
        versions(),
        "round {round}: the ledger"
    );
    assert_eq!(
        read("SELECT version FROM migrate_history ORDER BY applied_at, version"),
        versions(),
        "round {round}: the history, in the order applied"
    );
    let appliers: i64 = conn
        .query_row("SELECT count(DISTINCT pid) FROM ledger", [], |row| {
            row.get(0)
        })
        .unwrap();
    usize::try_from(appliers).unwrap()
}

#[test]
fn many_processes_starting_at_once_apply_each_migration_exactly_once_rollback_journal() {
    processes_at_once(false);
}

#[test]
fn many_processes_starting_at_once_apply_each_migration_exactly_once_wal() {
    processes_at_once(true);
}

fn processes_at_once(wal: bool) {
    const PROCESSES: usize = 8;
    const ROUNDS: usize = 10;
    const MIN_ROUNDS: usize = 3;
    /// Past this, no new round starts (slow machines); at least `MIN_ROUNDS` run.
    const BUDGET: Duration = Duration::from_secs(15);

    let started = Instant::now();
    let mut rounds = 0;
    let mut max_wait_us = 0;
    let mut total_wait_us = 0;
    // Per round, how many processes applied something (from the child's report, and from
    // the ledger's process ids).
    let mut workers = Vec::new();
    while rounds < ROUNDS && (rounds < MIN_ROUNDS || started.elapsed() < BUDGET) {
        let round = rounds;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let go = dir.path().join("go");
        if wal {
            let conn = migrate_sqlite::rusqlite::Connection::open(&path).unwrap();
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
        }
        let children: Vec<Running> = (0..PROCESSES).map(|_| spawn_child(&path, &go)).collect();
        std::fs::write(&go, b"").unwrap();

        let mut applied = 0;
        let mut round_workers = 0;
        for Running { child, stdout } in children {
            let rest: Vec<String> = stdout.map(Result::unwrap).collect();
            let output = child.wait_with_output().unwrap();
            let stdout = rest.join("\n");
            assert!(
                output.status.success(),
                "round {round}: a child failed: {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let n = field(&stdout, "applied")
                .unwrap_or_else(|| panic!("round {round}: no count in {stdout}"));
            let waited = field(&stdout, "elapsed_us")
                .unwrap_or_else(|| panic!("round {round}: no time in {stdout}"));
            applied += n;
            round_workers += usize::from(n > 0);
            max_wait_us = max_wait_us.max(waited);
            total_wait_us += waited;
        }
        assert_eq!(
            applied,
            versions().len() as u128,
            "round {round}: the runs applied {applied} in all"
        );
        let appliers = assert_applied_exactly_once(&path, round);
        assert_eq!(appliers, round_workers, "round {round}");
        workers.push(appliers);
        rounds += 1;
    }

    let runs = rounds * PROCESSES;
    let mode = if wal {
        "WAL, file created by the parent"
    } else {
        "rollback journal, the children create the file"
    };
    eprintln!(
        "process concurrency summary ({mode}): {PROCESSES} processes x {rounds} rounds = \
         {runs} runs on a fresh file each round, {} migrations per file, every migration \
         applied exactly once, 0 runs failed, processes that applied at least one migration \
         per round {workers:?} (the rest waited for the lock, then found nothing left to do), \
         run time (open + migrate, including waiting for the lock) max {:?}, mean {:?}; {:?} \
         in all",
        versions().len(),
        Duration::from_micros(u64::try_from(max_wait_us).unwrap()),
        Duration::from_micros(u64::try_from(total_wait_us / runs as u128).unwrap()),
        started.elapsed(),
    );
}
