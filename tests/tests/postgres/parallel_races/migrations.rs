//! The set that the racing and the killed processes of `postgres::parallel_races` run,
//! shared by the test module and its child processes (`src/bin/postgres_child.rs`): each
//! migration appends its version to `ledger` once per time its code runs (a
//! transactional one in its transaction; a `transaction = false` one in a statement of
//! its own, committed at once, so that running twice shows even when the second run
//! fails later).

use migrate_postgres::{BoxError, Db, Migration, Migrator, migration};

fn append(db: &mut dyn Db, version: u64) -> Result<(), BoxError> {
    db.execute(&format!(
        "INSERT INTO ledger (version, pid) VALUES ({version}, {})",
        std::process::id()
    ))
}

#[migration(
    set = "parallel_races",
    version = 101,
    description = "Create the ledger and three tables",
    irreversible
)]
struct CreateLedger;

impl Migration for CreateLedger {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE ledger (version int NOT NULL, pid int NOT NULL); \
             CREATE TABLE a (v int); CREATE TABLE b (v int); CREATE TABLE c (v int); \
             INSERT INTO a SELECT g FROM generate_series(1, 2000) g; \
             INSERT INTO b SELECT g FROM generate_series(1, 2000) g; \
             SELECT pg_sleep(0.05)",
        )?;
        append(db, 101)
    }
}

/// A concurrent index build, safe to run again after it was cut short (an interrupted
/// `CREATE INDEX CONCURRENTLY` leaves an invalid index behind).
fn index_concurrently(db: &mut dyn Db, version: u64, table: &str) -> Result<(), BoxError> {
    append(db, version)?;
    db.execute("SELECT pg_sleep(0.05)")?;
    db.execute(&format!("DROP INDEX CONCURRENTLY IF EXISTS {table}_v"))?;
    db.execute(&format!(
        "CREATE INDEX CONCURRENTLY {table}_v ON {table} (v)"
    ))
}

#[migration(set = "parallel_races", version = 102, description = "Index a concurrently", irreversible,
            transaction = false, after = [CreateLedger])]
struct IndexA;

impl Migration for IndexA {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        index_concurrently(db, 102, "a")
    }
}

#[migration(set = "parallel_races", version = 103, description = "Index b concurrently", irreversible,
            transaction = false, after = [CreateLedger])]
struct IndexB;

impl Migration for IndexB {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        index_concurrently(db, 103, "b")
    }
}

#[migration(set = "parallel_races", version = 104, description = "Fill c", irreversible, after = [CreateLedger])]
struct FillC;

impl Migration for FillC {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO c SELECT g FROM generate_series(1, 2000) g; SELECT pg_sleep(0.1)")?;
        append(db, 104)
    }
}

#[migration(set = "parallel_races", version = 105, description = "Create d", irreversible, after = [CreateLedger])]
struct CreateD;

impl Migration for CreateD {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE d (v int); SELECT pg_sleep(0.1)")?;
        append(db, 105)
    }
}

/// Declares nothing: it needs every earlier migration, so it runs last.
#[migration(
    set = "parallel_races",
    version = 106,
    description = "Check the others",
    irreversible
)]
struct CheckOthers;

impl Migration for CheckOthers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "DO $$ BEGIN IF (SELECT count(*) FROM pg_indexes WHERE schemaname = \
             current_schema() AND indexname IN ('a_v', 'b_v')) <> 2 OR (SELECT count(*) \
             FROM c) <> 2000 OR to_regclass('d') IS NULL THEN RAISE EXCEPTION 'ran before \
             the others'; END IF; END $$",
        )?;
        append(db, 106)
    }
}

pub(crate) fn ledger_set() -> Migrator {
    Migrator::for_set("parallel_races")
        .register_migrations([
            CreateLedger::get_migration(),
            IndexA::get_migration(),
            IndexB::get_migration(),
            FillC::get_migration(),
            CreateD::get_migration(),
            CheckOthers::get_migration(),
        ])
        .unwrap()
}
