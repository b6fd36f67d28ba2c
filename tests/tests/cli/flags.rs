//! The names of the command line's global options, run as a process on real SQLite
//! files: `--lock-wait` (the wait for another process's lock, which `--lock-timeout` used
//! to name, a name kept as a hidden alias: the attribute's `lock_timeout` is a different
//! setting), and `--database-url` (what sqlx-cli and diesel users type) as another name
//! of `--database`.

use crate::run::{Run, command};
use std::path::Path;
use std::time::{Duration, Instant};

use migrate_sqlite::rusqlite::Connection;

/// The chat bot's `migrate ARGS`, in this package's folder, without `DATABASE_URL`.
fn migrate(args: &[&str]) -> Run {
    command(
        env!("CARGO_BIN_EXE_migrate"),
        Path::new(env!("CARGO_MANIFEST_DIR")),
        args,
    )
}

fn path(db: &Path) -> &str {
    db.to_str().expect("a UTF-8 temporary path")
}

/// The versions the history table records as applied.
fn applied(db: &Path) -> Vec<i64> {
    let conn = Connection::open(db).unwrap();
    let mut statement = conn
        .prepare("SELECT version FROM migrate_history ORDER BY version")
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// With the database's lock held by another process (this one), `up --lock-wait 0.5s`
/// gives up long before the default minute, and says to wait longer with `--lock-wait`;
/// the old name `--lock-timeout` does the same, before the command or after it.
#[test]
fn lock_wait_and_its_old_name_bound_the_wait_for_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    migrate(&["--database", path(&db), "up", "--to", "2"]).ok();
    let holder = Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    for args in [
        ["--lock-wait", "0.5s", "up"],
        ["--lock-timeout", "0.5s", "up"],
        ["up", "--lock-wait", "0.5s"],
        ["up", "--lock-timeout", "0.5s"],
    ] {
        let mut all = vec!["--database", path(&db)];
        all.extend(args);
        let started = Instant::now();
        let run = migrate(&all).code(1);
        let waited = started.elapsed();
        // Generous: the default would wait a minute.
        assert!(waited < Duration::from_secs(30), "{args:?}: {waited:?}");
        let first = run.stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("error: database is locked: another process holds")
                && first.contains("pass `--lock-wait` to wait longer")
                && !first.contains("--lock-timeout"),
            "{args:?}: {run:?}"
        );
    }
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(applied(&db), [1, 2]);
    migrate(&["--database", path(&db), "--lock-wait", "10s", "up"]).ok();
    assert_eq!(applied(&db), [1, 2, 3]);
}

/// `--help` shows `--lock-wait` and not the old name; a value it cannot read is a
/// usage error under either name, saying what to write.
#[test]
fn help_shows_lock_wait_and_both_names_check_the_value() {
    let help = migrate(&["--help"]).ok();
    assert!(help.stdout.contains("--lock-wait <DURATION>"), "{help:?}");
    assert!(!help.stdout.contains("--lock-timeout"), "{help:?}");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    for name in ["--lock-wait", "--lock-timeout"] {
        let run = migrate(&["--database", path(&db), &format!("{name}=1h"), "up"]).code(2);
        assert!(
            run.stderr.contains("--lock-wait") && run.stderr.contains("500ms, 2s, 5m"),
            "{name}: {run:?}"
        );
    }
    assert!(!db.exists(), "a usage error created the database");
}

/// `--database-url URL` is `--database URL`: before the command or after it, and with
/// the same refusal beside `--each` (which names the databases itself).
#[test]
fn database_url_is_another_name_of_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let up = migrate(&["--database-url", path(&db), "up", "--to", "2"]).ok();
    assert!(up.stdout.contains("done: 2 migrations"), "{up:?}");
    assert_eq!(applied(&db), [1, 2]);
    let url = format!("sqlite://{}", path(&db));
    migrate(&["up", "--database-url", &url]).ok();
    assert_eq!(applied(&db), [1, 2, 3]);
    let status = migrate(&["status", "--check", "--database-url", &url]).ok();
    assert!(status.stdout.contains("applied"), "{status:?}");

    let each = migrate(&["--database-url", path(&db), "up", "--each", path(&db)]).code(2);
    assert!(
        each.stderr
            .contains("--each names the databases to migrate, and --database names one more"),
        "{each:?}"
    );
}
