//! `lock_timeout = ".."` in a migration's attribute, on a real PostgreSQL server: the
//! migration's own timeout replaces the backend's (`Postgres::lock_timeout`) for its code
//! alone, inside its transaction, in a batch, and for a `transaction = false` migration,
//! and never outlives it. Each test in a schema of its own (see `pg`); without a server
//! they pass and the terminal says they did not run.

use migrate_test_support::pg;

use std::time::{Duration, Instant};

use migrate_postgres::{
    BoxError, Db, Error, LockTimeout, Migration, Migrator, Postgres, PostgresExt,
    RegisteredMigration, migration,
};

use pg::TestSchema;

/// What `SHOW lock_timeout` said inside the migration's code, in `seen`.
fn record(db: &mut dyn Db, version: i32) -> Result<(), BoxError> {
    let tx = db.postgres()?;
    let shown: String = tx.query_one("SHOW lock_timeout", &[])?.get(0);
    tx.execute("INSERT INTO seen VALUES ($1, $2)", &[&version, &shown])?;
    Ok(())
}

#[migration(
    set = "lock_timeout",
    version = 1,
    description = "Create notes",
    irreversible
)]
struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE notes (id INT); CREATE TABLE seen (version INT, lock_timeout TEXT)",
        )
    }
}

#[migration(
    set = "lock_timeout",
    version = 2,
    description = "Add a column, waiting 300 ms at most",
    irreversible,
    lock_timeout = "300ms"
)]
struct ShortTimeout;

impl Migration for ShortTimeout {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE notes ADD COLUMN short INT")
    }
}

#[migration(
    set = "lock_timeout",
    version = 3,
    description = "Show the lock_timeout",
    irreversible
)]
struct ShowsTimeout;

impl Migration for ShowsTimeout {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        record(db, 3)
    }
}

#[migration(
    set = "lock_timeout",
    version = 4,
    description = "Add a column, waiting 30 s at most",
    irreversible,
    lock_timeout = "30s"
)]
struct LongTimeout;

impl Migration for LongTimeout {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        record(db, 4)?;
        db.execute("ALTER TABLE notes ADD COLUMN long INT")
    }
}

#[migration(
    set = "lock_timeout",
    version = 5,
    description = "Wait as long as it takes",
    irreversible,
    lock_timeout = "off"
)]
struct NoTimeout;

impl Migration for NoTimeout {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        record(db, 5)
    }
}

#[migration(
    set = "lock_timeout",
    version = 6,
    description = "Index notes concurrently, waiting 45 s at most",
    irreversible,
    transaction = false,
    lock_timeout = "45s"
)]
struct IndexWithTimeout;

impl Migration for IndexWithTimeout {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        record(db, 6)?;
        db.execute("CREATE INDEX CONCURRENTLY notes_id ON notes (id)")
    }
}

#[migration(
    set = "lock_timeout",
    version = 7,
    description = "Show the lock_timeout outside a transaction",
    irreversible,
    transaction = false
)]
struct ShowsOutside;

impl Migration for ShowsOutside {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        record(db, 7)
    }
}

#[migration(
    set = "lock_timeout",
    version = 8,
    description = "Fail outside a transaction, waiting 45 s at most",
    irreversible,
    transaction = false,
    lock_timeout = "45s"
)]
struct FailsOutside;

impl Migration for FailsOutside {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        record(db, 8)?;
        db.execute("SELECT * FROM no_such_table")
    }
}

fn with(migrations: &[&'static RegisteredMigration]) -> Migrator {
    Migrator::for_set("lock_timeout")
        .register_migrations(migrations.iter().copied())
        .expect("distinct versions")
}

fn open(schema: &TestSchema, global: Duration) -> Postgres {
    Postgres::connect(&schema.url())
        .expect("connect")
        .lock_timeout(Some(global))
}

/// `(version, lock_timeout)` as each migration's code saw it, in order.
fn seen(schema: &TestSchema) -> Vec<(i32, String)> {
    schema
        .client()
        .query(
            "SELECT version, lock_timeout FROM seen ORDER BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

/// The session's own `lock_timeout`, as the backend's connection has it between runs.
fn session_lock_timeout(db: &mut Postgres) -> String {
    db.connection()
        .query_one("SHOW lock_timeout", &[])
        .unwrap()
        .get(0)
}

fn seen_pairs(pairs: &[(i32, &str)]) -> Vec<(i32, String)> {
    pairs.iter().map(|(v, s)| (*v, (*s).to_owned())).collect()
}

#[test]
fn the_attribute_is_carried_by_the_registered_migration() {
    assert_eq!(
        ShortTimeout::get_migration().lock_timeout(),
        Some(LockTimeout::After(Duration::from_millis(300)))
    );
    assert_eq!(
        IndexWithTimeout::get_migration().lock_timeout(),
        Some(LockTimeout::After(Duration::from_secs(45)))
    );
    assert_eq!(
        NoTimeout::get_migration().lock_timeout(),
        Some(LockTimeout::Off)
    );
    assert_eq!(ShowsTimeout::get_migration().lock_timeout(), None);
}

/// A migration with a short timeout of its own, queued behind another session's open
/// transaction on its table, fails after its own timeout although the backend would
/// wait a minute.
#[test]
fn a_short_own_timeout_fails_long_before_the_global_one() {
    let Some(mut schema) = TestSchema::new("own_short_lock_timeout") else {
        return;
    };
    let mut db = open(&schema, Duration::from_secs(60));
    with(&[CreateNotes::get_migration()])
        .to_latest(&mut db)
        .unwrap();
    let mut reader = schema.client();
    let mut long = reader.transaction().unwrap();
    long.query("SELECT * FROM notes", &[]).unwrap();

    let started = Instant::now();
    let error = with(&[CreateNotes::get_migration(), ShortTimeout::get_migration()])
        .to_latest(&mut db)
        .unwrap_err();
    let waited = started.elapsed();
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
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(20),
        "failed after its own 300 ms, not the global minute: {waited:?}"
    );
    let text = format!("{error:?}");
    assert!(
        text.contains("in its attribute"),
        "says how to allow more: {text}"
    );
    long.commit().unwrap();
    assert_eq!(schema.versions(), [1]);
    assert_eq!(
        session_lock_timeout(&mut db),
        "0",
        "nothing leaks to the session"
    );
}

/// A migration with a long timeout of its own waits out a blocker that the backend's
/// 200 ms would not, and the next migration of the run has the 200 ms again.
#[test]
fn a_long_own_timeout_outlasts_a_short_global_one_and_ends_with_its_migration() {
    let Some(mut schema) = TestSchema::new("own_long_lock_timeout") else {
        return;
    };
    let mut db = open(&schema, Duration::from_millis(200));
    with(&[CreateNotes::get_migration()])
        .to_latest(&mut db)
        .unwrap();
    let mut reader = schema.client();
    let blocker = std::thread::spawn(move || {
        let mut long = reader.transaction().unwrap();
        long.query("SELECT * FROM notes", &[]).unwrap();
        std::thread::sleep(Duration::from_secs(1));
        long.commit().unwrap();
    });
    // Let the blocker take its lock first.
    std::thread::sleep(Duration::from_millis(300));

    let started = Instant::now();
    with(&[
        CreateNotes::get_migration(),
        LongTimeout::get_migration(),
        ShowsTimeout::get_migration(),
        NoTimeout::get_migration(),
    ])
    .to_latest(&mut db)
    .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "it waited for the blocker: {:?}",
        started.elapsed()
    );
    blocker.join().unwrap();
    assert_eq!(schema.versions(), [1, 3, 4, 5]);
    assert_eq!(
        seen(&schema),
        seen_pairs(&[(3, "200ms"), (4, "30s"), (5, "0")])
    );
    assert_eq!(session_lock_timeout(&mut db), "0");
}

/// In one transaction for several migrations, each has its own timeout or the global.
#[test]
fn in_an_all_or_nothing_run_each_migration_has_its_own_timeout_or_the_global() {
    let Some(schema) = TestSchema::new("batch_lock_timeout") else {
        return;
    };
    let mut db = open(&schema, Duration::from_millis(200));
    with(&[CreateNotes::get_migration()])
        .to_latest(&mut db)
        .unwrap();
    with(&[
        CreateNotes::get_migration(),
        ShowsTimeout::get_migration(),
        LongTimeout::get_migration(),
        NoTimeout::get_migration(),
    ])
    .all_or_nothing(true)
    .to_latest(&mut db)
    .unwrap();
    // 4 sets 30 s, 5 turns it off: neither decides for 3, which runs first; and the
    // order of the run is 3, 4, 5.
    assert_eq!(
        seen(&schema),
        seen_pairs(&[(3, "200ms"), (4, "30s"), (5, "0")])
    );

    // And a migration after one with its own, in the same transaction, has the global.
    let Some(schema) = TestSchema::new("batch_lock_timeout_after") else {
        return;
    };
    let mut db = open(&schema, Duration::from_millis(200));
    with(&[
        CreateNotes::get_migration(),
        LongTimeout::get_migration(),
        ShowsAfterLong::get_migration(),
    ])
    .all_or_nothing(true)
    .to_latest(&mut db)
    .unwrap();
    assert_eq!(seen(&schema), seen_pairs(&[(4, "30s"), (9, "200ms")]));
}

#[migration(
    set = "lock_timeout",
    version = 9,
    description = "Show the lock_timeout after 4",
    irreversible
)]
struct ShowsAfterLong;

impl Migration for ShowsAfterLong {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        record(db, 9)
    }
}

/// A `transaction = false` migration with a timeout of its own has it for its session
/// while its code runs, and the session has its own again afterwards: the next migration
/// outside a transaction has the server's, the next one inside one the global.
#[test]
fn a_migration_outside_a_transaction_has_its_own_timeout_and_then_the_session_its_own() {
    let Some(schema) = TestSchema::new("outside_lock_timeout") else {
        return;
    };
    let mut db = open(&schema, Duration::from_millis(200));
    with(&[
        CreateNotes::get_migration(),
        ShowsTimeout::get_migration(),
        IndexWithTimeout::get_migration(),
        ShowsOutside::get_migration(),
        ShowsAfterLong::get_migration(),
    ])
    .to_latest(&mut db)
    .unwrap();
    assert_eq!(
        seen(&schema),
        seen_pairs(&[(3, "200ms"), (6, "45s"), (7, "0"), (9, "200ms")])
    );
    assert_eq!(session_lock_timeout(&mut db), "0");
}

/// A `transaction = false` migration that fails leaves its incomplete mark, and the
/// session has its own `lock_timeout` again: the next run's code does not inherit it.
#[test]
fn a_failed_migration_outside_a_transaction_does_not_leave_its_timeout_behind() {
    let Some(schema) = TestSchema::new("outside_failed_lock_timeout") else {
        return;
    };
    let mut db = open(&schema, Duration::from_millis(200));
    let error = with(&[CreateNotes::get_migration(), FailsOutside::get_migration()])
        .to_latest(&mut db)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::FailedOutsideTransaction {
                migration: migrate_core::MigrationRef { version: 8, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(seen(&schema), seen_pairs(&[(8, "45s")]));
    assert_eq!(session_lock_timeout(&mut db), "0");
}
