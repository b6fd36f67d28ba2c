//! Eight processes start migrating the same fresh SQLite file at the same instant, with a
//! conditional migration among the migrations: its condition is evaluated under the write
//! lock, so it is recorded as skipped exactly once while it is false, and, once the
//! parent makes it true, applied exactly once by the next eight racing processes.
//!
//! The children are processes of their own (`src/bin/sqlite_child.rs`, with the
//! migrations of `migrations.rs`), started together by a `go` file as in
//! `concurrency_processes.rs`.
//!
//! The decision rests on the same check as every step: the condition is evaluated after
//! `begin` found the history unchanged since the plan, holding the lock. Checked on a
//! scratch copy: with `Sqlite::begin` always reporting the history current, the round
//! fails at once (children plan from a stale read and collide).

use migrate_test_support as support;

use std::path::Path;
use std::process::Command;

mod migrations;

use migrations::WhenFlagged;

use migrate_sqlite::Sqlite;

/// Starts eight children on `path`, lets them go at once, and sums what they report.
fn race(path: &Path, go: &Path) -> (usize, usize) {
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut command = Command::new(env!("CARGO_BIN_EXE_sqlite_child"));
            command.arg("concurrency_conditions").arg(path).arg(go);
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
