//! Holds a lock on a SQLite database for the tests of another process's lock: the child
//! process of `cli::io_errors` and `sqlite::lock_at_open`, reached through
//! `CARGO_BIN_EXE_sqlite_lock_holder`.
//!
//! `sqlite_lock_holder DB MODE` opens `DB`, runs `BEGIN MODE` (`EXCLUSIVE`: no one reads;
//! `IMMEDIATE`: no one writes) and a read, which makes SQLite take the lock `BEGIN`
//! names whatever its journal mode, then prints `locked` (and creates the file in
//! `MIGRATE_TEST_LOCK_READY`, if set). It lets the lock go when the file in
//! `MIGRATE_TEST_LOCK_RELEASE` exists, or after `MIGRATE_TEST_LOCK_HOLD_MS`
//! milliseconds, at most after five minutes, and prints `released`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use migrate_sqlite::rusqlite::Connection;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(db), Some(mode)) = (args.next(), args.next()) else {
        panic!("usage: sqlite_lock_holder DB EXCLUSIVE|IMMEDIATE");
    };
    let mode = mode.into_string().expect("a UTF-8 lock mode");
    let release = std::env::var_os("MIGRATE_TEST_LOCK_RELEASE").map(PathBuf::from);
    let hold = std::env::var("MIGRATE_TEST_LOCK_HOLD_MS")
        .ok()
        .map(|ms| Duration::from_millis(ms.parse().expect("milliseconds")));
    assert!(
        release.is_some() || hold.is_some(),
        "MIGRATE_TEST_LOCK_RELEASE or MIGRATE_TEST_LOCK_HOLD_MS says when to let go"
    );

    let conn = Connection::open(db).expect("open the database");
    conn.execute_batch(&format!("BEGIN {mode}"))
        .expect("take the lock");
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
        row.get::<_, i64>(0)
    })
    .expect("read under the lock");
    println!("locked");
    if let Some(ready) = std::env::var_os("MIGRATE_TEST_LOCK_READY") {
        std::fs::write(ready, "").expect("say that the lock is held");
    }

    let start = Instant::now();
    let limit = hold.unwrap_or(Duration::from_secs(300));
    while start.elapsed() < limit && !release.as_ref().is_some_and(|file| file.exists()) {
        std::thread::sleep(Duration::from_millis(10));
    }
    conn.execute_batch("ROLLBACK").expect("let the lock go");
    println!("released");
}
