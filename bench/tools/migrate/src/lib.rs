//! What the binaries share: the migration generator and the commands.
//!
//! The command `proto-discover` is not migrate's API: it is the discovery sort in bench
//! code, measured in the same run as the library's.

use std::cmp::Ordering;
use std::time::Instant;

pub use migrate_postgres;
pub use migrate_sqlite;
use migrate_sqlite::rusqlite::{self, Connection};
use migrate_sqlite::{Migrator, RegisteredMigration, Sqlite};

/// `table_migrations! { T1 = 1, T2 = 2 }`: one migration per entry, each a struct with
/// `#[migration]` whose `up` creates table `t_<version>`, as a user would write them.
#[macro_export]
macro_rules! table_migrations {
    ($($name:ident = $version:literal),* $(,)?) => {
        $(
            #[$crate::migrate_sqlite::migration(version = $version, description = "Create a table", irreversible)]
            pub struct $name;

            impl $crate::migrate_sqlite::Migration for $name {
                fn up(&self, db: &mut dyn $crate::migrate_sqlite::Db) -> Result<(), $crate::migrate_sqlite::BoxError> {
                    db.execute(concat!("CREATE TABLE t_", stringify!($version), " (id INTEGER PRIMARY KEY, v TEXT)"))
                }
            }
        )*
    };
}

/// `pg_table_migrations! { T1 = 1, T2 = 2 }`: the same migrations for PostgreSQL, with
/// migrate-postgres's `#[migration]` (the `migrate-pg-n*` binaries).
#[macro_export]
macro_rules! pg_table_migrations {
    ($($name:ident = $version:literal),* $(,)?) => {
        $(
            #[$crate::migrate_postgres::migration(version = $version, description = "Create a table", irreversible)]
            pub struct $name;

            impl $crate::migrate_postgres::Migration for $name {
                fn up(&self, db: &mut dyn $crate::migrate_postgres::Db) -> Result<(), $crate::migrate_postgres::BoxError> {
                    db.execute(concat!("CREATE TABLE t_", stringify!($version), " (id INTEGER PRIMARY KEY, v TEXT)"))
                }
            }
        )*
    };
}

/// The commands of the PostgreSQL binaries (`migrate-pg-n*`), each timed from before
/// `Postgres::connect` to after the connection is closed (apply) or the answer is known
/// (check):
///
/// - `pg-apply URL N`: `Migrator::discovered()?.to_latest(..)` on an empty database, one
///   transaction per migration (the default).
/// - `pg-check URL N`: the start-up check: connect and `to_latest`, which finds nothing
///   to do.
///
/// Both print the time `Postgres::connect` took too (`connect_ns`).
pub fn pg_main() {
    use migrate_postgres::{Migrator, Postgres};

    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let n: usize = arg(2).parse().expect("N");
    let start = Instant::now();
    let mut db = Postgres::connect(arg(1)).unwrap();
    let connected = start.elapsed();
    let migrator = Migrator::discovered().unwrap();
    assert_eq!(migrator.migrations().len(), n);
    let report = migrator.to_latest(&mut db).unwrap();
    let elapsed = match arg(0) {
        "pg-apply" => {
            drop(db);
            let elapsed = start.elapsed();
            assert_eq!(report.steps.len(), n);
            elapsed
        }
        "pg-check" => {
            let elapsed = start.elapsed();
            assert!(report.is_empty());
            drop(db);
            elapsed
        }
        other => panic!("pg-apply or pg-check, not {other:?}"),
    };
    println!("ns={}", elapsed.as_nanos());
    println!("connect_ns={}", connected.as_nanos());
}

/// The commands of every binary (each binary registers a different number of migrations):
///
/// - `version`: the SQLite version linked.
/// - `apply PATH N delete|wal per|aon [fast]`: `Migrator::discovered()?.to_latest(..)` on a
///   fresh file, one transaction per migration (`per`) or all-or-nothing (`aon`); with
///   `fast`, on `Sqlite::fast_start(true)`, so the file holds the fingerprint a fast start
///   reads.
/// - `check PATH N`: the start-up check as a program gets it by default: open and
///   `to_latest`, which finds nothing to do (the narrow read of the history).
/// - `check-fast PATH N`: the same with `Sqlite::fast_start(true)` (opt-in), on a file
///   applied with `fast`: two header fields instead of the history.
/// - `discover N`: `discovered_migrations()`, the first call in this process, then
///   `Migrator::discovered()`, then the same sort and check again, warm.
/// - `proto-discover N`: discovery as proposed (no zero-length `memcmp` in the sort).
/// - `loop-check PATH REPEATS [fast]`: the start-up check again and again, for a profiler:
///   the default, or with `fast` the opt-in fast start.
/// - `fk-setup PATH ROWS`: a database for `fk-one`: `parents` (1,000 rows) and `children`
///   (`ROWS` rows, each referring to a parent), written in one transaction.
/// - `fk-one PATH`: one migration (version 1, `CREATE TABLE t_1`) with foreign keys
///   enforced (the bundled SQLite's default), on a database made by `fk-setup`: the
///   foreign-key check after it must not read `children`, which it does not touch.
pub fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    match arg(0) {
        "version" => println!("sqlite={}", rusqlite::version()),
        "apply" => {
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            let conn = Connection::open(arg(1)).unwrap();
            match arg(3) {
                "delete" => {}
                "wal" => {
                    let mode: String = conn
                        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
                        .unwrap();
                    assert_eq!(mode, "wal");
                }
                other => panic!("delete or wal, not {other:?}"),
            }
            let fast = match arg(5) {
                "" => false,
                "fast" => true,
                other => panic!("fast or nothing, not {other:?}"),
            };
            let mut db = Sqlite::from_connection(conn).unwrap().fast_start(fast);
            let migrator = Migrator::discovered()
                .unwrap()
                .all_or_nothing(match arg(4) {
                    "per" => false,
                    "aon" => true,
                    other => panic!("per or aon, not {other:?}"),
                });
            let report = migrator.to_latest(&mut db).unwrap();
            drop(db);
            let elapsed = start.elapsed();
            assert_eq!(report.steps.len(), n);
            println!("ns={}", elapsed.as_nanos());
        }
        "check" => {
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            let mut db = Sqlite::open(arg(1)).unwrap();
            let migrator = Migrator::discovered().unwrap();
            let report = migrator.to_latest(&mut db).unwrap();
            let elapsed = start.elapsed();
            assert!(report.is_empty());
            assert_eq!(migrator.migrations().len(), n);
            println!("ns={}", elapsed.as_nanos());
        }
        "check-fast" => {
            // The opt-in fast start, on a file applied with `fast`.
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            let mut db = Sqlite::open(arg(1)).unwrap().fast_start(true);
            let migrator = Migrator::discovered().unwrap();
            let report = migrator.to_latest(&mut db).unwrap();
            let elapsed = start.elapsed();
            assert!(report.is_empty());
            assert_eq!(migrator.migrations().len(), n);
            // Outside the timing: the file holds a fingerprint (a file without one would
            // measure the full check under this row's name).
            let stored: i32 = db
                .connection()
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .unwrap();
            assert_ne!(
                stored, 0,
                "no fingerprint stored: apply this file with `fast`"
            );
            println!("ns={}", elapsed.as_nanos());
        }
        "discover" => {
            let n: usize = arg(1).parse().expect("N");
            let start = Instant::now();
            let found = migrate_sqlite::discovered_migrations().unwrap();
            let elapsed = start.elapsed();
            assert_eq!(found.len(), n);
            let start = Instant::now();
            let migrator = Migrator::discovered().unwrap();
            let again = start.elapsed();
            assert_eq!(migrator.migrations().len(), n);
            // The same sort and check once more, warm: the first call's time is not page
            // faults.
            let registry = &migrate_sqlite::__private::MIGRATIONS;
            let start = Instant::now();
            let warm = Migrator::new()
                .register_migrations(registry.iter())
                .unwrap();
            let warm_ns = start.elapsed();
            assert_eq!(warm.migrations().len(), n);
            println!("ns={}", elapsed.as_nanos());
            println!("migrator_discovered_ns={}", again.as_nanos());
            println!("warm_ns={}", warm_ns.as_nanos());
            println!("empty_str_cmp_ns={}", empty_str_cmp_ns());
        }
        "proto-discover" => {
            let n: usize = arg(1).parse().expect("N");
            let start = Instant::now();
            let found = proposed_discovery();
            let elapsed = start.elapsed();
            assert_eq!(found.len(), n);
            println!("ns={}", elapsed.as_nanos());
        }
        "loop-check" => {
            let repeats: usize = arg(2).parse().expect("REPEATS");
            for _ in 0..repeats {
                let mut db = Sqlite::open(arg(1)).unwrap().fast_start(match arg(3) {
                    "" => false,
                    "fast" => true,
                    other => panic!("fast or nothing, not {other:?}"),
                });
                assert!(
                    Migrator::discovered()
                        .unwrap()
                        .to_latest(&mut db)
                        .unwrap()
                        .is_empty()
                );
            }
        }
        "fk-setup" => {
            let rows: i64 = arg(2).parse().expect("ROWS");
            let conn = Connection::open(arg(1)).unwrap();
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE parents (id INTEGER PRIMARY KEY, name TEXT);
                 CREATE TABLE children (id INTEGER PRIMARY KEY,
                     parent_id INTEGER NOT NULL REFERENCES parents (id), body TEXT);
                 CREATE INDEX children_parent ON children (parent_id);
                 WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
                 INSERT INTO parents (id, name) SELECT i, 'parent ' || i FROM n;",
            )
            .unwrap();
            conn.execute(
                "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
                 INSERT INTO children (id, parent_id, body) SELECT i, 1 + i % 1000, 'row ' || i FROM n",
                [rows],
            )
            .unwrap();
            conn.execute_batch("COMMIT").unwrap();
        }
        "fk-one" => {
            let start = Instant::now();
            let conn = Connection::open(arg(1)).unwrap();
            let enforced: bool = conn
                .query_row("PRAGMA foreign_keys", [], |row| row.get(0))
                .unwrap();
            assert!(
                enforced,
                "the bundled SQLite enforces foreign keys by default"
            );
            let mut db = Sqlite::from_connection(conn).unwrap();
            let first = migrate_sqlite::__private::MIGRATIONS
                .iter()
                .filter(|m| m.version() == 1);
            let migrator = Migrator::new().register_migrations(first).unwrap();
            let report = migrator.to_latest(&mut db).unwrap();
            drop(db);
            let elapsed = start.elapsed();
            assert_eq!(report.steps.len(), 1);
            println!("ns={}", elapsed.as_nanos());
        }
        other => panic!("unknown command {other:?}"),
    }
}

/// What one comparison of two empty `&str`s costs here, in ns: `str::cmp` calls `memcmp`
/// with length 0, which on this machine's glibc is slow.
fn empty_str_cmp_ns() -> u128 {
    let (a, b) = (std::hint::black_box(""), std::hint::black_box(""));
    let start = Instant::now();
    let mut equal = 0u32;
    for _ in 0..100_000 {
        equal += u32::from(std::hint::black_box(a).cmp(std::hint::black_box(b)) == Ordering::Equal);
    }
    assert_eq!(equal, 100_000);
    start.elapsed().as_nanos() / 100_000
}

/// Set names compared without a zero-length `memcmp`: nearly every migration is in the
/// default set `""`.
fn set_order(a: &str, b: &str) -> Ordering {
    if a.len() == b.len() && a.bytes().eq(b.bytes()) {
        Ordering::Equal
    } else {
        a.cmp(b)
    }
}

/// Discovery as proposed: the same order and duplicate check as `discover::validate`,
/// with the set names compared by [`set_order`].
fn proposed_discovery() -> Vec<&'static RegisteredMigration> {
    let mut list: Vec<&'static RegisteredMigration> =
        migrate_sqlite::__private::MIGRATIONS.iter().collect();
    list.sort_unstable_by(|a, b| {
        set_order(a.set(), b.set())
            .then(a.version().cmp(&b.version()))
            .then_with(|| (a.file(), a.line()).cmp(&(b.file(), b.line())))
    });
    for pair in list.windows(2) {
        assert!(
            pair[0].version() != pair[1].version()
                || set_order(pair[0].set(), pair[1].set()).is_ne(),
            "duplicate version"
        );
    }
    list
}
