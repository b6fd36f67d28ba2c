//! Races between processes and connections that the trust issue found, each a test that
//! failed before its fix:
//!
//! - a fresh file with 8 processes starting at once (the history table created by one
//!   process between two reads of another), 100 rounds, rollback journal and WAL;
//! - `redo` killed between its revert and its apply;
//! - `clear_incomplete` deciding on a history read before the write lock, while another
//!   process finishes the migration;
//! - a run restricted to one direction (the command line's `up` and `down`) deciding on a
//!   plan made before the lock (the command line's own races are in tests/tests/cli/races.rs).
//!
//! The children are processes of their own (`src/bin/sqlite_child.rs`, with the
//! migrations of `migrations.rs`).

use migrate_test_support as support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod migrations;

use migrations::{Backfill, CreateLedger, SLOW_UP_ENV, all};

use migrate_core::{
    Backend, Capabilities, CodeScope, Freshness, HistoryChange, HistoryRead, Read,
    RegisteredMigration, TxMode,
};
use migrate_sqlite::rusqlite::Connection;
use migrate_sqlite::{BoxError, Db, Direction, Error, Migration, Migrator, Sqlite, migration};

fn child(command: &str, db: &Path, go: Option<&Path>) -> Command {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sqlite_child"));
    child.arg("races").arg(command).arg(db).args(go);
    child.stdout(Stdio::piped()).stderr(Stdio::piped());
    child
}

fn ledger(path: &Path) -> Vec<i64> {
    support::query_column(path, "SELECT version FROM ledger ORDER BY rowid")
}

fn history(path: &Path) -> Vec<(i64, bool)> {
    let conn = Connection::open(path).unwrap();
    let mut statement = conn
        .prepare("SELECT version, complete FROM migrate_history ORDER BY version")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// A fresh file, 8 processes at once.
// ---------------------------------------------------------------------------------------

/// Rounds per journal mode; `MIGRATE_RACE_ROUNDS` overrides.
fn rounds() -> usize {
    std::env::var("MIGRATE_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

fn fresh_file_race(wal: bool) {
    const PROCESSES: usize = 8;
    let rounds = rounds();
    let started = Instant::now();
    let mut failures = Vec::new();
    for round in 0..rounds {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fresh.db");
        let go = dir.path().join("go");
        if wal {
            let conn = Connection::open(&path).unwrap();
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
        }
        let children: Vec<(Child, _)> = (0..PROCESSES)
            .map(|_| {
                let mut running = child("latest", &path, Some(&go)).spawn().unwrap();
                let mut lines = BufReader::new(running.stdout.take().unwrap()).lines();
                loop {
                    match lines.next() {
                        Some(Ok(line)) if line.contains("ready") => break,
                        Some(Ok(_)) => {}
                        other => panic!("child ended before it was ready: {other:?}"),
                    }
                }
                (running, lines)
            })
            .collect();
        std::fs::write(&go, b"").unwrap();
        let mut applied = 0;
        for (running, lines) in children {
            let rest: Vec<String> = lines.map(Result::unwrap).collect();
            let output = running.wait_with_output().unwrap();
            if !output.status.success() {
                failures.push(format!(
                    "round {round}: {}",
                    String::from_utf8_lossy(&output.stderr)
                        .lines()
                        .find(|line| line.contains("child:"))
                        .unwrap_or("a child failed")
                ));
            }
            applied += rest
                .iter()
                .find_map(|line| line.split("applied=").nth(1))
                .and_then(|n| n.trim().parse::<usize>().ok())
                .unwrap_or(0);
        }
        if failures.is_empty() {
            assert_eq!(applied, 2, "round {round}: each migration applied once");
            assert_eq!(ledger(&path), [1101, 1102], "round {round}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} processes failed: {failures:#?}",
        failures.len(),
        rounds * PROCESSES
    );
    eprintln!(
        "fresh file, {PROCESSES} processes x {rounds} rounds ({}): 0 failed, in {:?}",
        if wal { "WAL" } else { "rollback journal" },
        started.elapsed()
    );
}

/// Failed with "the table "migrate_history" exists but is not a migrate history table:
/// no such table" when one process created the table between two reads of another.
#[test]
fn a_fresh_file_started_by_8_processes_at_once_never_fails_rollback_journal() {
    fresh_file_race(false);
}

#[test]
fn a_fresh_file_started_by_8_processes_at_once_never_fails_wal() {
    fresh_file_race(true);
}

// ---------------------------------------------------------------------------------------
// redo, killed.
// ---------------------------------------------------------------------------------------

/// `redo` was two transactions: a kill between them left the migration reverted, and
/// running `redo` again redid the one before it. Now the revert and the apply commit
/// together: a kill in the middle of the apply leaves the database as it was, and the
/// same command run again gives what an uninterrupted redo gives.
#[test]
fn a_redo_killed_halfway_leaves_the_database_as_it_was_and_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("redo.db");
    all()
        .to_version(&mut Sqlite::open(&path).unwrap(), 1102)
        .unwrap();
    let before = (history(&path), ledger(&path));

    let flag = dir.path().join("in-up");
    let mut running = child("redo", &path, None)
        .env(SLOW_UP_ENV, &flag)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !flag.exists() {
        assert!(
            Instant::now() < deadline,
            "the child never reached 1102's up"
        );
        assert!(
            running.try_wait().unwrap().is_none(),
            "the child ended early"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // 1102's down has run and its up is running: kill it there.
    running.kill().unwrap();
    running.wait().unwrap();

    assert_eq!(
        (history(&path), ledger(&path)),
        before,
        "as it was before the redo"
    );
    let report = all().redo(&mut Sqlite::open(&path).unwrap()).unwrap();
    assert_eq!(
        report
            .steps
            .iter()
            .map(|s| (s.version, s.direction))
            .collect::<Vec<_>>(),
        [(1102, Direction::Down), (1102, Direction::Up)],
        "the same migration is redone, not the one before it"
    );
    assert_eq!((history(&path), ledger(&path)), before);
}

// ---------------------------------------------------------------------------------------
// Decisions made under the lock, with another connection acting in between.
// ---------------------------------------------------------------------------------------

/// A backend that lets another connection act once, between the history read and the
/// write lock (or, with `act_at` set, right before the first `begin` in that mode):
/// exactly the window in which a decision made before the lock goes wrong.
struct Interleaved<F: FnMut()> {
    inner: Sqlite,
    meanwhile: Option<F>,
    act_at: Option<TxMode>,
}

impl<F: FnMut()> Backend for Interleaved<F> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn read_history(&mut self, read: Read<'_>) -> Result<HistoryRead, BoxError> {
        self.inner.read_history(read)
    }
    fn write_history(&mut self, change: HistoryChange<'_>) -> Result<(), BoxError> {
        self.inner.write_history(change)
    }
    fn begin(&mut self, mode: TxMode) -> Result<Freshness, BoxError> {
        if self.act_at.is_none_or(|at| at == mode)
            && let Some(mut act) = self.meanwhile.take()
        {
            act();
        }
        self.inner.begin(mode)
    }
    fn commit(&mut self) -> Result<(), BoxError> {
        self.inner.commit()
    }
    fn rollback(&mut self) -> Result<(), BoxError> {
        self.inner.rollback()
    }
    fn end_run(&mut self) -> Result<(), BoxError> {
        self.inner.end_run()
    }
    fn db(&mut self) -> &mut dyn Db {
        self.inner.db()
    }
    fn prepare_code(
        &mut self,
        migration: &RegisteredMigration,
        scope: CodeScope,
    ) -> Result<(), BoxError> {
        self.inner.prepare_code(migration, scope)
    }
    fn verify(&mut self) -> Result<(), BoxError> {
        self.inner.verify()
    }
    fn sessions(&mut self) -> Result<&mut dyn migrate_core::Sessions, migrate_core::Unsupported> {
        self.inner.sessions()
    }
}

fn interleaved(path: &Path, meanwhile: impl FnMut()) -> Interleaved<impl FnMut()> {
    Interleaved {
        inner: Sqlite::open(path).unwrap(),
        meanwhile: Some(meanwhile),
        act_at: None,
    }
}

/// `clear_incomplete` deleted the row it had read as incomplete, although the process
/// running the migration had finished it in between: the finished row went, and the next
/// run applied the migration a second time. Now it decides again under the lock.
#[test]
fn clear_incomplete_never_removes_a_row_that_was_finished_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("clear.db");
    all()
        .to_version(&mut Sqlite::open(&path).unwrap(), 1102)
        .unwrap();
    // 1103 started and not finished, as a process running it would leave it.
    Connection::open(&path)
        .unwrap()
        .execute_batch(
            "INSERT INTO migrate_history (migration_set, version, description, type_name, \
             checksum, applied_at, duration_us, complete) \
             SELECT '', 1103, 'Backfill outside a transaction', 'Backfill', checksum, \
             '2026-12-01T00:00:00.000Z', 0, 0 FROM migrate_history WHERE version = 1102",
        )
        .unwrap();
    let finished = Backfill::get_migration().checksum();
    let finish = || {
        // The running process finishes: its row becomes complete.
        Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE migrate_history SET complete = 1, checksum = ?1 WHERE version = 1103",
                [finished],
            )
            .unwrap();
    };
    let cleared = all()
        .clear_incomplete(&mut interleaved(&path, finish), 1103)
        .unwrap();
    assert_eq!(cleared, None, "nothing incomplete once the lock is held");
    assert_eq!(history(&path), [(1101, true), (1102, true), (1103, true)]);
}

/// A run restricted to applying (the command line's `up --to 1102`) planned before the
/// lock; meanwhile another process applied 1103; the plan made again under the lock
/// reverted it. Now the restriction is part of what is decided under the lock.
#[test]
fn a_run_that_only_applies_never_reverts_what_another_process_applied_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("direction.db");
    all()
        .to_version(&mut Sqlite::open(&path).unwrap(), 1101)
        .unwrap();
    let other = || {
        all().to_latest(&mut Sqlite::open(&path).unwrap()).unwrap();
    };
    let up_only = all().only_direction(Direction::Up);
    let error = up_only
        .to_version(&mut interleaved(&path, other), 1102)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::WrongDirection {
                migration: migrate_core::MigrationRef { version: 1103, .. },
                direction: Direction::Down,
                target: 1102,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(history(&path), [(1101, true), (1102, true), (1103, true)]);
    assert_eq!(ledger(&path), [1101, 1102, 1103]);

    // And the other way: a run that only reverts never applies.
    let down = dir.path().join("down.db");
    all().to_latest(&mut Sqlite::open(&down).unwrap()).unwrap();
    let other = || {
        all()
            .to_version(&mut Sqlite::open(&down).unwrap(), 0)
            .unwrap();
    };
    let error = all()
        .only_direction(Direction::Down)
        .to_version(&mut interleaved(&down, other), 1102)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::WrongDirection {
                direction: Direction::Up,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(history(&down).is_empty(), "nothing applied");
}

fn flag_exists(context: &mut migrate_sqlite::PlanContext<'_>) -> Result<bool, BoxError> {
    use migrate_sqlite::SqliteExt;
    let flag: i64 = context.db().sqlite()?.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name = 'flag'",
        [],
        |row| row.get(0),
    )?;
    Ok(flag == 1)
}

#[migration(version = 1104, description = "Use the flag", irreversible, when = flag_exists)]
struct UseFlag;

impl Migration for UseFlag {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO flag VALUES (1)")
    }
}

/// A condition is evaluated in a read-only transaction of its own, and the migration's
/// write transaction comes after it: another connection that commits in between (here,
/// creating what the condition looks for) makes the write transaction find the history
/// changed, and the run decides again, never recording a verdict on a database that is no
/// longer the one it was made on.
#[test]
fn a_commit_between_a_condition_and_its_migration_makes_the_run_decide_again() {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("condition_window.db");
    let migrator = Migrator::new()
        .register_migrations([CreateLedger::get_migration(), UseFlag::get_migration()])
        .unwrap();
    migrator
        .to_version(&mut Sqlite::open(&path).unwrap(), 1101)
        .unwrap();
    let create_flag = || {
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE flag (id INTEGER)")
            .unwrap();
    };
    let mut backend = interleaved(&path, create_flag);
    // Between the condition's read-only transaction (no flag: skip) and the write.
    backend.act_at = Some(TxMode::Write);
    let report = migrator.to_latest(&mut backend).unwrap();
    let done: Vec<_> = report
        .steps
        .iter()
        .map(|s| (s.version, s.skipped.clone()))
        .collect();
    assert_eq!(done, [(1104, None)], "decided again, on the flag now there");
    assert_eq!(history(&path), [(1101, true), (1104, true)]);
    let skipped: i64 = Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM migrate_history WHERE checksum LIKE 'skipped:%'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(skipped, 0, "applied, not recorded as skipped");
}
