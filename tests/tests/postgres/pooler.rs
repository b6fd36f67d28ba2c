//! The lease lock through a real PgBouncer in transaction mode, where a session's
//! advisory lock does not hold (the pooler gives each transaction whichever server
//! connection is free). Each test starts a PgBouncer of its own (see `pg::PgBouncer`).

use migrate_test_support::pg;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use migrate_postgres::{
    BoxError, Db, Error, Lock, Migration, Migrator, Postgres, Reversible, migration,
};

use pg::{PgBouncer, TestSchema};

#[migration(set = "pooler", version = 1, description = "Create notes")]
struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)")
    }
}

impl Reversible for CreateNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE notes")
    }
}

#[migration(set = "pooler", version = 2, description = "Count notes once")]
struct CountNotes;

impl Migration for CountNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        // Fails if it ever runs twice.
        db.execute("CREATE TABLE note_counts (n BIGINT); INSERT INTO note_counts SELECT count(*) FROM notes")
    }
}

impl Reversible for CountNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE note_counts")
    }
}

static RELEASE: AtomicBool = AtomicBool::new(false);
static STARTED: AtomicBool = AtomicBool::new(false);

/// Says it started (`STARTED`), then waits for `RELEASE` (60 s at most).
fn started_and_released() {
    STARTED.store(true, Ordering::SeqCst);
    let started = Instant::now();
    while !RELEASE.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[migration(
    set = "pooler",
    version = 3,
    description = "Waits to be released",
    irreversible
)]
struct WaitsToBeReleased;

impl Migration for WaitsToBeReleased {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        started_and_released();
        db.execute("CREATE TABLE released (id INT)")
    }
}

#[migration(
    set = "pooler",
    version = 4,
    description = "Waits to be released outside a transaction",
    irreversible,
    transaction = false,
    lock_timeout = "1234ms"
)]
struct WaitsOutsideTransaction;

impl Migration for WaitsOutsideTransaction {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        started_and_released();
        db.execute("CREATE TABLE released_outside (id INT)")
    }
}

/// One test at a time uses the statics of migrations 3 and 4.
static WAITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn with(migrations: &[&'static migrate_postgres::RegisteredMigration]) -> Migrator {
    Migrator::for_set("pooler")
        .register_migrations(migrations.iter().copied())
        .unwrap()
}

fn through(bouncer: &PgBouncer, schema: &TestSchema) -> Postgres {
    Postgres::connect(&bouncer.url())
        .unwrap()
        .schema(&schema.name)
        .lock(Lock::LEASE)
}

#[test]
fn eight_runners_through_pgbouncer_apply_each_migration_once() {
    for round in 0..5 {
        let Some(mut schema) = TestSchema::new("pooled") else {
            return;
        };
        let Some(bouncer) = PgBouncer::start(&schema.name) else {
            return;
        };
        let bouncer = Arc::new(bouncer);
        let barrier = Arc::new(Barrier::new(8));
        let runners: Vec<_> = (0..8)
            .map(|_| {
                let (bouncer, barrier, name) = (
                    Arc::clone(&bouncer),
                    Arc::clone(&barrier),
                    schema.name.clone(),
                );
                std::thread::spawn(move || -> Result<usize, Error> {
                    let mut db = Postgres::connect(&bouncer.url())?
                        .schema(&name)
                        .lock(Lock::LEASE);
                    barrier.wait();
                    with(&[CreateNotes::get_migration(), CountNotes::get_migration()])
                        .to_latest(&mut db)
                        .map(|report| report.steps.len())
                })
            })
            .collect();
        let applied: usize = runners
            .into_iter()
            .map(|runner| {
                runner
                    .join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("round {round}: {e:?}"))
            })
            .sum();
        assert_eq!(applied, 2, "round {round}: each migration once");
        assert_eq!(schema.versions(), [1, 2], "round {round}");
    }
}

/// Runs migration 3 through `bouncer` in a thread until `RELEASE`; returns once it
/// holds the lease and its code runs.
fn hold_lease(
    bouncer: &PgBouncer,
    schema: &TestSchema,
) -> std::thread::JoinHandle<Result<(), Error>> {
    hold_lease_in(WaitsToBeReleased::get_migration(), bouncer, schema)
}

/// Runs `waiting` (migration 3 or 4) through `bouncer` in a thread until `RELEASE`;
/// returns once it holds the lease and its code runs.
fn hold_lease_in(
    waiting: &'static migrate_postgres::RegisteredMigration,
    bouncer: &PgBouncer,
    schema: &TestSchema,
) -> std::thread::JoinHandle<Result<(), Error>> {
    RELEASE.store(false, Ordering::SeqCst);
    STARTED.store(false, Ordering::SeqCst);
    let mut holder_db = through(bouncer, schema);
    let holder = std::thread::spawn(move || with(&[waiting]).to_latest(&mut holder_db).map(drop));
    let started = Instant::now();
    while !STARTED.load(Ordering::SeqCst) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the holder never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    holder
}

#[test]
fn a_runner_that_waits_too_long_names_the_lease_holder() {
    let _one = WAITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(mut schema) = TestSchema::new("lease_holder") else {
        return;
    };
    let Some(bouncer) = PgBouncer::start(&schema.name) else {
        return;
    };
    let holder = hold_lease(&bouncer, &schema);
    let mut db = through(&bouncer, &schema).lock_wait(Duration::from_millis(300));
    let error = with(&[WaitsToBeReleased::get_migration()])
        .to_latest(&mut db)
        .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::LockTimeout { .. }), "{error:?}");
    assert!(
        text.contains(&format!("pid {}", std::process::id())),
        "names the holder: {text}"
    );
    assert!(text.contains("lease"), "{text}");
    assert!(text.contains("Postgres::lock_wait, --lock-wait"), "{text}");
    RELEASE.store(true, Ordering::SeqCst);
    holder.join().unwrap().unwrap();
    assert_eq!(schema.versions(), [3]);
}

/// A run whose lease was taken over (it stalled past its time to live) cannot commit:
/// the check in its commit's transaction refuses, and its migration is rolled back.
#[test]
fn a_run_that_lost_its_lease_cannot_commit() {
    let _one = WAITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(mut schema) = TestSchema::new("lease_lost") else {
        return;
    };
    let Some(bouncer) = PgBouncer::start(&schema.name) else {
        return;
    };
    let holder = hold_lease(&bouncer, &schema);
    // Another run takes the lease over, as it would after the holder's lease expired.
    let name = schema.name.clone();
    schema
        .admin()
        .batch_execute(&format!(
            "UPDATE {name}.migrate_history_lock SET holder = 'another run', \
             expires_at = clock_timestamp() + interval '1 hour'"
        ))
        .unwrap();
    RELEASE.store(true, Ordering::SeqCst);
    let error = holder.join().unwrap().unwrap_err();
    assert!(format!("{error:?}").contains("lease was lost"), "{error:?}");
    assert!(!schema.has_table("released"), "rolled back");
    assert_eq!(schema.versions(), Vec::<i64>::new());
}

/// A holder that dies keeps its lease until it expires; then the waiting runner takes
/// it over and finishes.
#[test]
fn a_dead_holders_lease_expires_and_another_run_takes_over() {
    let Some(mut schema) = TestSchema::new("lease_expired") else {
        return;
    };
    let Some(bouncer) = PgBouncer::start(&schema.name) else {
        return;
    };
    // A lease as a holder that died left it: not renewed, expiring in 2 s.
    let name = schema.name.clone();
    let mut first = through(&bouncer, &schema);
    with(&[CreateNotes::get_migration()])
        .to_latest(&mut first)
        .unwrap();
    schema
        .admin()
        .batch_execute(&format!(
            "INSERT INTO {name}.migrate_history_lock VALUES ('migrate', 'a dead run', \
             clock_timestamp(), clock_timestamp() + interval '2 seconds')"
        ))
        .unwrap();
    let mut db = through(&bouncer, &schema).lock_wait(Duration::from_secs(30));
    let waited = Instant::now();
    with(&[CreateNotes::get_migration(), CountNotes::get_migration()])
        .to_latest(&mut db)
        .unwrap();
    assert!(
        waited.elapsed() >= Duration::from_millis(1500),
        "waited for the lease to expire"
    );
    assert_eq!(schema.versions(), [1, 2]);
}

/// The `lock_timeout` that `clients` new clients of `bouncer` see, each in a
/// transaction of its own held open until all have read it, so that each is served by
/// another of the pooler's server connections.
fn lock_timeouts_seen_through(bouncer: &PgBouncer, clients: usize) -> Vec<String> {
    use migrate_postgres::postgres::{Client, NoTls, SimpleQueryMessage};
    let mut open: Vec<Client> = (0..clients)
        .map(|_| Client::connect(&bouncer.url(), NoTls).unwrap())
        .collect();
    let seen = open
        .iter_mut()
        .map(|client| {
            client
                .simple_query("BEGIN; SHOW lock_timeout")
                .unwrap()
                .into_iter()
                .find_map(|message| match message {
                    SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .unwrap()
        })
        .collect();
    for client in &mut open {
        client.batch_execute("COMMIT").unwrap();
    }
    seen
}

/// A `transaction = false` migration with a `lock_timeout` of its own, run through the
/// pooler: a session's `SET lock_timeout` would stay on the server connection that ran
/// it and reach the pooler's next client. No other client sees anything but the
/// server's setting, while the migration runs or after it.
#[test]
fn a_migration_outside_a_transaction_sets_nothing_other_clients_of_the_pooler_see() {
    let _one = WAITER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(mut schema) = TestSchema::new("pooled_outside") else {
        return;
    };
    let Some(bouncer) = PgBouncer::start(&schema.name) else {
        return;
    };
    let server_setting: String = schema
        .admin()
        .query_one("SHOW lock_timeout", &[])
        .unwrap()
        .get(0);
    let holder = hold_lease_in(WaitsOutsideTransaction::get_migration(), &bouncer, &schema);
    let during = lock_timeouts_seen_through(&bouncer, 8);
    RELEASE.store(true, Ordering::SeqCst);
    holder.join().unwrap().unwrap();
    let after = lock_timeouts_seen_through(&bouncer, 8);
    assert_eq!(during, vec![server_setting.clone(); 8], "while it runs");
    assert_eq!(after, vec![server_setting; 8], "after the run");
    assert!(schema.has_table("released_outside"));
    assert_eq!(schema.versions(), [4]);
}
