//! Concurrent runs against one SQLite file, from threads with their own connections and
//! from separate processes: every migration is applied exactly once, nobody fails (they
//! wait for the write lock), and the history is complete and ordered.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Barrier};

mod migrations;

use migrations::migrate;

/// The versions of `migrations.rs`.
const ALL: std::ops::RangeInclusive<u64> = 201..=212;

use migrate_sqlite::Sqlite;

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

#[test]
fn processes_apply_each_migration_once() {
    const PROCESSES: usize = 6;
    const ROUNDS: usize = 3;
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_sqlite_child"))
                    .arg("concurrency")
                    .arg(&path)
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
