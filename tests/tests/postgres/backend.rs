//! The PostgreSQL backend on a real server: each test in a schema of its own (see `pg`).
//! Without a server these tests pass and the terminal says they did not run; `.ci/run`
//! sets `MIGRATE_REQUIRE_POSTGRES=1`, which makes an absent server a failure.
//!
//! The scenarios every backend must pass are in the conformance suite; these are the
//! PostgreSQL backend's own: the lock and who holds it, schemas, `lock_timeout`, TLS
//! and connection errors, tokio runtimes, `CREATE INDEX CONCURRENTLY` outside a
//! transaction, and the catalog comparison of `check_migrations`.

use migrate_test_support::pg;

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use migrate_postgres::{
    BoxError, Db, Error, Migration, Migrator, Postgres, PostgresExt, RegisteredMigration,
    Reversible, migration,
};

use pg::TestSchema;

mod migrations;

use migrations::{AddIsSpammer, CreateChatUsers};

#[migration(version = 3, description = "Lower-case every name", irreversible)]
struct LowerCaseNames;

impl Migration for LowerCaseNames {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        let tx = db.postgres()?;
        for row in tx.query("SELECT id, name FROM chat_users", &[])? {
            let (id, name): (i64, String) = (row.get(0), row.get(1));
            tx.execute(
                "UPDATE chat_users SET name = $1 WHERE id = $2",
                &[&name.to_lowercase(), &id],
            )?;
        }
        Ok(())
    }
}

#[migration(version = 4, description = "Fails halfway", irreversible)]
struct FailsHalfway;

impl Migration for FailsHalfway {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE half (id INT)")?;
        db.execute("SELECT * FROM no_such_table")
    }
}

#[migration(
    version = 5,
    description = "Index names concurrently",
    transaction = false
)]
struct IndexNames;

impl Migration for IndexNames {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX CONCURRENTLY chat_users_name ON chat_users (name)")
    }
}

impl Reversible for IndexNames {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP INDEX CONCURRENTLY chat_users_name")
    }
}

/// Set once migration 6 has started (holding the lock), for the runner that races it.
static SLOW_INDEX_STARTED: AtomicBool = AtomicBool::new(false);

#[migration(
    version = 6,
    description = "Index names concurrently, slowly",
    transaction = false,
    irreversible
)]
struct SlowIndex;

impl Migration for SlowIndex {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        SLOW_INDEX_STARTED.store(true, Ordering::SeqCst);
        // Long enough for the other runner to be waiting for the lock.
        std::thread::sleep(Duration::from_millis(1500));
        db.execute("CREATE INDEX CONCURRENTLY chat_users_slow ON chat_users (name)")
    }
}

#[migration(version = 7, description = "Commits its own transaction", irreversible)]
struct CommitsItself;

impl Migration for CommitsItself {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE committed_early (id INT); COMMIT")
    }
}

/// The session that runs migration 8, and the way to let it finish.
static BLOCKER_PID: AtomicI32 = AtomicI32::new(0);
static BLOCKER_RELEASE: AtomicBool = AtomicBool::new(false);

#[migration(version = 8, description = "Waits to be released", irreversible)]
struct WaitsToBeReleased;

impl Migration for WaitsToBeReleased {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        let pid: i32 = db
            .postgres()?
            .query_one("SELECT pg_backend_pid()", &[])?
            .get(0);
        BLOCKER_PID.store(pid, Ordering::SeqCst);
        let started = Instant::now();
        while !BLOCKER_RELEASE.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        db.execute("CREATE TABLE released (id INT)")
    }
}

#[migration(
    version = 9,
    description = "Index, then fail",
    transaction = false,
    irreversible
)]
struct IndexThenFail;

impl Migration for IndexThenFail {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX CONCURRENTLY chat_users_id_name ON chat_users (id, name)")?;
        Err("the data was not as expected".into())
    }
}

fn with(migrations: &[&'static RegisteredMigration]) -> Migrator {
    Migrator::new()
        .register_migrations(migrations.iter().copied())
        .expect("distinct versions")
}

fn open(schema: &TestSchema) -> Postgres {
    Postgres::connect(&schema.url()).expect("connect")
}

fn chain(error: &Error) -> String {
    format!("{error:?}")
}

#[test]
fn a_code_migration_runs_queries_with_parameters_in_its_transaction() {
    let Some(schema) = TestSchema::new("code") else {
        return;
    };
    let mut db = open(&schema);
    with(&[CreateChatUsers::get_migration()])
        .to_latest(&mut db)
        .unwrap();
    schema
        .client()
        .batch_execute("INSERT INTO chat_users (name) VALUES ('Ada'), ('GRACE')")
        .unwrap();
    with(&[
        CreateChatUsers::get_migration(),
        LowerCaseNames::get_migration(),
    ])
    .to_latest(&mut db)
    .unwrap();
    let names: Vec<String> = schema
        .client()
        .query("SELECT name FROM chat_users ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(names, ["ada", "grace"]);
}

/// What a failing run leaves is the conformance suite's
/// (`a_failing_migration_leaves_nothing_and_the_lock_is_free_after`); here, that the
/// advisory lock is free at once: another session that will not wait for it takes it.
#[test]
fn a_failing_migration_frees_the_lock_at_once() {
    let Some(mut schema) = TestSchema::new("fails") else {
        return;
    };
    let mut db = open(&schema);
    let error = with(&[
        CreateChatUsers::get_migration(),
        FailsHalfway::get_migration(),
    ])
    .to_latest(&mut db)
    .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 4, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(chain(&error).contains("no_such_table"), "{error:?}");
    assert_eq!(schema.versions(), [1]);

    // sqlx leaks its lock on this path; here another session takes it at once.
    let mut other = open(&schema).lock_wait(Duration::ZERO);
    with(&[
        CreateChatUsers::get_migration(),
        AddIsSpammer::get_migration(),
    ])
    .to_latest(&mut other)
    .expect("the lock was released when the failing run ended");
    assert_eq!(schema.versions(), [1, 2]);
}

#[test]
fn a_migration_that_ends_its_transaction_is_not_recorded() {
    let Some(mut schema) = TestSchema::new("commits") else {
        return;
    };
    let mut db = open(&schema);
    let error = with(&[CommitsItself::get_migration()])
        .to_latest(&mut db)
        .unwrap_err();
    assert!(
        chain(&error).contains("must not COMMIT"),
        "says what went wrong: {error:?}"
    );
    assert_eq!(schema.versions(), Vec::<i64>::new(), "no history row");
}

#[test]
fn a_table_of_another_shape_is_refused_before_anything_runs() {
    let Some(mut schema) = TestSchema::new("foreign") else {
        return;
    };
    schema
        .client()
        .batch_execute("CREATE TABLE migrate_history (id INT PRIMARY KEY, version TEXT)")
        .unwrap();
    let mut db = open(&schema);
    let error = with(&[CreateChatUsers::get_migration()])
        .to_latest(&mut db)
        .unwrap_err();
    assert!(
        matches!(error, Error::ForeignHistoryTable { .. }),
        "{error:?}"
    );
    assert!(!schema.has_table("chat_users"));
}

#[test]
fn the_history_goes_to_the_schema_named() {
    let Some(mut schema) = TestSchema::new("named") else {
        return;
    };
    let elsewhere = format!("{}_history", schema.name);
    let mut db = open(&schema).schema(&elsewhere).history_table("applied");
    with(&[CreateChatUsers::get_migration()])
        .to_latest(&mut db)
        .unwrap();
    let rows: i64 = schema
        .admin()
        .query_one(&format!("SELECT count(*) FROM {elsewhere}.applied"), &[])
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    assert!(
        schema.has_table("chat_users"),
        "migration code runs on the search_path"
    );
    schema
        .admin()
        .batch_execute(&format!("DROP SCHEMA {elsewhere} CASCADE"))
        .unwrap();
}

/// Runs migration 8 on `schema` in a thread until `BLOCKER_RELEASE`; returns its handle
/// once the migration holds the lock.
fn hold_lock(schema: &TestSchema, application: &str) -> std::thread::JoinHandle<Result<(), Error>> {
    BLOCKER_PID.store(0, Ordering::SeqCst);
    BLOCKER_RELEASE.store(false, Ordering::SeqCst);
    let url = format!("{} application_name={application}", schema.url());
    let holder = std::thread::spawn(move || {
        let mut db = Postgres::connect(&url)?;
        with(&[WaitsToBeReleased::get_migration()])
            .to_latest(&mut db)
            .map(drop)
    });
    let started = Instant::now();
    while BLOCKER_PID.load(Ordering::SeqCst) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the holder never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    holder
}

/// One test at a time may use migration 8's statics.
static BLOCKER: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_runner_that_waits_too_long_names_who_holds_the_lock() {
    let _one = BLOCKER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(mut schema) = TestSchema::new("holder") else {
        return;
    };
    let holder = hold_lock(&schema, "holder-app");
    let pid = BLOCKER_PID.load(Ordering::SeqCst);

    let mut db = open(&schema).lock_wait(Duration::from_millis(300));
    let error = with(&[WaitsToBeReleased::get_migration()])
        .to_latest(&mut db)
        .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::LockTimeout { .. }), "{error:?}");
    assert!(
        text.contains(&format!("pid {pid}")),
        "names the session: {text}"
    );
    assert!(text.contains("holder-app"), "names its application: {text}");
    assert!(
        text.contains("Postgres::lock_wait, --lock-wait"),
        "says how to wait longer, with the flag's name: {text}"
    );

    BLOCKER_RELEASE.store(true, Ordering::SeqCst);
    holder.join().unwrap().unwrap();
    assert_eq!(schema.versions(), [8], "applied once, by the holder");
}

#[test]
fn tenants_in_separate_schemas_do_not_wait_for_each_other() {
    let _one = BLOCKER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (Some(busy), Some(mut free)) = (TestSchema::new("busy"), TestSchema::new("free")) else {
        return;
    };
    let holder = hold_lock(&busy, "busy-tenant");
    let mut db = open(&free).lock_wait(Duration::ZERO);
    with(&[CreateChatUsers::get_migration()])
        .to_latest(&mut db)
        .expect("another schema's lock is another lock");
    assert_eq!(free.versions(), [1]);
    BLOCKER_RELEASE.store(true, Ordering::SeqCst);
    holder.join().unwrap().unwrap();
}

/// A runner waiting for the lock holds no transaction open, so the concurrent index
/// build of the runner holding the lock (which waits for every older transaction) ends.
#[test]
fn a_concurrent_index_build_finishes_while_another_runner_waits() {
    let Some(mut schema) = TestSchema::new("cic") else {
        return;
    };
    SLOW_INDEX_STARTED.store(false, Ordering::SeqCst);
    let migrations = [CreateChatUsers::get_migration(), SlowIndex::get_migration()];
    let url = schema.url();
    let first = std::thread::spawn(move || {
        let mut db = Postgres::connect(&url)?;
        with(&migrations).to_latest(&mut db).map(|r| r.steps.len())
    });
    let started = Instant::now();
    while !SLOW_INDEX_STARTED.load(Ordering::SeqCst) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "migration 6 never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let url = schema.url();
    let (sent, received) = mpsc::channel();
    let second = std::thread::spawn(move || {
        let outcome = Postgres::connect(&url).and_then(|db| {
            let mut db = db.lock_wait(Duration::from_secs(30));
            with(&migrations).to_latest(&mut db).map(|r| r.steps.len())
        });
        let _ = sent.send(());
        outcome
    });
    received
        .recv_timeout(Duration::from_secs(45))
        .expect("the waiting runner finishes (a deadlock would hold both)");
    assert_eq!(first.join().unwrap().unwrap(), 2);
    assert_eq!(second.join().unwrap().unwrap(), 0, "found both applied");
    assert_eq!(schema.versions(), [1, 6]);
}

#[test]
fn a_migration_outside_a_transaction_that_fails_is_marked_incomplete() {
    let Some(mut schema) = TestSchema::new("incomplete") else {
        return;
    };
    let mut db = open(&schema);
    let migrator = with(&[
        CreateChatUsers::get_migration(),
        IndexThenFail::get_migration(),
    ]);
    let error = migrator.to_latest(&mut db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::FailedOutsideTransaction {
                migration: migrate_core::MigrationRef { version: 9, .. },
                ..
            }
        ),
        "{error:?}"
    );
    let error = migrator.to_latest(&mut db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Incomplete {
                migration: migrate_core::MigrationRef { version: 9, .. },
                ..
            }
        ),
        "{error:?}"
    );
    schema
        .client()
        .batch_execute("DROP INDEX chat_users_id_name")
        .unwrap();
    assert_eq!(
        migrator.clear_incomplete(&mut db, 9).unwrap(),
        Some(migrate_postgres::Direction::Up)
    );
    assert_eq!(schema.versions(), [1]);
}

/// A migration queued behind a long transaction on its table fails after the
/// `lock_timeout` instead of stalling every query queued behind it.
#[test]
fn lock_timeout_stops_a_migration_queued_behind_a_long_transaction() {
    let Some(mut schema) = TestSchema::new("lock_timeout") else {
        return;
    };
    let mut db = open(&schema).lock_timeout(Some(Duration::from_millis(200)));
    with(&[CreateChatUsers::get_migration()])
        .to_latest(&mut db)
        .unwrap();
    let mut reader = schema.client();
    let reader_pid: i32 = reader
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let mut long = reader.transaction().unwrap();
    long.query("SELECT * FROM chat_users", &[]).unwrap();

    let error = with(&[
        CreateChatUsers::get_migration(),
        AddIsSpammer::get_migration(),
    ])
    .to_latest(&mut db)
    .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 2, .. },
                ..
            }
        ),
        "{error:?}"
    );
    let text = chain(&error);
    assert!(text.contains("lock_timeout"), "says what happened: {text}");
    assert!(
        text.contains("Postgres::lock_timeout"),
        "says how to allow more: {text}"
    );
    assert!(
        text.contains(&format!("pid {reader_pid}")),
        "names the holder: {text}"
    );
    assert!(
        text.contains("SELECT * FROM chat_users"),
        "and its query: {text}"
    );
    long.commit().unwrap();
    assert_eq!(schema.versions(), [1]);
}

#[test]
fn connection_errors_name_the_server_and_never_the_password() {
    if !pg::available() {
        return;
    }
    let error = Postgres::connect("postgres://someone:s3cret@127.0.0.1:1/nowhere")
        .err()
        .unwrap();
    let text = chain(&error);
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(text.contains("nowhere"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");

    let error = Postgres::connect(&format!("{} dbname=no_such_database_here", pg::server()))
        .err()
        .unwrap();
    assert!(chain(&error).contains("does not exist"), "{error:?}");
}

/// A connection string that asks for TLS is refused at once, before anything goes to the
/// network (the host below does not answer), saying what to do instead; `prefer` and
/// `disable` connect without TLS as before.
#[test]
fn a_connection_string_asking_for_tls_is_refused_at_once_saying_what_to_do() {
    if !pg::available() {
        return;
    }
    for mode in ["require", "verify-ca", "verify-full"] {
        for url in [
            format!("postgres://app:s3cret@192.0.2.1/app?connect_timeout=5&sslmode={mode}"),
            format!("host=192.0.2.1 connect_timeout=5 user=app sslmode={mode}"),
        ] {
            let started = std::time::Instant::now();
            let error = Postgres::connect(&url).err().unwrap();
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{url}: waited for the network"
            );
            let text = error.to_string() + &chain(&error);
            assert!(text.contains(&format!("sslmode={mode}")), "{text}");
            assert!(text.contains("does not support TLS"), "{text}");
            assert!(text.contains("Postgres::from_client"), "{text}");
            assert!(text.contains("sslmode=prefer"), "{text}");
            assert!(!text.contains("s3cret"), "{text}");
        }
    }
    for mode in ["prefer", "disable"] {
        let url = format!("{} sslmode={mode}", pg::server());
        let mut db = Postgres::connect(&url).unwrap_or_else(|e| panic!("{mode}: {e:?}"));
        let rows = db.connection().query("SELECT 1", &[]).unwrap();
        assert_eq!(rows.len(), 1, "{mode}");
    }
}

/// From async code (`#[tokio::main]`), where the driver alone panics with "Cannot start a
/// runtime from within a runtime": connecting, a code migration's queries and the
/// backend's drop all run inside the runtime here.
fn migrate_inside(runtime: tokio::runtime::Runtime, test: &str) {
    let Some(mut schema) = TestSchema::new(test) else {
        return;
    };
    let url = schema.url();
    runtime.block_on(async move {
        let mut db = Postgres::connect(&url).unwrap();
        with(&[
            CreateChatUsers::get_migration(),
            LowerCaseNames::get_migration(),
        ])
        .to_latest(&mut db)
        .unwrap();
        drop(db);
    });
    assert_eq!(schema.versions(), [1, 3]);
}

#[test]
fn migrates_from_inside_a_multi_thread_tokio_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    migrate_inside(runtime, "tokio_mt");
}

#[test]
fn migrates_from_inside_a_current_thread_tokio_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    migrate_inside(runtime, "tokio_ct");
}

/// Eight processes start at once on a fresh schema, round after round: each migration
/// is applied exactly once, and none fails.
#[test]
fn eight_processes_starting_at_once_apply_each_migration_once() {
    if !pg::available() {
        return;
    }
    for round in 0..10 {
        let mut schema = TestSchema::new("race").unwrap();
        let children: Vec<_> = (0..8)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_postgres_child"))
                    .arg("backend_race")
                    .arg(schema.url())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut applied = 0;
        for child in children {
            let out = child.wait_with_output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "round {round}: {stdout}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            applied += stdout
                .split("applied ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|n| n.parse::<usize>().ok())
                .expect("the child reports what it applied");
        }
        assert_eq!(applied, 2, "round {round}: each migration applied once");
        assert_eq!(schema.versions(), [1, 2], "round {round}");
    }
}

#[test]
fn check_migrations_reverts_each_down_and_compares_the_catalog() {
    if !pg::available() {
        return;
    }
    let checked = migrate_postgres::testing::check_migrations(
        &with(&[
            CreateChatUsers::get_migration(),
            AddIsSpammer::get_migration(),
            IndexNames::get_migration(),
        ]),
        &pg::server(),
    );
    assert_eq!(checked.reverted, [1, 2, 5]);
}

#[migration(version = 10, description = "Forgets to drop its index in down")]
struct LeavesAnIndex;

impl Migration for LeavesAnIndex {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN email TEXT; CREATE INDEX chat_users_email ON chat_users (email)")
    }
}

impl Reversible for LeavesAnIndex {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        // The column goes, and its index with it; the default stays.
        db.execute("ALTER TABLE chat_users DROP COLUMN email; ALTER TABLE chat_users ALTER COLUMN name SET DEFAULT 'x'")
    }
}

#[test]
fn check_migrations_names_what_a_down_leaves_behind() {
    if !pg::available() {
        return;
    }
    let migrator = with(&[
        CreateChatUsers::get_migration(),
        LeavesAnIndex::get_migration(),
    ]);
    let server = pg::server();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        migrate_postgres::testing::check_migrations(&migrator, &server)
    }))
    .expect_err("the down leaves a default behind");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("migration 10"), "{message}");
    assert!(message.contains("DEFAULT 'x'"), "{message}");
}

#[migration(
    version = 11,
    description = "Unique names, concurrently",
    transaction = false,
    irreversible
)]
struct UniqueNames;

impl Migration for UniqueNames {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE UNIQUE INDEX CONCURRENTLY chat_users_unique_name ON chat_users (name)")
    }
}

/// A concurrent index build that fails leaves an INVALID index: the error names it and
/// says how to recover, and following that advice lets the migration run again.
#[test]
fn a_failed_concurrent_index_build_names_the_invalid_index_it_left() {
    let Some(schema) = TestSchema::new("invalid_index") else {
        return;
    };
    let mut db = open(&schema);
    let migrator = with(&[
        CreateChatUsers::get_migration(),
        UniqueNames::get_migration(),
    ]);
    migrator.to_version(&mut db, 1).unwrap();
    let mut client = schema.client();
    client
        .batch_execute("INSERT INTO chat_users (name) VALUES ('ada'), ('ada')")
        .unwrap();
    let error = migrator.to_latest(&mut db).unwrap_err();
    let text = chain(&error);
    assert!(
        matches!(
            error,
            Error::FailedOutsideTransaction {
                migration: migrate_core::MigrationRef { version: 11, .. },
                ..
            }
        ),
        "{error:?}"
    );
    let index = format!("{}.chat_users_unique_name", schema.name);
    assert!(
        text.contains(&format!("INVALID indexes: {index}")),
        "names it: {text}"
    );
    assert!(
        text.contains("DROP INDEX CONCURRENTLY"),
        "says how to recover: {text}"
    );

    client
        .batch_execute(&format!("DROP INDEX CONCURRENTLY {index}"))
        .unwrap();
    client
        .batch_execute("DELETE FROM chat_users WHERE id = (SELECT max(id) FROM chat_users)")
        .unwrap();
    migrator.clear_incomplete(&mut db, 11).unwrap();
    migrator.to_latest(&mut db).unwrap();
}

/// A condition reads the catalog through the typed transaction, inside the read-only
/// savepoint: here, whether an extension is installed.
fn has_postgis(
    context: &mut migrate_postgres::PlanContext<'_>,
) -> Result<migrate_postgres::When, BoxError> {
    assert_eq!(context.backend(), "postgres");
    let installed: i64 = context
        .db()
        .postgres()?
        .query_one(
            "SELECT count(*) FROM pg_extension WHERE extname = 'postgis'",
            &[],
        )?
        .get(0);
    Ok(if installed > 0 {
        migrate_postgres::When::Run
    } else {
        migrate_postgres::When::Skip("PostGIS is not installed".to_owned())
    })
}

#[migration(version = 40, description = "Add a geometry column", irreversible, when = has_postgis)]
struct AddGeometry;

impl Migration for AddGeometry {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN place geometry")
    }
}

#[test]
fn a_condition_reads_the_catalog_through_the_typed_transaction() {
    let Some(schema) = TestSchema::new("condition_catalog") else {
        return;
    };
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let migrator = Migrator::new()
        .register_migrations([
            CreateChatUsers::get_migration(),
            AddGeometry::get_migration(),
        ])
        .unwrap();
    let report = migrator.to_latest(&mut db).unwrap();
    assert_eq!(
        report.steps[1].skipped.as_deref(),
        Some("PostGIS is not installed")
    );
    // The transaction is writable again after the read-only savepoint: the history row
    // was written, and the next run only evaluates the condition again.
    assert!(migrator.to_latest(&mut db).unwrap().is_empty());
    assert!(migrator.pending(&mut db).unwrap().is_empty());
}

/// The history is the connection's first `search_path` schema's (`current_schema()`): a
/// history table of the same name in a later schema of the path is not ours (an
/// unqualified name would find it), and a schema of the path that does not exist is passed
/// over, as PostgreSQL does.
#[test]
fn a_history_in_a_later_search_path_schema_is_not_taken_for_ours() {
    let Some(mut schema) = TestSchema::new("later_schema") else {
        return;
    };
    let Some(other_schema) = TestSchema::new("later_schema_other") else {
        return;
    };
    let other = other_schema.name.clone();
    let migrator = Migrator::new()
        .register_migrations([
            CreateChatUsers::get_migration(),
            AddIsSpammer::get_migration(),
        ])
        .unwrap();
    // The other schema's own tables and history, made through a connection whose path
    // is that schema.
    let there = format!("{} options='-c search_path={other}'", pg::server());
    migrator
        .to_latest(&mut Postgres::connect(&there).unwrap())
        .unwrap();

    let url = format!(
        "{} options='-c search_path=no_such_schema,{},{other}'",
        pg::server(),
        schema.name
    );
    let mut db = Postgres::connect(&url).unwrap();
    assert_eq!(
        migrator.pending(&mut db).unwrap().len(),
        2,
        "not the other schema's history"
    );
    assert_eq!(db.schema_name(), schema.name);
    assert_eq!(migrator.to_latest(&mut db).unwrap().steps.len(), 2);
    let count = |client: &mut migrate_postgres::postgres::Client, table: &str| -> i64 {
        client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0)
    };
    let history = format!("\"{}\".migrate_history", schema.name);
    let other_history = format!("\"{other}\".migrate_history");
    assert_eq!(count(schema.admin(), &history), 2);
    assert_eq!(count(schema.admin(), &other_history), 2, "untouched");
}
