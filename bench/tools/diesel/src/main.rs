//! diesel_migrations (SQLite) as its docs show: `embed_migrations!("<folder>")` embeds a
//! folder of `<version>_<name>/up.sql` directories, and
//! `conn.run_pending_migrations(MIGRATIONS)` applies the pending ones, each in its own
//! transaction together with its row in `__diesel_schema_migrations`. Commands as the raw
//! floor's: `version`, `apply PATH N delete|wal`, `check PATH N`; on PostgreSQL (a
//! `PgConnection`, the same folders): `pg-apply URL N`, `pg-check URL N`.

use std::time::Instant;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const N10: EmbeddedMigrations = embed_migrations!("migrations/n10");
const N100: EmbeddedMigrations = embed_migrations!("migrations/n100");
const N1000: EmbeddedMigrations = embed_migrations!("migrations/n1000");

fn migrations(n: usize) -> EmbeddedMigrations {
    match n {
        10 => N10,
        100 => N100,
        1000 => N1000,
        other => panic!("no migrations of {other}"),
    }
}

#[derive(QueryableByName)]
struct Text1 {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    match arg(0) {
        "version" => {
            let mut conn = SqliteConnection::establish(":memory:").unwrap();
            let version: Text1 = diesel::sql_query("SELECT sqlite_version() AS value")
                .get_result(&mut conn)
                .unwrap();
            println!("sqlite={}", version.value);
        }
        "apply" => {
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            let mut conn = SqliteConnection::establish(arg(1)).unwrap();
            match arg(3) {
                "delete" => {}
                "wal" => {
                    let mode: JournalMode = diesel::sql_query("PRAGMA journal_mode = WAL")
                        .get_result(&mut conn)
                        .unwrap();
                    assert_eq!(mode.journal_mode, "wal");
                }
                other => panic!("delete or wal, not {other:?}"),
            }
            apply(start, conn, n);
        }
        "check" => {
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            check(start, SqliteConnection::establish(arg(1)).unwrap(), n);
        }
        "pg-apply" => {
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            apply(start, PgConnection::establish(arg(1)).unwrap(), n);
        }
        "pg-check" => {
            let n: usize = arg(2).parse().expect("N");
            let start = Instant::now();
            check(start, PgConnection::establish(arg(1)).unwrap(), n);
        }
        other => panic!("unknown command {other:?}"),
    }
}

/// Applies the pending migrations of `n` on `conn` (connected since `start`), closes it,
/// and prints the time.
fn apply<C>(start: Instant, mut conn: C, n: usize)
where
    C: Connection + MigrationHarness<C::Backend>,
{
    let applied = conn.run_pending_migrations(migrations(n)).unwrap().len();
    drop(conn);
    let elapsed = start.elapsed();
    assert_eq!(applied, n);
    println!("ns={}", elapsed.as_nanos());
}

/// The start-up check on `conn` (connected since `start`): nothing pending; prints the time
/// and then, untimed, checks that the history holds `n` rows.
fn check<C>(start: Instant, mut conn: C, n: usize)
where
    C: Connection + MigrationHarness<C::Backend>,
    for<'a> diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'a, C, Count>,
{
    let applied = conn.run_pending_migrations(migrations(n)).unwrap().len();
    let elapsed = start.elapsed();
    assert_eq!(applied, 0);
    let rows: Count = diesel::sql_query("SELECT count(*) AS value FROM __diesel_schema_migrations")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(rows.value, n as i64);
    println!("ns={}", elapsed.as_nanos());
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = Text)]
    journal_mode: String,
}
