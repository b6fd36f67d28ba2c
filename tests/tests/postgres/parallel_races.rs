//! Independent migrations at once (`Migrator::parallel`) under attack, on a real
//! PostgreSQL server, each test in a schema of its own (see `pg`):
//!
//! - 8 processes start a parallel run on a fresh schema at the same instant, round after
//!   round: each migration is applied exactly once, and every process succeeds (the
//!   losers find nothing to do), with the advisory lock, the lease lock, and with half the
//!   processes running one migration at a time;
//! - a process killed (SIGKILL) during a parallel run at random moments: the schema and
//!   the history agree, the dead process's sessions leave no lock behind, and a rerun
//!   finishes (after `clear_incomplete` for a `transaction = false` migration cut short);
//! - the lease lock (`Lock::LEASE`), directly and behind PgBouncer, runs independent
//!   migrations at once;
//! - a migration whose condition is false, among independent ones, is recorded skipped;
//! - a migration that panics on its sibling session is rolled back, the one beside it
//!   kept;
//! - migrations that need none (`after = []`) start at once on a schema with no history
//!   table yet (each sibling used to create it, one blocked on the other's uncommitted
//!   table until its lock timeout);
//! - a role without the connections for the sessions asked for: refused, saying to ask
//!   for fewer, with nothing written.
//!
//! Concurrency is proven by barriers on advisory locks in `pg_locks` (as in
//! tests/tests/postgres/parallel.rs), never by timing. `MIGRATE_RACE_ROUNDS` sets how many rounds
//! the racing and the killing tests run. The children are processes of their own
//! (`src/bin/postgres_child.rs`, with the migrations of `migrations.rs`).

use migrate_test_support as support;
use migrate_test_support::pg;

use std::process::Command;
use std::time::{Duration, Instant};

use migrate_postgres::postgres::{Client, IsolationLevel};
use migrate_postgres::{
    BoxError, Db, Error, Lock, Migration, Migrator, PlanContext, Postgres, RegisteredMigration,
    State, When, migration,
};

use pg::{PgBouncer, TestSchema};

// ---------------------------------------------------------------------------------------
// Barriers on advisory locks of the test's schema.
// ---------------------------------------------------------------------------------------

/// How many sessions hold the advisory lock `(key of this schema, id)`.
fn holders(id: u32) -> String {
    format!(
        "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = \
         abs(hashtext(current_schema()) % 1000000)::oid AND objid = {id} AND granted)"
    )
}

/// Waits until `condition` holds, at most 30 s, then fails with `failure`.
fn wait_until(condition: &str, failure: &str) -> String {
    format!(
        "DO $$ BEGIN FOR i IN 1..600 LOOP EXIT WHEN {condition}; PERFORM pg_sleep(0.05); \
         END LOOP; IF NOT ({condition}) THEN RAISE EXCEPTION '{failure}'; END IF; END $$"
    )
}

/// Arrives at barrier `id` (a shared lock held until the session closes) and waits until
/// `count` sessions have arrived.
fn barrier(db: &mut dyn Db, id: u32, count: u32) -> Result<(), BoxError> {
    db.execute(&format!(
        "SELECT pg_advisory_lock_shared(abs(hashtext(current_schema()) % 1000000), {id})"
    ))?;
    db.execute(&wait_until(
        &format!("{} >= {count}", holders(id)),
        "the migrations did not run at once",
    ))
}

fn with(migrations: &[&'static RegisteredMigration]) -> Migrator {
    Migrator::for_set("parallel_races")
        .register_migrations(migrations.iter().copied())
        .unwrap()
}

// ---------------------------------------------------------------------------------------
// The set that the racing and the killed processes run: see `migrations.rs`.
// ---------------------------------------------------------------------------------------

mod migrations;

use migrations::ledger_set;

/// The versions of [`ledger_set`], and whether each runs in a transaction.
const LEDGER: [(i64, bool); 6] = [
    (101, true),
    (102, false),
    (103, false),
    (104, true),
    (105, true),
    (106, true),
];

/// What a schema migrated by [`ledger_set`] holds, read in one snapshot (a killed
/// process's last commit may still land while the test looks).
#[derive(Debug)]
struct Seen {
    /// `(version, complete)` of each history row.
    history: Vec<(i64, bool)>,
    /// How many ledger rows each version of [`LEDGER`] has, in its order.
    ledger: Vec<i64>,
    /// The valid indexes `a_v`, `b_v` (102, 103).
    valid_indexes: Vec<String>,
}

fn look(schema: &mut TestSchema) -> Seen {
    let name = schema.name.clone();
    let mut tx = schema
        .admin()
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .start()
        .unwrap();
    let exists = |tx: &mut migrate_postgres::postgres::Transaction<'_>, table: &str| -> bool {
        tx.query_one(
            "SELECT to_regclass(quote_ident($1) || '.' || $2) IS NOT NULL",
            &[&name, &table],
        )
        .unwrap()
        .get(0)
    };
    let history = if exists(&mut tx, "migrate_history") {
        tx.query(
            &format!("SELECT version, complete FROM {name}.migrate_history ORDER BY version"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
    } else {
        Vec::new()
    };
    let ledger = if exists(&mut tx, "ledger") {
        LEDGER
            .iter()
            .map(|&(version, _)| {
                tx.query_one(
                    &format!("SELECT count(*) FROM {name}.ledger WHERE version = $1"),
                    &[&(version as i32)],
                )
                .unwrap()
                .get(0)
            })
            .collect()
    } else {
        vec![0; LEDGER.len()]
    };
    let valid_indexes = tx
        .query(
            "SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 \
             AND i.indisvalid AND c.relname IN ('a_v', 'b_v') ORDER BY 1",
            &[&name],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    tx.commit().unwrap();
    Seen {
        history,
        ledger,
        valid_indexes,
    }
}

/// The whole set applied, each migration's code run exactly once.
fn assert_applied_once(seen: &Seen, round: usize) {
    let all: Vec<(i64, bool)> = LEDGER.iter().map(|&(v, _)| (v, true)).collect();
    assert_eq!(seen.history, all, "round {round}: the history: {seen:?}");
    assert_eq!(
        seen.ledger,
        vec![1; LEDGER.len()],
        "round {round}: how many times each ran: {seen:?}"
    );
    assert_eq!(
        seen.valid_indexes,
        ["a_v", "b_v"],
        "round {round}: {seen:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 1. Eight processes at once.
// ---------------------------------------------------------------------------------------

#[test]
fn eight_processes_starting_parallel_runs_at_once_apply_each_migration_once_advisory_lock() {
    race("advisory", rounds(4), false);
}

/// Half the processes run one migration at a time: the same lock keeps them apart.
#[test]
fn eight_processes_starting_parallel_runs_at_once_apply_each_migration_once_mixed() {
    race("advisory", rounds(2), true);
}

/// The losers wait for the lease row instead of an advisory lock; the winner's sibling
/// sessions commit through the lease's fence.
#[test]
fn eight_processes_starting_parallel_runs_at_once_apply_each_migration_once_lease_lock() {
    race("lease", rounds(2), false);
}

/// `default` rounds, unless `MIGRATE_RACE_ROUNDS` says how many.
fn rounds(default: usize) -> usize {
    std::env::var("MIGRATE_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `rounds` rounds of 8 processes, with `lock`; with `mixed`, every other one runs one
/// migration at a time.
fn race(lock: &str, rounds: usize, mixed: bool) {
    const PROCESSES: usize = 8;
    if !pg::available() {
        return;
    }
    for round in 0..rounds {
        let mut schema = TestSchema::new("par_race").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let go = dir.path().join("go");
        let children: Vec<_> = (0..PROCESSES)
            .map(|i| {
                let at_once = if mixed && i % 2 == 1 { "1" } else { "3" };
                let mut command = Command::new(env!("CARGO_BIN_EXE_postgres_child"));
                command
                    .arg("parallel_race")
                    .arg(schema.url())
                    .arg(&go)
                    .arg(lock)
                    .arg(at_once);
                support::spawn_ready(command)
            })
            .collect();
        std::fs::write(&go, b"").unwrap();
        let mut applied = Vec::new();
        for (child, stdout) in children {
            let rest: Vec<String> = stdout.map(Result::unwrap).collect();
            let output = child.wait_with_output().unwrap();
            let stdout = rest.join("\n");
            assert!(
                output.status.success(),
                "round {round}: a child failed: {stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let n: usize = stdout
                .split("applied=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("round {round}: no count in {stdout}"));
            applied.push(n);
        }
        // One process applied everything; the others waited, then had nothing to do
        // (a run that lost the race partway through would split the set, which the
        // lock forbids).
        applied.sort_unstable();
        let mut expected = vec![0; PROCESSES - 1];
        expected.push(LEDGER.len());
        assert_eq!(applied, expected, "round {round}: steps per process");
        assert_applied_once(&look(&mut schema), round);
    }
}

// ---------------------------------------------------------------------------------------
// 2. A process killed during a parallel run.
// ---------------------------------------------------------------------------------------

/// The history and the schema agree after a kill: a transactional migration is recorded
/// finished exactly when its code's work is there; a `transaction = false` one recorded
/// finished did its work once; one never started left nothing. Returns whether the run
/// was cut partway (some migrations recorded, or one left incomplete, but not all).
fn assert_agree(seen: &Seen, round: usize) -> bool {
    for (i, &(version, transactional)) in LEDGER.iter().enumerate() {
        let row = seen.history.iter().find(|(v, _)| *v == version);
        let ran = seen.ledger[i];
        match (row, transactional) {
            (Some((_, true)), _) => {
                assert_eq!(ran, 1, "round {round}: {version} recorded: {seen:?}");
            }
            (Some((_, false)), true) => {
                panic!("round {round}: transactional {version} left incomplete: {seen:?}")
            }
            // Cut short outside a transaction: its work may be there in part.
            (Some((_, false)), false) => {}
            (None, _) => assert_eq!(ran, 0, "round {round}: {version} not recorded: {seen:?}"),
        }
        if !transactional {
            let index = if version == 102 { "a_v" } else { "b_v" };
            let valid = seen.valid_indexes.iter().any(|i| i == index);
            if row.is_some_and(|(_, complete)| *complete) {
                assert!(valid, "round {round}: {version} recorded: {seen:?}");
            } else if row.is_none() {
                assert!(!valid, "round {round}: {version} not recorded: {seen:?}");
            }
        }
    }
    let finished = seen.history.iter().filter(|(_, c)| *c).count();
    let incomplete = seen.history.len() > finished;
    incomplete || (1..LEDGER.len()).contains(&finished)
}

/// The sessions named `application` on the server.
fn sessions(admin: &mut Client, application: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&application],
        )
        .unwrap()
        .get(0)
}

#[test]
fn a_process_killed_during_a_parallel_run_leaves_no_lock_and_a_run_that_finishes() {
    let rounds = rounds(10);
    if !pg::available() {
        return;
    }
    // A fixed pseudo-random sequence: the same rounds on every run.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |below: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % below
    };
    let mut partway = 0;
    let mut cleared = 0;
    for round in 0..rounds {
        let mut schema = TestSchema::new("par_kill").unwrap();
        // The child's sessions, its siblings included, carry this name.
        let application = format!("parkill{round}_{}", std::process::id());
        let url = format!("{} application_name={application}", schema.url());
        let mut command = Command::new(env!("CARGO_BIN_EXE_postgres_child"));
        command.arg("parallel_kill").arg(&url);
        let (mut child, _stdout) = support::spawn_ready(command);
        // The moment: once the history has `rows` rows (0 to 4: marks of
        // `transaction = false` migrations count), then a little later.
        let rows = next(5) as usize;
        let started = Instant::now();
        while schema.versions().len() < rows {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "round {round}: the child never reached {rows} rows"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(next(120)));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        // Killed, or finished before the kill: never failed on its own.
        if std::os::unix::process::ExitStatusExt::signal(&status).is_none() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            assert!(
                status.success(),
                "round {round}: the child failed: {stderr}"
            );
        }
        if assert_agree(&look(&mut schema), round) {
            partway += 1;
        }
        // The server ends the dead process's sessions (each notices the closed
        // connection when its statement ends), and nothing of them stays: no lock.
        let started = Instant::now();
        while sessions(schema.admin(), &application) > 0 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "round {round}: the killed process's sessions lived on"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_agree(&look(&mut schema), round);
        // A run from another process does not wait for a lock; it finishes, after
        // clearing what a kill left incomplete outside a transaction.
        let mut db = Postgres::connect(&schema.url())
            .unwrap()
            .lock_wait(Duration::ZERO);
        loop {
            match ledger_set().parallel(3).to_latest(&mut db) {
                Ok(_) => break,
                Err(Error::Incomplete { migration, .. }) => {
                    let version = migration.version;
                    assert!(
                        LEDGER.contains(&(version as i64, false)),
                        "round {round}: {version} incomplete"
                    );
                    ledger_set().clear_incomplete(&mut db, version).unwrap();
                    cleared += 1;
                }
                Err(other) => panic!("round {round}: the rerun failed: {other:?}"),
            }
        }
        let seen = look(&mut schema);
        let all: Vec<(i64, bool)> = LEDGER.iter().map(|&(v, _)| (v, true)).collect();
        assert_eq!(seen.history, all, "round {round}: {seen:?}");
        assert_eq!(
            seen.valid_indexes,
            ["a_v", "b_v"],
            "round {round}: {seen:?}"
        );
        for (i, &(version, transactional)) in LEDGER.iter().enumerate() {
            if transactional {
                assert_eq!(seen.ledger[i], 1, "round {round}: {version}: {seen:?}");
            } else {
                assert!(seen.ledger[i] >= 1, "round {round}: {version}: {seen:?}");
            }
        }
    }
    eprintln!(
        "parallel kills: {rounds} rounds, {partway} cut partway, {cleared} incomplete marks \
         cleared"
    );
    assert!(
        partway * 2 >= rounds,
        "only {partway} of {rounds} kills landed mid-run"
    );
}

// ---------------------------------------------------------------------------------------
// 3. The lease lock.
// ---------------------------------------------------------------------------------------

#[migration(
    set = "parallel_races",
    version = 201,
    description = "Create two tables",
    irreversible
)]
struct LeaseTables;

impl Migration for LeaseTables {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE e (v int); CREATE TABLE f (v int); \
             INSERT INTO e SELECT g FROM generate_series(1, 1000) g",
        )
    }
}

#[migration(set = "parallel_races", version = 202, description = "Fill f, with 203 at once", irreversible,
            after = [LeaseTables])]
struct LeaseFillF;

impl Migration for LeaseFillF {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        barrier(db, 200, 2)?;
        db.execute("INSERT INTO f SELECT g FROM generate_series(1, 1000) g")
    }
}

#[migration(set = "parallel_races", version = 203, description = "Create g, with 202 at once", irreversible,
            after = [LeaseTables])]
struct LeaseCreateG;

impl Migration for LeaseCreateG {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        barrier(db, 200, 2)?;
        db.execute("CREATE TABLE g (v int)")
    }
}

#[migration(set = "parallel_races", version = 204, description = "Index e concurrently", irreversible,
            transaction = false, after = [LeaseTables])]
struct LeaseIndexE;

impl Migration for LeaseIndexE {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX CONCURRENTLY e_v ON e (v)")
    }
}

#[migration(
    set = "parallel_races",
    version = 205,
    description = "After all",
    irreversible
)]
struct LeaseLast;

impl Migration for LeaseLast {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "DO $$ BEGIN IF (SELECT count(*) FROM f) <> 1000 OR to_regclass('g') IS NULL OR \
             to_regclass('e_v') IS NULL THEN RAISE EXCEPTION 'ran early'; END IF; END $$",
        )
    }
}

fn lease_set() -> Migrator {
    with(&[
        LeaseTables::get_migration(),
        LeaseFillF::get_migration(),
        LeaseCreateG::get_migration(),
        LeaseIndexE::get_migration(),
        LeaseLast::get_migration(),
    ])
}

/// `(version, complete)` of each history row of `schema`.
fn history(schema: &mut TestSchema) -> Vec<(i64, bool)> {
    let name = schema.name.clone();
    schema
        .admin()
        .query(
            &format!("SELECT version, complete FROM {name}.migrate_history ORDER BY version"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// Runs [`lease_set`] with two at once on `db` (lease lock): 202 and 203 meet at their
/// barrier, and the history is complete; then a second run has nothing to do, and the
/// lease was given back (a run with no wait takes it).
fn lease_run(schema: &mut TestSchema, connect: &dyn Fn() -> Postgres) {
    let mut db = connect();
    let report = lease_set().parallel(2).to_latest(&mut db).unwrap();
    let order: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(order.len(), 5, "{order:?}");
    assert_eq!((order[0], order[4]), (201, 205), "{order:?}");
    assert_eq!(
        history(schema),
        [
            (201, true),
            (202, true),
            (203, true),
            (204, true),
            (205, true)
        ]
    );
    assert!(schema.has_table("g"));
    let mut other = connect().lock_wait(Duration::ZERO);
    assert!(
        lease_set()
            .parallel(2)
            .to_latest(&mut other)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_lease_lock_runs_independent_migrations_at_once() {
    let Some(mut schema) = TestSchema::new("par_lease") else {
        return;
    };
    let url = schema.url();
    lease_run(&mut schema, &|| {
        Postgres::connect(&url).unwrap().lock(Lock::LEASE)
    });
}

#[test]
fn the_lease_lock_runs_independent_migrations_at_once_behind_pgbouncer() {
    let Some(mut schema) = TestSchema::new("par_lease_bouncer") else {
        return;
    };
    let Some(bouncer) = PgBouncer::start(&schema.name) else {
        return;
    };
    let name = schema.name.clone();
    lease_run(&mut schema, &|| {
        Postgres::connect(&bouncer.url())
            .unwrap()
            .schema(&name)
            .lock(Lock::LEASE)
    });
}

// ---------------------------------------------------------------------------------------
// 5. A condition among independent migrations.
// ---------------------------------------------------------------------------------------

/// While 303 is not applied: arrives at barrier 300 with 303 (the condition is evaluated
/// on a sibling session, read-only, while 303 runs). Then runs only where the table
/// `flags` exists.
fn flags_exist_at_once(context: &mut PlanContext<'_>) -> Result<When, BoxError> {
    if !context.is_applied(303) {
        barrier(context.db(), 300, 2)?;
    }
    match context.db().execute("SELECT 1 FROM flags WHERE 1 = 0") {
        Ok(()) => Ok(When::Run),
        Err(_) => Ok(When::Skip("no flags table".to_owned())),
    }
}

/// Runs where the table `t` exists, which 301 made.
fn t_exists(context: &mut PlanContext<'_>) -> Result<When, BoxError> {
    match context.db().execute("SELECT 1 FROM t WHERE 1 = 0") {
        Ok(()) => Ok(When::Run),
        Err(_) => Ok(When::Skip("no t table".to_owned())),
    }
}

#[migration(
    set = "parallel_races",
    version = 301,
    description = "Create t",
    irreversible
)]
struct CondBase;

impl Migration for CondBase {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t (v int)")
    }
}

#[migration(set = "parallel_races", version = 302, description = "Index flags where there are flags", irreversible,
            after = [CondBase], when = flags_exist_at_once)]
struct CondSkipped;

impl Migration for CondSkipped {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX flags_v ON flags (v)")
    }
}

/// Runs only where the table `flags` exists.
fn flags_exist(context: &mut PlanContext<'_>) -> Result<When, BoxError> {
    match context.db().execute("SELECT 1 FROM flags WHERE 1 = 0") {
        Ok(()) => Ok(When::Run),
        Err(_) => Ok(When::Skip("no flags table, outside".to_owned())),
    }
}

/// Indexes `t`, not `flags`: a `CREATE INDEX CONCURRENTLY` on the table that 302 indexes
/// in its transaction at the same time is a deadlock (each waits for the other), which the
/// server breaks by failing one of them.
#[migration(set = "parallel_races", version = 306, description = "Index t concurrently where there are flags",
            irreversible, transaction = false, after = [CondBase], when = flags_exist)]
struct CondSkippedOutside;

impl Migration for CondSkippedOutside {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX CONCURRENTLY t_c ON t (v)")
    }
}

#[migration(set = "parallel_races", version = 303, description = "Create u, with 302's condition at once",
            irreversible, after = [CondBase])]
struct CondPlain;

impl Migration for CondPlain {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        barrier(db, 300, 2)?;
        db.execute("CREATE TABLE u (v int)")
    }
}

#[migration(set = "parallel_races", version = 304, description = "Fill t where t exists", irreversible,
            after = [CondBase], when = t_exists)]
struct CondRuns;

impl Migration for CondRuns {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO t VALUES (304)")
    }
}

/// Needs all but 302, so that 302 can be applied later, once its condition holds.
#[migration(set = "parallel_races", version = 305, description = "After the others", irreversible,
            after = [CondPlain, CondRuns])]
struct CondLast;

impl Migration for CondLast {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE last (v int)")
    }
}

fn condition_set() -> Migrator {
    with(&[
        CondBase::get_migration(),
        CondSkipped::get_migration(),
        CondPlain::get_migration(),
        CondRuns::get_migration(),
        CondLast::get_migration(),
        CondSkippedOutside::get_migration(),
    ])
}

/// `(version, skipped reason or "applied" or "pending")` of each migration of the set.
fn states(db: &mut Postgres) -> Vec<(u64, String)> {
    condition_set()
        .status(db)
        .unwrap()
        .into_iter()
        .map(|row| {
            let state = match row.state {
                State::Skipped { reason, .. } => format!("skipped: {reason}"),
                State::Applied { .. } => "applied".to_owned(),
                other => format!("{other:?}"),
            };
            (row.version, state)
        })
        .collect()
}

#[test]
fn a_false_condition_among_independent_migrations_is_recorded_skipped() {
    let Some(mut schema) = TestSchema::new("par_condition") else {
        return;
    };
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let report = condition_set().parallel(2).to_latest(&mut db).unwrap();
    let mut steps: Vec<(u64, Option<String>)> = report
        .steps
        .iter()
        .map(|s| (s.version, s.skipped.clone()))
        .collect();
    assert_eq!(steps.first(), Some(&(301, None)), "{steps:?}");
    let at = |version: u64| steps.iter().position(|s| s.0 == version).unwrap();
    assert!(at(305) > at(303) && at(305) > at(304), "{steps:?}");
    steps.sort();
    assert_eq!(
        steps,
        [
            (301, None),
            (302, Some("no flags table".to_owned())),
            (303, None),
            (304, None),
            (305, None),
            (306, Some("no flags table, outside".to_owned())),
        ]
    );
    let expected = |skipped: &str, outside: &str| {
        vec![
            (301, "applied".to_owned()),
            (302, skipped.to_owned()),
            (303, "applied".to_owned()),
            (304, "applied".to_owned()),
            (305, "applied".to_owned()),
            (306, outside.to_owned()),
        ]
    };
    assert_eq!(
        states(&mut db),
        expected(
            "skipped: no flags table",
            "skipped: no flags table, outside"
        )
    );
    // A skipped `transaction = false` migration leaves no incomplete mark.
    let name = schema.name.clone();
    let marks: i64 = schema
        .admin()
        .query_one(
            &format!("SELECT count(*) FROM {name}.migrate_history WHERE NOT complete"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(marks, 0);
    let t: i32 = schema
        .client()
        .query_one("SELECT v FROM t", &[])
        .unwrap()
        .get(0);
    assert_eq!(t, 304);
    assert!(schema.has_table("u") && schema.has_table("last"));
    // Once their condition holds, a parallel run applies both (nothing applied needs
    // them), each evaluated again.
    schema
        .client()
        .batch_execute("CREATE TABLE flags (v int)")
        .unwrap();
    let again = condition_set().parallel(2).to_latest(&mut db).unwrap();
    let mut applied: Vec<(u64, Option<String>)> = again
        .steps
        .iter()
        .map(|s| (s.version, s.skipped.clone()))
        .collect();
    applied.sort();
    assert_eq!(applied, [(302, None), (306, None)]);
    assert_eq!(states(&mut db), expected("applied", "applied"));
    assert!(schema.has_table("flags"));
    let indexes: i64 = schema
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname IN \
             ('flags_v', 't_c')",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert_eq!(indexes, 2);
}

// ---------------------------------------------------------------------------------------
// A panic on a sibling session.
// ---------------------------------------------------------------------------------------

#[migration(
    set = "parallel_races",
    version = 401,
    description = "Create t4",
    irreversible
)]
struct PanicBase;

impl Migration for PanicBase {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t4 (v int)")
    }
}

#[migration(set = "parallel_races", version = 402, description = "Panic after writing", irreversible,
            after = [PanicBase])]
struct PanicsAfterWriting;

impl Migration for PanicsAfterWriting {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        barrier(db, 400, 2)?;
        db.execute("CREATE TABLE p402 (v int); INSERT INTO t4 VALUES (402)")?;
        // Until 403 is past the barrier: this session, and its lock, end with the panic.
        db.execute(&wait_until(
            &format!("{} >= 1", holders(401)),
            "403 never passed",
        ))?;
        panic!("402 gave up");
    }
}

#[migration(set = "parallel_races", version = 403, description = "Write beside the panic", irreversible,
            after = [PanicBase])]
struct BesideThePanic;

impl Migration for BesideThePanic {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        barrier(db, 400, 2)?;
        // "Past the barrier", until this session closes.
        db.execute(
            "SELECT pg_advisory_lock_shared(abs(hashtext(current_schema()) % 1000000), 401)",
        )?;
        db.execute("CREATE TABLE p403 (v int); INSERT INTO t4 VALUES (403)")
    }
}

/// A migration that panics on its sibling session is reported as one that panicked one
/// at a time is, its writes rolled back; the one beside it commits; nothing is held
/// afterwards (another session takes the lock without waiting).
#[test]
fn a_panic_on_a_sibling_session_rolls_its_migration_back() {
    let Some(mut schema) = TestSchema::new("par_panic") else {
        return;
    };
    let set = [
        PanicBase::get_migration(),
        PanicsAfterWriting::get_migration(),
        BesideThePanic::get_migration(),
    ];
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let error = with(&set).parallel(2).to_latest(&mut db).unwrap_err();
    assert!(
        matches!(&error, Error::MigrationPanicked { migration: migrate_core::MigrationRef { version: 402, .. }, message, .. }
            if message.contains("402 gave up")),
        "{error:?}"
    );
    assert_eq!(history(&mut schema), [(401, true), (403, true)]);
    assert!(schema.has_table("p403"));
    assert!(
        !schema.has_table("p402"),
        "the panicking migration's table stayed"
    );
    let rows: Vec<i32> = schema
        .client()
        .query("SELECT v FROM t4", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(rows, [403]);
    // Nothing held: another session, with no wait, finds 402 still pending.
    let mut other = Postgres::connect(&schema.url())
        .unwrap()
        .lock_wait(Duration::ZERO);
    let status = with(&set).status(&mut other).unwrap();
    assert!(
        matches!(status[1].state, State::Pending),
        "{:?}",
        status[1].state
    );
    assert!(
        with(&[set[0], set[2]])
            .to_latest(&mut other)
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// Independent from the first migration on, on a schema with no history table yet.
// ---------------------------------------------------------------------------------------

macro_rules! needing_none {
    ($($ty:ident $version:tt),* $(,)?) => {
        $(
            #[migration(set = "parallel_races", version = $version, description = "Needs no other migration",
                        irreversible, after = [])]
            struct $ty;

            impl Migration for $ty {
                fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                    barrier(db, 500, 3)?;
                    db.execute(concat!("CREATE TABLE n_", stringify!($version), " (v int)"))
                }
            }
        )*

        fn needing_none() -> Migrator {
            with(&[$($ty::get_migration()),*])
        }
    };
}

needing_none!(N501 501, N502 502, N503 503);

/// Three migrations that need none (`after = []`) on a fresh schema: they start at once,
/// each on its own session, before any history table exists.
#[test]
fn migrations_needing_none_start_at_once_on_a_schema_with_no_history_yet() {
    let Some(mut schema) = TestSchema::new("par_fresh") else {
        return;
    };
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let report = needing_none().parallel(3).to_latest(&mut db).unwrap();
    assert_eq!(report.steps.len(), 3);
    assert_eq!(
        history(&mut schema),
        [(501, true), (502, true), (503, true)]
    );
    for table in ["n_501", "n_502", "n_503"] {
        assert!(schema.has_table(table), "{table}");
    }
}

// ---------------------------------------------------------------------------------------
// Too few connections for the sessions asked for.
// ---------------------------------------------------------------------------------------

/// A role of the test's own, dropped at the end (after the schema, declared before it).
struct TestRole {
    name: String,
}

impl Drop for TestRole {
    fn drop(&mut self) {
        if let Ok(mut admin) = Client::connect(&pg::server(), migrate_postgres::postgres::NoTls) {
            let _ = admin.batch_execute(&format!(
                "DROP OWNED BY {0}; DROP ROLE IF EXISTS {0}",
                self.name
            ));
        }
    }
}

/// A role allowed two connections runs a set with three independent migrations three at
/// once: the second sibling session cannot connect. The run says so and what to do, and
/// writes nothing: not even the history table its first transaction created.
#[test]
fn too_few_connections_for_the_sessions_asked_for_writes_nothing() {
    if !pg::available() {
        return;
    }
    let role = TestRole {
        name: format!("t_par_limited_{}", std::process::id()),
    };
    let Some(mut schema) = TestSchema::new("par_limited") else {
        return;
    };
    let name = schema.name.clone();
    schema
        .admin()
        .batch_execute(&format!(
            "DROP ROLE IF EXISTS {0}; CREATE ROLE {0} LOGIN CONNECTION LIMIT 2; \
             GRANT ALL ON SCHEMA {name} TO {0}",
            role.name
        ))
        .unwrap();
    let mut config: migrate_postgres::postgres::Config = schema.url().parse().unwrap();
    config.user(&role.name);
    let mut db = Postgres::connect_config(config).unwrap();
    let error = ledger_set().parallel(3).to_latest(&mut db).unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::Database { .. }), "{error:?}");
    assert!(text.contains("session 2 of the 3"), "{text}");
    assert!(text.contains("--parallel"), "{text}");
    assert!(text.contains("nothing was written"), "{text}");
    assert!(
        support::chain(&error).contains("too many connections for role"),
        "{error:?}"
    );
    assert!(
        !schema.has_table("migrate_history"),
        "the history table was kept"
    );
    assert!(!schema.has_table("ledger"));
    // Nothing is held: a run one at a time, on the same session, applies the set.
    assert_eq!(ledger_set().to_latest(&mut db).unwrap().steps.len(), 6);
}
