//! sqlx (SQLite) as its docs show: `sqlx::migrate!("<folder>")` embeds a folder of `.sql`
//! files, and `MIGRATOR.run(&pool)` applies them, each in its own transaction, on a tokio
//! current-thread runtime. Commands as the raw floor's: `version`, `apply PATH N
//! delete|wal`, `check PATH N`; on PostgreSQL (the same folders, a `PgPool` of one
//! connection): `pg-apply URL N`, `pg-check URL N`.
//!
//! The fan-out benchmark's sequential loops, over the five migrations of
//! `migrations/fanout` (the SQL of `migrate-fanout`), one pool of one connection per
//! target, opened, migrated and closed before the next:
//! `sqlite-loop DIR COUNT` over the files `DIR/tenant00001.db` .. (created), and
//! `pg-loop URL PREFIX COUNT` over the schemas `PREFIX0001` .. (which must exist), each
//! connection's `search_path` set to its schema (the `options` of the connection string),
//! so the history and the tables go there.

use std::str::FromStr;
use std::time::Instant;

use sqlx::migrate::{Migrate, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{ColumnIndex, Database, Decode, Executor, IntoArguments, Pool, Type};

static N10: Migrator = sqlx::migrate!("migrations/n10");
static N100: Migrator = sqlx::migrate!("migrations/n100");
static N1000: Migrator = sqlx::migrate!("migrations/n1000");
static FANOUT: Migrator = sqlx::migrate!("migrations/fanout");

/// How many migrations `FANOUT` holds.
const FANOUT_MIGRATIONS: usize = 5;

fn migrator(n: usize) -> &'static Migrator {
    match n {
        10 => &N10,
        100 => &N100,
        1000 => &N1000,
        other => panic!("no migrator of {other} migrations"),
    }
}

async fn pool(path: &str, journal: &str, create: bool) -> SqlitePool {
    let mut options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
        .unwrap()
        .create_if_missing(create);
    if journal == "wal" {
        options = options.journal_mode(SqliteJournalMode::Wal);
    }
    SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap()
}

async fn pg_pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .unwrap()
}

/// Applies the migrations of `n` through `pool` (opened since `start`), closes it, and
/// prints the time.
async fn apply<DB: Database>(start: Instant, pool: Pool<DB>, n: usize)
where
    DB::Connection: Migrate,
{
    migrator(n).run(&pool).await.unwrap();
    pool.close().await;
    println!("ns={}", start.elapsed().as_nanos());
}

/// The start-up check through `pool` (opened since `start`): prints the time, then, untimed,
/// checks that the history holds `n` rows.
async fn check<DB: Database>(start: Instant, pool: Pool<DB>, n: usize)
where
    DB::Connection: Migrate,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    i64: Type<DB> + for<'r> Decode<'r, DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
{
    migrator(n).run(&pool).await.unwrap();
    let elapsed = start.elapsed();
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(applied, n as i64);
    pool.close().await;
    println!("ns={}", elapsed.as_nanos());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match arg(0) {
            "version" => {
                let pool = pool(":memory:", "", false).await;
                let version: String = sqlx::query_scalar("SELECT sqlite_version()")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                println!("sqlite={version}");
            }
            "apply" => {
                let n: usize = arg(2).parse().expect("N");
                let start = Instant::now();
                apply(start, pool(arg(1), arg(3), true).await, n).await;
            }
            "check" => {
                let n: usize = arg(2).parse().expect("N");
                let start = Instant::now();
                check(start, pool(arg(1), "", false).await, n).await;
            }
            "pg-apply" => {
                let n: usize = arg(2).parse().expect("N");
                let start = Instant::now();
                apply(start, pg_pool(arg(1)).await, n).await;
            }
            "pg-check" => {
                let n: usize = arg(2).parse().expect("N");
                let start = Instant::now();
                check(start, pg_pool(arg(1)).await, n).await;
            }
            "sqlite-loop" => {
                let count: usize = arg(2).parse().expect("COUNT");
                assert_eq!(FANOUT.iter().count(), FANOUT_MIGRATIONS);
                let start = Instant::now();
                for i in 1..=count {
                    let path = format!("{}/tenant{i:05}.db", arg(1));
                    let pool = pool(&path, "", true).await;
                    FANOUT.run(&pool).await.unwrap();
                    pool.close().await;
                }
                println!("ns={}", start.elapsed().as_nanos());
            }
            "pg-loop" => {
                let count: usize = arg(3).parse().expect("COUNT");
                assert_eq!(FANOUT.iter().count(), FANOUT_MIGRATIONS);
                let options = PgConnectOptions::from_str(arg(1)).unwrap();
                let start = Instant::now();
                for i in 1..=count {
                    let schema = format!("{}{i:04}", arg(2));
                    let pool = PgPoolOptions::new()
                        .max_connections(1)
                        .connect_with(options.clone().options([("search_path", &schema)]))
                        .await
                        .unwrap();
                    FANOUT.run(&pool).await.unwrap();
                    pool.close().await;
                }
                println!("ns={}", start.elapsed().as_nanos());
            }
            other => panic!("unknown command {other:?}"),
        }
    });
}
