//! The raw rusqlite floors. Usage (every command prints one `key=value` line per figure):
//!
//! - `bench-raw version`: the SQLite version linked.
//! - `bench-raw noop`: nothing (the cost of starting a process).
//! - `bench-raw apply PATH N delete|wal per|one`: N `CREATE TABLE`s on a fresh file, each
//!   with a history row, in one transaction each (`per`) or all in one (`one`).
//! - `bench-raw check PATH N`: the start-up check: open, read the history once, compare.
//! - `bench-raw breakdown PATH REPEATS TABLE`: where a start-up check's time goes, on
//!   fresh connections in one process: open, header reads, schema load (preparing the
//!   first statement that names a table), and reading the rows of TABLE.
//! - `bench-raw pg-version URL`, `pg-admin URL create|drop NAME`, `pg-apply URL N
//!   per|one-trip`, `pg-check URL N`: the PostgreSQL floors (see `pg.rs`).

mod pg;

use std::time::Instant;

use rusqlite::Connection;

const HISTORY: &str = "CREATE TABLE IF NOT EXISTS history (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL)";
const INSERT: &str = "INSERT INTO history (version, description, checksum, applied_at) \
    VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    match arg(0) {
        "version" => println!("sqlite={}", rusqlite::version()),
        "noop" => println!("ns=0"),
        "apply" => {
            let n: usize = arg(2).parse().expect("N");
            let sql: Vec<String> = (1..=n)
                .map(|i| format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT)"))
                .collect();
            let start = Instant::now();
            let conn = Connection::open(arg(1)).unwrap();
            journal(&conn, arg(3));
            match arg(4) {
                "per" => apply_per_migration(&conn, &sql),
                "one" => apply_in_one(&conn, &sql),
                other => panic!("per or one, not {other:?}"),
            }
            drop(conn);
            println!("ns={}", start.elapsed().as_nanos());
        }
        "check" => {
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            let conn = Connection::open(arg(1)).unwrap();
            let rows = read_history(&conn);
            let pending = n - rows.len();
            let elapsed = start.elapsed();
            assert_all_applied(pending, &rows);
            println!("ns={}", elapsed.as_nanos());
        }
        "breakdown" => breakdown(arg(1), arg(2).parse().expect("REPEATS"), arg(3)),
        "pg-version" => pg::version(arg(1)),
        "pg-admin" => pg::admin(arg(1), arg(2), arg(3)),
        "pg-apply" => pg::apply(arg(1), arg(2).parse().expect("N"), arg(3)),
        "pg-check" => pg::check(arg(1), arg(2).parse().expect("N")),
        other => panic!("unknown command {other:?}"),
    }
}

/// After a timed check: nothing pending, and the history rows are versions 1..=N in order.
fn assert_all_applied(pending: usize, rows: &[(i64, String)]) {
    assert_eq!(pending, 0);
    assert!(
        rows.iter()
            .enumerate()
            .all(|(i, (v, _))| *v == i as i64 + 1)
    );
}

fn journal(conn: &Connection, mode: &str) {
    match mode {
        "delete" => {}
        "wal" => {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
        }
        other => panic!("delete or wal, not {other:?}"),
    }
}

fn apply_per_migration(conn: &Connection, sql: &[String]) {
    for (i, statement) in sql.iter().enumerate() {
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        if i == 0 {
            conn.execute_batch(HISTORY).unwrap();
        }
        conn.execute_batch(statement).unwrap();
        record(conn, i + 1);
        conn.execute_batch("COMMIT").unwrap();
    }
}

fn apply_in_one(conn: &Connection, sql: &[String]) {
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn.execute_batch(HISTORY).unwrap();
    for (i, statement) in sql.iter().enumerate() {
        conn.execute_batch(statement).unwrap();
        record(conn, i + 1);
    }
    conn.execute_batch("COMMIT").unwrap();
}

fn record(conn: &Connection, version: usize) {
    conn.prepare_cached(INSERT)
        .unwrap()
        .execute((version as i64, "Create a table", "0123456789abcdef"))
        .unwrap();
}

fn read_history(conn: &Connection) -> Vec<(i64, String)> {
    let mut statement = conn
        .prepare("SELECT version, checksum FROM history ORDER BY version")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Each step on a fresh connection, `repeats` times; prints the median of each in ns.
fn breakdown(path: &str, repeats: usize, table: &str) {
    let select = format!("SELECT * FROM \"{table}\"");
    let mut steps: Vec<(&str, Vec<u128>)> = [
        "open",
        "pragma_user_version",
        "pragma_data_version",
        "pragma_schema_version",
        "schema_load",
        "history_rows",
    ]
    .into_iter()
    .map(|name| (name, Vec::with_capacity(repeats)))
    .collect();
    for _ in 0..repeats {
        let t = Instant::now();
        let conn = Connection::open(path).unwrap();
        steps[0].1.push(t.elapsed().as_nanos());
        for (k, pragma) in [
            (1, "user_version"),
            (2, "data_version"),
            (3, "schema_version"),
        ] {
            let t = Instant::now();
            let _: i64 = conn
                .query_row(&format!("PRAGMA {pragma}"), [], |row| row.get(0))
                .unwrap();
            steps[k].1.push(t.elapsed().as_nanos());
        }
        // Preparing the first statement that names a table loads the whole schema.
        let t = Instant::now();
        let mut statement = conn.prepare(&select).unwrap();
        steps[4].1.push(t.elapsed().as_nanos());
        let t = Instant::now();
        let columns = statement.column_count();
        let rows: Vec<Vec<rusqlite::types::Value>> = statement
            .query_map([], |row| (0..columns).map(|i| row.get(i)).collect())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        steps[5].1.push(t.elapsed().as_nanos());
        assert!(!rows.is_empty());
    }
    for (name, mut times) in steps {
        times.sort_unstable();
        println!("{name}={}", times[times.len() / 2]);
    }
}
