//! Independent migrations at once (`Migrator::parallel`) on index builds: three
//! `CREATE INDEX CONCURRENTLY` migrations, each on a table of its own, none needing
//! another (`after = []`).
//!
//! - `setup URL ROWS`: the tables `big_a`, `big_b`, `big_c` with ROWS rows each (not
//!   timed, not a migration);
//! - `apply URL JOBS`: `to_latest` with `parallel(JOBS)` (1: one at a time), timed from
//!   connect to the end; prints `ns=` and each migration's duration.

use std::time::Instant;

use bench_migrate::migrate_postgres::{
    BoxError, Db, Migration, Migrator, Postgres, migration,
};

#[migration(version = 1, description = "Index big_a", irreversible, transaction = false, after = [])]
pub struct IndexA;

impl Migration for IndexA {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX CONCURRENTLY big_a_s ON big_a (s)")
    }
}

#[migration(version = 2, description = "Index big_b", irreversible, transaction = false, after = [])]
pub struct IndexB;

impl Migration for IndexB {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX CONCURRENTLY big_b_s ON big_b (s)")
    }
}

#[migration(version = 3, description = "Index big_c", irreversible, transaction = false, after = [])]
pub struct IndexC;

impl Migration for IndexC {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX CONCURRENTLY big_c_s ON big_c (s)")
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).expect("setup URL ROWS | apply URL JOBS");
    match arg(0) {
        "setup" => {
            let rows: u64 = arg(2).parse().expect("ROWS");
            let mut db = Postgres::connect(arg(1)).expect("connect");
            for table in ["big_a", "big_b", "big_c"] {
                for sql in [
                    format!(
                        "CREATE TABLE {table} AS SELECT g AS id, md5(g::text) AS s \
                         FROM generate_series(1, {rows}) g"
                    ),
                    format!("VACUUM ANALYZE {table}"),
                ] {
                    db.connection().batch_execute(&sql).expect("create a table");
                }
            }
        }
        "apply" => {
            let jobs: usize = arg(2).parse().expect("JOBS");
            let start = Instant::now();
            let mut db = Postgres::connect(arg(1)).expect("connect");
            let report = Migrator::discovered()
                .expect("discover")
                .parallel(jobs)
                .to_latest(&mut db)
                .expect("apply");
            let elapsed = start.elapsed();
            assert_eq!(report.steps.len(), 3, "{report:?}");
            println!("ns={}", elapsed.as_nanos());
            for step in &report.steps {
                println!("m{}_ns={}", step.version, step.duration.as_nanos());
            }
        }
        other => panic!("setup or apply, not {other:?}"),
    }
}
