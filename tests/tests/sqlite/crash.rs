//! A migration run killed at a random moment (SIGKILL, no chance to clean up) leaves the
//! database consistent: every migration is either applied whole together with its
//! history row, or absent with no row; and the next run finishes the job.
//!
//! A child process (`src/bin/sqlite_child.rs`, with the migrations of `migrations.rs`)
//! migrates a file through 30 migrations, each of which creates a table, inserts rows, sleeps a
//! little and inserts more rows, so most kills land inside a migration's transaction.
//! The parent kills it after a pseudo-random delay, checks the file, then finishes the
//! run in-process. Done in the default rollback-journal mode and in WAL mode.
//!
//! How these tests fail when the promise breaks (checked on a scratch copy of the
//! workspace, both modes): with `Sqlite::begin` opening no transaction (each statement
//! commits by itself), the first or second trial finds `crash_N exists but migration N
//! has no history row`, a table holding half its rows; with the history row committed
//! in a transaction of its own right after the migration's (`COMMIT; BEGIN IMMEDIATE`
//! before the row's insert in `write_history`), trials 12 and 15 found a full table
//! without its row.

use migrate_test_support as support;

use std::io::{BufReader, Lines};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command};
use std::time::{Duration, Instant};

mod migrations;

use migrations::{ROWS, all, migrator};

use migrate_sqlite::Sqlite;
use migrate_sqlite::rusqlite::{self, OptionalExtension};

fn versions() -> Vec<u64> {
    all().iter().map(|m| m.version()).collect()
}

/// A child migrating `path`, started and past its start-up: it has printed `ready`.
/// Returns its stdout too, to be drained after the kill: dropping the pipe early would
/// make the child's next print fail.
fn spawn_child(path: &Path) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sqlite_child"));
    command.arg("crash").arg(path);
    support::spawn_ready(command)
}

/// Kills `child` (a no-op when it has exited already), drains its output, and returns
/// its exit status with its stderr.
fn kill_and_reap(
    mut child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
) -> (std::process::ExitStatus, String) {
    child.kill().unwrap();
    stdout.for_each(drop);
    let output = child.wait_with_output().unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// xorshift64*: a small deterministic PRNG, seeded per trial (the delay of a trial is
/// the same in every run of the test; where it lands in the child's run is not).
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // Spread small seeds; never zero.
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// What a killed run left: the history's versions, after checking that every migration
/// is either applied whole with its row, or absent with none. Opening the file is what
/// makes SQLite roll back the hot journal (or recover the WAL) the kill left behind.
fn check_consistent(path: &Path, trial: usize) -> Vec<u64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "trial {trial}: the file is damaged");
    let table_exists = |name: &str| -> bool {
        conn.query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |_| Ok(()),
        )
        .optional()
        .unwrap()
        .is_some()
    };
    let history: Vec<u64> = if table_exists("migrate_history") {
        conn.prepare("SELECT version FROM migrate_history ORDER BY version")
            .unwrap()
            .query_map([], |row| row.get::<_, i64>(0))
            .unwrap()
            .map(|v| u64::try_from(v.unwrap()).unwrap())
            .collect()
    } else {
        Vec::new()
    };
    let known = versions();
    assert_eq!(
        history,
        known[..history.len()],
        "trial {trial}: the history is not a prefix of the known versions"
    );
    for &version in &known {
        let table = format!("crash_{version}");
        let recorded = history.contains(&version);
        if table_exists(&table) {
            assert!(
                recorded,
                "trial {trial}: {table} exists but migration {version} has no history row \
                 (history: {history:?})"
            );
            let (count, sum): (i64, i64) = conn
                .query_row(
                    &format!(
                        "SELECT count(*), ifnull(sum(i), 0) FROM {table} WHERE length(body) = 200"
                    ),
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .unwrap();
            assert_eq!(
                (count, sum),
                (ROWS, ROWS * (ROWS + 1) / 2),
                "trial {trial}: {table} is applied but not whole"
            );
        } else {
            assert!(
                !recorded,
                "trial {trial}: migration {version} has a history row but no {table}"
            );
        }
    }
    history
}

/// The rerun after a kill: applies exactly what is missing; then all are applied.
fn finish(path: &Path, applied: usize, trial: usize) {
    let mut db = Sqlite::open(path).unwrap();
    let report = migrator()
        .to_latest(&mut db)
        .unwrap_or_else(|e| panic!("trial {trial}: the rerun failed: {e}"));
    assert_eq!(
        report.steps.len(),
        versions().len() - applied,
        "trial {trial}"
    );
    drop(db);
    assert_eq!(check_consistent(path, trial), versions(), "trial {trial}");
}

fn kill_trials(wal: bool, trials: usize, seed: u64) {
    let mode = if wal { "WAL" } else { "rollback journal" };
    let started = Instant::now();
    let prepare = |path: &Path| {
        let conn = rusqlite::Connection::open(path).unwrap();
        let journal_mode: String = conn
            .query_row(
                if wal {
                    "PRAGMA journal_mode = WAL"
                } else {
                    "PRAGMA journal_mode"
                },
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(journal_mode, if wal { "wal" } else { "delete" });
    };

    // Calibration: how long an unkilled child takes from `ready` to its exit; the
    // fastest of three, so that a slow outlier does not push the kills past the end.
    let full_run = (0..3)
        .map(|run| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("calibrate.db");
            prepare(&path);
            let (mut child, stdout) = spawn_child(&path);
            let clock = Instant::now();
            let status = child.wait().unwrap();
            let elapsed = clock.elapsed();
            let (_, stderr) = kill_and_reap(child, stdout);
            assert!(
                status.success(),
                "calibration run {run} failed: {status}: {stderr}"
            );
            assert_eq!(check_consistent(&path, usize::MAX), versions());
            elapsed
        })
        .min()
        .unwrap();

    // Kill delays are drawn below this; a child that finishes before its kill shows a
    // run can be shorter, and lowers it (the machine's load changes while the test runs).
    let mut full_run_us = u64::try_from(full_run.as_micros()).unwrap();
    // Index n: kills that left exactly n migrations applied.
    let mut landed = vec![0usize; versions().len() + 1];
    let mut finished_first = 0;
    let mut hot_journals = 0;
    for trial in 0..trials {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crash.db");
        prepare(&path);
        let (child, stdout) = spawn_child(&path);
        let delay = Duration::from_micros(XorShift::new(seed + trial as u64).below(full_run_us));
        std::thread::sleep(delay);
        let (status, stderr) = kill_and_reap(child, stdout);
        if status.signal() != Some(9) {
            // It finished before the kill: fine, and counted apart.
            assert!(
                status.success(),
                "trial {trial}: the child failed on its own: {status}: {stderr}"
            );
            finished_first += 1;
            full_run_us = full_run_us.min(u64::try_from(delay.as_micros()).unwrap());
        }
        // A journal left behind means the kill landed inside a write transaction, which
        // opening the file rolls back (rollback-journal mode only: a WAL file is always
        // there).
        let journal = dir.path().join("crash.db-journal");
        if std::fs::metadata(&journal).is_ok_and(|m| m.len() > 0) {
            hot_journals += 1;
        }
        let applied = check_consistent(&path, trial).len();
        landed[applied] += 1;
        if wal {
            // Still WAL after the crash and recovery: the mode is stored in the file.
            let conn = rusqlite::Connection::open(&path).unwrap();
            let journal_mode: String = conn
                .query_row("PRAGMA journal_mode", [], |row| row.get(0))
                .unwrap();
            assert_eq!(journal_mode, "wal", "trial {trial}");
        }
        finish(&path, applied, trial);
    }

    let distribution: Vec<String> = landed
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(applied, n)| format!("{applied}:{n}"))
        .collect();
    let mid_run = landed[1..landed.len() - 1].iter().sum::<usize>();
    let lowered = if u128::from(full_run_us) < full_run.as_micros() {
        format!(
            ", then below {:?} after runs that finished first",
            Duration::from_micros(full_run_us)
        )
    } else {
        String::new()
    };
    let journals = if wal {
        String::new()
    } else {
        format!("{hot_journals} kills left a hot journal (landed inside a write transaction), ")
    };
    eprintln!(
        "crash summary ({mode}): {trials} trials, {} migrations per run, fastest unkilled \
         run {:?} (kill delays drawn below it{lowered}), kills after N applied (N:trials) [{}], {mid_run} kills with some but not \
         all applied, {finished_first} runs finished before the kill, {journals}every trial \
         consistent and completed by a rerun; {:?} in all",
        versions().len(),
        full_run,
        distribution.join(" "),
        started.elapsed(),
    );
    assert!(
        mid_run >= trials / 2,
        "too few kills landed mid-run ({mid_run} of {trials}): the delays do not fit the run"
    );
}

#[test]
fn a_killed_run_leaves_whole_migrations_only_rollback_journal() {
    kill_trials(false, 50, 0x5EED_0001);
}

#[test]
fn a_killed_run_leaves_whole_migrations_only_wal() {
    kill_trials(true, 50, 0x5EED_0002);
}
