//! The busy timeout covers opening a database, not only the statements after it: a start
//! that finds the file under another process's exclusive lock waits for it (up to
//! `DEFAULT_BUSY_TIMEOUT`, 60 s) and then migrates; a program that chose a shorter
//! timeout with `Sqlite::open_with_busy_timeout` gets a database error once it has
//! passed.
//!
//! The lock holder is a process of its own (`src/bin/sqlite_lock_holder.rs`): in the
//! default rollback-journal mode `BEGIN EXCLUSIVE` takes SQLite's exclusive lock at once,
//! which keeps every other connection from reading the file, its header included.
//!
//! How this fails when the promise breaks (checked by reverting the fix in
//! `Sqlite::open`): the header read at open ran under rusqlite's own busy timeout of
//! 5 s, so the start with the default timeout failed with `database is locked` after 5 s
//! while the lock was held for 7 s.

use migrate_test_support as support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use migrate_sqlite::rusqlite::Connection;
use migrate_sqlite::{BoxError, DEFAULT_BUSY_TIMEOUT, Db, Error, Migration, Sqlite, migration};
use support::{TestDb, chain, with};

/// How long the child holds the exclusive lock: past rusqlite's default of 5 s.
const HOLD: Duration = Duration::from_secs(7);
/// rusqlite's own busy timeout, which used to govern the first read.
const RUSQLITE_DEFAULT: Duration = Duration::from_secs(5);

#[migration(
    version = 901,
    description = "Create accounts",
    irreversible,
    set = "lock_at_open"
)]
struct CreateAccounts;

impl Migration for CreateAccounts {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY)")
    }
}

#[test]
fn a_start_waits_for_an_exclusive_lock_at_open_up_to_its_busy_timeout() {
    let db = TestDb::named("locked.db");
    let setup = Connection::open(&db.path).unwrap();
    setup
        .execute_batch("CREATE TABLE existing (id INTEGER PRIMARY KEY)")
        .unwrap();
    let journal_mode: String = setup
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    drop(setup);
    assert_eq!(journal_mode, "delete", "the rollback journal");

    let mut holder = Command::new(env!("CARGO_BIN_EXE_sqlite_lock_holder"))
        .arg(&db.path)
        .arg("EXCLUSIVE")
        .env("MIGRATE_TEST_LOCK_HOLD_MS", HOLD.as_millis().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(holder.stdout.take().unwrap()).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("locked") => break,
            Some(Ok(_)) => {}
            other => {
                let output = holder.wait_with_output().unwrap();
                panic!(
                    "the lock holder ended before it held the lock: {other:?}\n{}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }

    // A program that chose a short timeout, at the same time: fails once it has passed
    // (well before rusqlite's 5 s), with the database error.
    let short = {
        let path = db.path.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let result = Sqlite::open_with_busy_timeout(&path, Duration::from_secs(1));
            (result.err(), started.elapsed())
        })
    };

    // The default: waits for the lock, then migrates.
    let started = Instant::now();
    let mut sqlite = Sqlite::open(&db.path).unwrap_or_else(|error| {
        panic!(
            "the start gave up after {:?} while the lock was held: {}",
            started.elapsed(),
            chain(&error)
        )
    });
    let waited = started.elapsed();
    let migrator = with(&[CreateAccounts::get_migration()]);
    let report = migrator.to_latest(&mut sqlite).unwrap();
    assert_eq!(report.steps.len(), 1);
    assert!(
        waited > RUSQLITE_DEFAULT,
        "the open waited {waited:?}, so the lock was not held past 5 s: the test proves nothing"
    );
    assert!(waited < DEFAULT_BUSY_TIMEOUT);
    drop(sqlite);
    assert_eq!(db.applied(&migrator), [901]);

    let (error, gave_up_after) = short.join().unwrap();
    let error = error.expect("the open with a 1 s timeout succeeded under the lock");
    let text = chain(&error);
    assert!(matches!(error, Error::Database { .. }), "{error:?}");
    assert!(
        text.contains("database is locked"),
        "SQLite's message: {text}"
    );
    assert!(text.contains("locked.db"), "names the file: {text}");
    assert!(
        gave_up_after >= Duration::from_millis(900) && gave_up_after < RUSQLITE_DEFAULT,
        "the open with a 1 s timeout gave up after {gave_up_after:?}"
    );

    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let output = holder.wait_with_output().unwrap();
    assert!(
        output.status.success() && rest.iter().any(|line| line.contains("released")),
        "the lock holder failed: {rest:?}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!(
        "lock at open: the default start waited {waited:?} for a {HOLD:?} exclusive lock, then \
         migrated; the start with a 1 s timeout gave up after {gave_up_after:?}"
    );
}

/// The timeout a program chose is the connection's from the first read on, and
/// `Sqlite::open` sets migrate's default.
#[test]
fn the_open_timeout_stays_the_connections_busy_timeout() {
    let db = TestDb::named("timeouts.db");
    let busy_ms = |sqlite: &Sqlite| -> i64 {
        sqlite
            .connection()
            .query_row("PRAGMA busy_timeout", [], |row| row.get(0))
            .unwrap()
    };
    assert_eq!(busy_ms(&db.open()), 60_000);
    let chosen = Sqlite::open_with_busy_timeout(&db.path, Duration::from_millis(1_500)).unwrap();
    assert_eq!(busy_ms(&chosen), 1_500);
}
