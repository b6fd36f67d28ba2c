//! Independent migrations at once (`Migrator::parallel`) on a real PostgreSQL server,
//! each test in a schema of its own (see `pg`), and its refusal on SQLite.
//!
//! That migrations really run at once is proven by a barrier, not by timing: each of
//! three independent migrations takes a shared advisory lock of its schema and waits,
//! inside its own transaction, until all three hold it; run one at a time, the first
//! would wait alone and fail.

use migrate_test_support as support;
use migrate_test_support::pg;

use migrate_postgres::postgres::{Client, NoTls};
use migrate_postgres::{
    BoxError, Db, Error, Migration, Migrator, Postgres, RegisteredMigration, migration,
};

use pg::TestSchema;

/// How many sessions hold the advisory lock `(key of this schema, id)`.
fn holders(id: u32) -> String {
    format!(
        "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = \
         abs(hashtext(current_schema()) % 1000000)::oid AND objid = {id} AND granted)"
    )
}

/// Takes the shared session lock `id` of this schema: held until the session closes,
/// rollbacks included, so that what it signals is never missed by a poll.
fn signal(id: u32) -> String {
    format!("SELECT pg_advisory_lock_shared(abs(hashtext(current_schema()) % 1000000), {id})")
}

/// Waits until `condition` holds, at most 30 s, then fails with `failure`.
fn wait_until(condition: &str, failure: &str) -> String {
    format!(
        "DO $$ BEGIN FOR i IN 1..600 LOOP EXIT WHEN {condition}; PERFORM pg_sleep(0.05); \
         END LOOP; IF NOT ({condition}) THEN RAISE EXCEPTION '{failure}'; END IF; END $$"
    )
}

/// Arrives at the barrier of the three index migrations and waits for the other two.
fn barrier(db: &mut dyn Db) -> Result<(), BoxError> {
    db.execute(&signal(7))?;
    db.execute(&wait_until(
        &format!("{} >= 3", holders(7)),
        "the migrations did not run at once",
    ))
}

#[migration(
    set = "parallel",
    version = 1,
    description = "Create three tables",
    irreversible
)]
struct CreateTables;

impl Migration for CreateTables {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE a (v int); CREATE TABLE b (v int); CREATE TABLE c (v int); \
             INSERT INTO a SELECT g FROM generate_series(1, 5000) g; \
             INSERT INTO b SELECT g FROM generate_series(1, 5000) g; \
             INSERT INTO c SELECT g FROM generate_series(1, 5000) g",
        )
    }
}

#[migration(set = "parallel", version = 2, description = "Index a concurrently", irreversible,
            transaction = false, after = [CreateTables])]
struct IndexA;

impl Migration for IndexA {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        barrier(db)?;
        db.execute("CREATE INDEX CONCURRENTLY a_v ON a (v)")
    }
}

#[migration(set = "parallel", version = 3, description = "Index b concurrently", irreversible,
            transaction = false, after = [CreateTables])]
struct IndexB;

impl Migration for IndexB {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        barrier(db)?;
        db.execute("CREATE INDEX CONCURRENTLY b_v ON b (v)")
    }
}

#[migration(set = "parallel", version = 4, description = "Index c", irreversible, after = [CreateTables])]
struct IndexC;

impl Migration for IndexC {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        barrier(db)?;
        db.execute("CREATE INDEX c_v ON c (v)")
    }
}

/// Declares nothing: it needs every earlier migration, so it runs last.
#[migration(
    set = "parallel",
    version = 5,
    description = "Use the three indexes",
    irreversible
)]
struct UseIndexes;

impl Migration for UseIndexes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "DO $$ BEGIN IF (SELECT count(*) FROM pg_indexes WHERE schemaname = \
             current_schema() AND indexname IN ('a_v', 'b_v', 'c_v')) <> 3 THEN RAISE \
             EXCEPTION 'ran before the indexes'; END IF; END $$",
        )
    }
}

fn all() -> [&'static RegisteredMigration; 5] {
    [
        CreateTables::get_migration(),
        IndexA::get_migration(),
        IndexB::get_migration(),
        IndexC::get_migration(),
        UseIndexes::get_migration(),
    ]
}

fn migrator(migrations: &[&'static RegisteredMigration]) -> Migrator {
    Migrator::for_set("parallel")
        .register_migrations(migrations.iter().copied())
        .unwrap()
}

/// `(version, complete)` of each history row of `schema`, in order.
fn history(client: &mut Client, schema: &str) -> Vec<(i64, bool)> {
    client
        .query(
            &format!("SELECT version, complete FROM {schema}.migrate_history ORDER BY version"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[test]
fn independent_migrations_run_at_once_each_in_a_session_of_its_own() {
    let Some(mut schema) = TestSchema::new("parallel_at_once") else {
        return;
    };
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let report = migrator(&all()).parallel(3).to_latest(&mut db).unwrap();
    let order: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(order.len(), 5, "{order:?}");
    assert_eq!((order[0], order[4]), (1, 5), "{order:?}");
    let name = schema.name.clone();
    assert_eq!(
        history(schema.admin(), &name),
        [(1, true), (2, true), (3, true), (4, true), (5, true)]
    );
    let invalid: i64 = schema
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 \
             AND NOT i.indisvalid",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(invalid, 0);
    // The history shows them overlapping: each one's end is after another's start.
    let spans: Vec<(f64, f64)> = schema
        .admin()
        .query(
            &format!(
                "SELECT extract(epoch FROM applied_at)::float8 - duration_us / 1e6, \
                 extract(epoch FROM applied_at)::float8 FROM {name}.migrate_history \
                 WHERE version IN (2, 3, 4)"
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let latest_start = spans.iter().map(|s| s.0).fold(f64::MIN, f64::max);
    let earliest_end = spans.iter().map(|s| s.1).fold(f64::MAX, f64::min);
    assert!(latest_start < earliest_end, "no overlap in {spans:?}");
    // A second run has nothing to do, and the lock was released: another session takes it.
    let again = migrator(&all()).parallel(3).to_latest(&mut db).unwrap();
    assert!(again.is_empty());
    let mut other = Postgres::connect(&schema.url()).unwrap();
    assert!(migrator(&all()).to_latest(&mut other).unwrap().is_empty());
}

#[migration(set = "parallel", version = 12, description = "Fail once the other one runs", irreversible,
            after = [CreateTables])]
struct FailWhileOtherRuns;

impl Migration for FailWhileOtherRuns {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        // "12 runs", until this session closes (after the run recorded the failure).
        db.execute(&signal(10))?;
        db.execute(&wait_until(
            &format!("{} >= 1", holders(11)),
            "13 never ran",
        ))?;
        db.execute("SELECT no_such_column FROM a")
    }
}

#[migration(set = "parallel", version = 13, description = "Finish after the failure", irreversible,
            after = [CreateTables])]
struct FinishAfterFailure;

impl Migration for FinishAfterFailure {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(&wait_until(
            &format!("{} >= 1", holders(10)),
            "12 never ran",
        ))?;
        // "13 saw 12 run": 12 fails only then.
        db.execute(&signal(11))?;
        // Until 12's session is closed, which comes after the run recorded its failure:
        // then this one finishes, and nothing new may start.
        db.execute(&wait_until(
            &format!("{} = 0", holders(10)),
            "12 never ended",
        ))?;
        db.execute("CREATE TABLE finished (v int)")
    }
}

#[migration(set = "parallel", version = 14, description = "Never started", irreversible, after = [CreateTables])]
struct NeverStarted;

impl Migration for NeverStarted {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE never_started (v int)")
    }
}

#[test]
fn a_failure_starts_nothing_new_and_keeps_what_finished() {
    let Some(mut schema) = TestSchema::new("parallel_failure") else {
        return;
    };
    let set = [
        CreateTables::get_migration(),
        FailWhileOtherRuns::get_migration(),
        FinishAfterFailure::get_migration(),
        NeverStarted::get_migration(),
    ];
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let error = migrator(&set).parallel(2).to_latest(&mut db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 12, .. },
                ..
            }
        ),
        "{error:?}"
    );
    let name = schema.name.clone();
    assert_eq!(history(schema.admin(), &name), [(1, true), (13, true)]);
    assert!(schema.has_table("finished"));
    assert!(!schema.has_table("never_started"));
    // Nothing is held: another session migrates what is left, 12 removed from the set
    // (it needs no other migration, and none needs it).
    let fixed = [set[0], set[2], set[3]];
    let mut other = Postgres::connect(&schema.url()).unwrap();
    let again = migrator(&fixed).to_latest(&mut other).unwrap();
    let applied: Vec<u64> = again.steps.iter().map(|s| s.version).collect();
    assert_eq!(applied, [14]);
    assert!(schema.has_table("never_started"));
}

#[test]
fn sqlite_refuses_parallel_runs_and_writes_nothing() {
    let db = support::TestDb::named("parallel.db");
    let mut backend = migrate_sqlite::Sqlite::open(&db.path).unwrap();
    let before = db.bytes();
    let error = migrator(&all())
        .parallel(2)
        .to_latest(&mut backend)
        .unwrap_err();
    match &error {
        Error::ParallelUnsupported { reason } => {
            assert!(
                reason.contains("one connection write at a time"),
                "{reason}"
            );
            assert!(reason.contains("fan_out"), "{reason}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(error.to_string().contains("nothing was written"), "{error}");
    assert_eq!(db.bytes(), before);
}

#[test]
fn an_all_or_nothing_run_refuses_parallel() {
    let Some(schema) = TestSchema::new("parallel_all_or_nothing") else {
        return;
    };
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let error = migrator(&all())
        .parallel(2)
        .all_or_nothing(true)
        .to_latest(&mut db)
        .unwrap_err();
    assert!(
        matches!(&error, Error::ParallelUnsupported { reason } if reason.contains("one transaction")),
        "{error:?}"
    );
    let mut schema = schema;
    assert!(!schema.has_table("migrate_history"));
}

#[test]
fn a_session_connected_from_a_client_refuses_parallel() {
    let Some(mut schema) = TestSchema::new("parallel_from_client") else {
        return;
    };
    let client = Client::connect(&schema.url(), NoTls).unwrap();
    let mut db = Postgres::from_client(client).unwrap();
    let error = migrator(&all()).parallel(2).to_latest(&mut db).unwrap_err();
    assert!(
        matches!(&error, Error::ParallelUnsupported { reason } if reason.contains("Postgres::connect")),
        "{error:?}"
    );
    assert!(!schema.has_table("migrate_history"));
}

#[test]
fn dependent_migrations_run_one_at_a_time_with_parallel_on() {
    let Some(mut schema) = TestSchema::new("parallel_chain") else {
        return;
    };
    // Only 1 and 5: 5 needs 1, so they run one after the other, as without the option.
    let set = [CreateTables::get_migration(), UseIndexes::get_migration()];
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let error = migrator(&set).parallel(4).to_latest(&mut db).unwrap_err();
    // 5 checks for indexes that this set never makes: it fails, after 1 committed.
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 5, .. },
                ..
            }
        ),
        "{error:?}"
    );
    let name = schema.name.clone();
    assert_eq!(history(schema.admin(), &name), [(1, true)]);
}

#[migration(
    set = "parallel",
    version = 21,
    description = "Create the table t",
    irreversible
)]
struct CreateT;

impl Migration for CreateT {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t (v int)")
    }
}

/// Arrives (lock 20), waits for the other one, then until the test has ended the
/// session holding the run's lock (lock 21, taken by the test), then writes.
fn outlive_the_lock(db: &mut dyn Db, table: &str) -> Result<(), BoxError> {
    db.execute(&signal(20))?;
    db.execute(&wait_until(&format!("{} >= 2", holders(20)), "not at once"))?;
    db.execute(&wait_until(
        &format!("{} >= 1", holders(21)),
        "the lock holder lives",
    ))?;
    db.execute(&format!("CREATE TABLE {table} (v int)"))
}

#[migration(set = "parallel", version = 22, description = "Outlive the lock, transactional", irreversible,
            after = [CreateT])]
struct OutliveInTransaction;

impl Migration for OutliveInTransaction {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        outlive_the_lock(db, "x22")
    }
}

#[migration(set = "parallel", version = 23, description = "Outlive the lock, outside a transaction",
            irreversible, transaction = false, after = [CreateT])]
struct OutliveOutside;

impl Migration for OutliveOutside {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        outlive_the_lock(db, "x23")
    }
}

/// The session that holds the run's lock is ended by the server while two migrations
/// run on their own sessions: neither may commit without the lock (another run could
/// have taken it), so the transactional one is rolled back and the other one stays
/// marked incomplete, as a `transaction = false` migration that failed partway does.
#[test]
fn nothing_commits_once_the_session_holding_the_lock_is_gone() {
    let Some(mut schema) = TestSchema::new("parallel_lock_lost") else {
        return;
    };
    let set = [
        CreateT::get_migration(),
        OutliveInTransaction::get_migration(),
        OutliveOutside::get_migration(),
    ];
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let pid: i32 = db
        .connection()
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let name = schema.name.clone();
    let killer = std::thread::spawn(move || {
        let mut admin = Client::connect(&pg::server(), NoTls).unwrap();
        let key = format!("abs(hashtext('{name}') % 1000000)");
        let arrived = format!(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND \
             classid = {key}::oid AND objid = 20"
        );
        for _ in 0..600 {
            if admin.query_one(&arrived, &[]).unwrap().get::<_, i64>(0) >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        admin
            .execute("SELECT pg_terminate_backend($1)", &[&pid])
            .unwrap();
        for _ in 0..600 {
            let alive: i64 = admin
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                    &[&pid],
                )
                .unwrap()
                .get(0);
            if alive == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        admin
            .batch_execute(&format!("SELECT pg_advisory_lock_shared({key}, 21)"))
            .unwrap();
        admin
    });
    let error = migrator(&set).parallel(2).to_latest(&mut db).unwrap_err();
    let admin = killer.join().unwrap();
    let chain = format!("{error:?}");
    assert!(
        chain.contains("migration lock of this run was lost"),
        "{chain}"
    );
    assert!(!schema.has_table("x22"));
    let name = schema.name.clone();
    // 23's mark stays: it ran outside a transaction, and is refused until looked at.
    assert_eq!(history(schema.admin(), &name), [(21, true), (23, false)]);
    let mut again = Postgres::connect(&schema.url()).unwrap();
    let refused = migrator(&set).to_latest(&mut again).unwrap_err();
    assert!(
        matches!(
            refused,
            Error::Incomplete {
                migration: migrate_core::MigrationRef { version: 23, .. },
                ..
            }
        ),
        "{refused:?}"
    );
    migrator(&set).clear_incomplete(&mut again, 23).unwrap();
    schema
        .admin()
        .batch_execute(&format!("DROP TABLE IF EXISTS {name}.x23"))
        .unwrap();
    let report = migrator(&set).parallel(2).to_latest(&mut again).unwrap();
    let mut applied: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    applied.sort_unstable();
    assert_eq!(applied, [22, 23]);
    assert_eq!(
        history(schema.admin(), &name),
        [(21, true), (22, true), (23, true)]
    );
    drop(admin);
}

#[migration(set = "parallel", version = 31, description = "Create p", irreversible, after = [])]
struct CreateP;

impl Migration for CreateP {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(&signal(30))?;
        db.execute(&wait_until(&format!("{} >= 2", holders(30)), "not at once"))?;
        db.execute("CREATE TABLE p (v int)")
    }
}

#[migration(set = "parallel", version = 32, description = "Create q", irreversible, after = [])]
struct CreateQ;

impl Migration for CreateQ {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(&signal(30))?;
        db.execute(&wait_until(&format!("{} >= 2", holders(30)), "not at once"))?;
        db.execute("CREATE TABLE q (v int)")
    }
}

/// On a new schema, the first two migrations need nothing and start at once: the history
/// table is created (and committed) before either, so their sessions never race to
/// create it. Several rounds, each on a new schema.
#[test]
fn the_first_migrations_at_once_on_a_new_database() {
    for round in 0..5 {
        let Some(mut schema) = TestSchema::new(&format!("parallel_first_{round}")) else {
            return;
        };
        let set = [CreateP::get_migration(), CreateQ::get_migration()];
        let mut db = Postgres::connect(&schema.url()).unwrap();
        let report = migrator(&set).parallel(2).to_latest(&mut db).unwrap();
        assert_eq!(report.steps.len(), 2);
        let name = schema.name.clone();
        assert_eq!(history(schema.admin(), &name), [(31, true), (32, true)]);
    }
}
