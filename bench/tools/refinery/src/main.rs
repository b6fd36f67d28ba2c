//! refinery with migrations built in code, as its docs show:
//! `Runner::new(&[Migration::unapplied("V1__name", sql)?, ..]).run(&mut conn)`. Commands as
//! the raw floor's: `version`, `apply PATH N delete|wal per|one` (`one`:
//! `set_grouped(true)`, everything in one transaction), `check PATH N`; on PostgreSQL
//! (a `postgres::Client`, refinery's `postgres` feature): `pg-apply URL N` (one
//! transaction per migration, the default), `pg-check URL N`.

use std::time::Instant;

use refinery::{Migration, Runner};
use rusqlite::Connection;

// refinery re-exports no rusqlite; its own (with SQLite bundled) is the one linked. The
// same for its postgres.
use refinery_core::postgres::{self, NoTls};
use refinery_core::rusqlite;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let n: usize = arg(2).parse().unwrap_or(0);
    let sql: Vec<(String, String)> = (1..=n)
        .map(|i| {
            (
                format!("V{i}__create_t_{i}"),
                format!("CREATE TABLE t_{i} (id INTEGER PRIMARY KEY, v TEXT)"),
            )
        })
        .collect();
    let runner = || {
        let migrations: Vec<Migration> = sql
            .iter()
            .map(|(name, sql)| Migration::unapplied(name, sql).unwrap())
            .collect();
        Runner::new(&migrations)
    };
    match arg(0) {
        "version" => println!("sqlite={}", rusqlite::version()),
        "apply" => {
            let start = Instant::now();
            let mut conn = Connection::open(arg(1)).unwrap();
            if arg(3) == "wal" {
                let mode: String = conn
                    .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                    .unwrap();
                assert_eq!(mode, "wal");
            }
            let grouped = match arg(4) {
                "per" => false,
                "one" => true,
                other => panic!("per or one, not {other:?}"),
            };
            let report = runner().set_grouped(grouped).run(&mut conn).unwrap();
            drop(conn);
            let elapsed = start.elapsed();
            assert_eq!(report.applied_migrations().len(), n);
            println!("ns={}", elapsed.as_nanos());
        }
        "check" => {
            let start = Instant::now();
            let mut conn = Connection::open(arg(1)).unwrap();
            let report = runner().run(&mut conn).unwrap();
            let elapsed = start.elapsed();
            assert!(report.applied_migrations().is_empty());
            println!("ns={}", elapsed.as_nanos());
        }
        "pg-apply" => {
            let start = Instant::now();
            let mut client = postgres::Client::connect(arg(1), NoTls).unwrap();
            let report = runner().run(&mut client).unwrap();
            drop(client);
            let elapsed = start.elapsed();
            assert_eq!(report.applied_migrations().len(), n);
            println!("ns={}", elapsed.as_nanos());
        }
        "pg-check" => {
            let start = Instant::now();
            let mut client = postgres::Client::connect(arg(1), NoTls).unwrap();
            let report = runner().run(&mut client).unwrap();
            let elapsed = start.elapsed();
            assert!(report.applied_migrations().is_empty());
            println!("ns={}", elapsed.as_nanos());
        }
        other => panic!("unknown command {other:?}"),
    }
}
