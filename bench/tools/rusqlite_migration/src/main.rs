//! rusqlite_migration, used as its README shows: `Migrations::new(vec![M::up(..), ..])`
//! and `to_latest`. Commands as the raw floor's (`version`, `apply PATH N delete|wal`,
//! `check PATH N`); `to_latest` always applies in one transaction and records only
//! `PRAGMA user_version`.

use std::time::Instant;

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let n: usize = arg(2).parse().unwrap_or(0);
    let sql: Vec<String> = (1..=n)
        .map(|i| format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT)"))
        .collect();
    match arg(0) {
        "version" => println!("sqlite={}", rusqlite::version()),
        "apply" => {
            let start = Instant::now();
            let mut conn = Connection::open(arg(1)).unwrap();
            if arg(3) == "wal" {
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
                    .unwrap();
            }
            let migrations = Migrations::new(sql.iter().map(|s| M::up(s)).collect());
            migrations.to_latest(&mut conn).unwrap();
            drop(conn);
            println!("ns={}", start.elapsed().as_nanos());
        }
        "check" => {
            let start = Instant::now();
            let mut conn = Connection::open(arg(1)).unwrap();
            let migrations = Migrations::new(sql.iter().map(|s| M::up(s)).collect());
            migrations.to_latest(&mut conn).unwrap();
            let elapsed = start.elapsed();
            assert_eq!(
                conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
                    .unwrap(),
                n as i64
            );
            println!("ns={}", elapsed.as_nanos());
        }
        other => panic!("unknown command {other:?}"),
    }
}
