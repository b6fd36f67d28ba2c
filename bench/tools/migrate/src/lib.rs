//! What the binaries share: the migration generator and the commands.
//!
//! The commands named `proto-*` are not migrate's API: they prototype, in bench code, the
//! library changes docs/performance.md proposes, so their expected effect is measured in
//! the same run as everything else.

use std::cmp::Ordering;
use std::time::Instant;

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

/// The commands of every binary (each binary registers a different number of migrations):
///
/// - `version`: the SQLite version linked.
/// - `apply PATH N delete|wal per|aon`: `Migrator::discovered()?.to_latest(..)` on a fresh
///   file, one transaction per migration (`per`) or all-or-nothing (`aon`).
/// - `check PATH N`: the start-up check: open and `to_latest`, which finds nothing to do
///   (with the fast start, as a program gets it by default).
/// - `check-full PATH N`: the same with `Sqlite::fast_start(false)`: the full check.
/// - `discover N`: `discovered_migrations()`, the first call in this process, then
///   `Migrator::discovered()`, then the same sort and check again, warm.
/// - `proto-discover N`: discovery as proposed (no zero-length `memcmp` in the sort).
/// - `proto-narrow PATH N`: the start-up check as proposed for the 1.10x target: discovery
///   as proposed, `PRAGMA data_version`, one `SELECT version, checksum, complete` of the set.
/// - `proto-fast PATH N`: the fast start with discovery as proposed (a copy of
///   migrate-core's fingerprint, checked against the one the database holds).
/// - `loop-check PATH REPEATS [full]`: the start-up check again and again, for a profiler.
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
            let mut db = Sqlite::from_connection(conn).unwrap();
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
        "check-full" => {
            // The same call with the fast start turned off: the full check, one read of the
            // history.
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            let mut db = Sqlite::open(arg(1)).unwrap().fast_start(false);
            let migrator = Migrator::discovered().unwrap();
            let report = migrator.to_latest(&mut db).unwrap();
            let elapsed = start.elapsed();
            assert!(report.is_empty());
            assert_eq!(migrator.migrations().len(), n);
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
            let warm = Migrator::new().register_migrations(registry.iter()).unwrap();
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
        "proto-narrow" => {
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            let db = Sqlite::open(arg(1)).unwrap();
            let known = proposed_discovery();
            let pending = narrow_check(db.connection(), &known);
            let elapsed = start.elapsed();
            assert_eq!((known.len(), pending), (n, 0));
            println!("ns={}", elapsed.as_nanos());
        }
        "proto-fast" => {
            // The fast start with discovery as proposed: open, discovery, one header read,
            // and the fingerprint of the known migrations computed as migrate-core does.
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            let db = Sqlite::open(arg(1)).unwrap();
            let known = proposed_discovery();
            let expected = fingerprint_of_known(&known);
            let stored: i32 = db
                .connection()
                .query_row("PRAGMA user_version", [], |row| row.get(0))
                .unwrap();
            let elapsed = start.elapsed();
            assert_eq!(known.len(), n);
            assert_eq!(stored.cast_unsigned(), expected, "not migrate-core's fingerprint");
            println!("ns={}", elapsed.as_nanos());
        }
        "loop-check" => {
            let repeats: usize = arg(2).parse().expect("REPEATS");
            for _ in 0..repeats {
                let mut db = Sqlite::open(arg(1)).unwrap().fast_start(arg(3) != "full");
                assert!(Migrator::discovered().unwrap().to_latest(&mut db).unwrap().is_empty());
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
            assert!(enforced, "the bundled SQLite enforces foreign keys by default");
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
            pair[0].version() != pair[1].version() || set_order(pair[0].set(), pair[1].set()).is_ne(),
            "duplicate version"
        );
    }
    list
}

/// The start-up check as proposed: one read of the columns the plan needs, filtered to the
/// set in SQL (the primary key is (set, version), so this is a range scan in order).
/// Returns how many known migrations are pending (a modified one panics: a refusal).
fn narrow_check(conn: &Connection, known: &[&'static RegisteredMigration]) -> usize {
    let _: i64 = conn
        .query_row("PRAGMA data_version", [], |row| row.get(0))
        .unwrap();
    let mut statement = conn
        .prepare_cached(
            "SELECT version, checksum, complete FROM \"migrate_history\" \
             WHERE migration_set = ?1 ORDER BY version",
        )
        .unwrap();
    let mut rows = statement.query([""]).unwrap();
    let mut known = known.iter().peekable();
    let mut pending = 0;
    while let Some(row) = rows.next().unwrap() {
        let version = u64::try_from(row.get::<_, i64>(0).unwrap()).unwrap();
        let checksum = row.get_ref(1).unwrap().as_str().unwrap();
        let complete: bool = row.get(2).unwrap();
        while known.next_if(|m| m.version() < version).is_some() {
            pending += 1;
        }
        let m = known.next().expect("an unknown applied migration: a refusal");
        assert_eq!(m.version(), version);
        assert!(complete && m.checksum() == checksum, "modified or incomplete: a refusal");
    }
    pending + known.count()
}

/// migrate-core's `fingerprint::of_known`, copied: a wrapping sum over the migrations of
/// FNV-1a over set, version and checksum, folded to 32 bits.
fn fingerprint_of_known(known: &[&'static RegisteredMigration]) -> u32 {
    let part = |set: &str, version: u64, checksum: &str| {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut write = |bytes: &[u8]| {
            for &byte in bytes {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            hash ^= 0xff;
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        };
        write(set.as_bytes());
        write(&version.to_le_bytes());
        write(checksum.as_bytes());
        (hash ^ (hash >> 32)) as u32
    };
    known
        .iter()
        .map(|m| part(m.set(), m.version(), m.checksum()))
        .fold(0, u32::wrapping_add)
}
