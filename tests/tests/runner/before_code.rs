//! `Backend::before_code`: when the manager calls it (right before each migration's
//! code, inside its transaction, per step of a batch, and with no transaction open for a
//! `transaction = false` migration), and that its error fails the migration like an
//! error of the code would. On SQLite, through a backend that wraps `Sqlite` and logs.

use migrate_test_support as support;

use std::cell::RefCell;
use std::time::Duration;

use migrate_core::Freshness;
use migrate_sqlite::{
    AppliedMigration, Backend, BoxError, Db, Direction, Error, Migration, RegisteredMigration,
    Sqlite, migration,
};
use support::{TestDb, with};

thread_local! {
    /// What happened, in order, on this test's thread (the manager runs on it).
    static EVENTS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn event(text: String) {
    EVENTS.with(|events| events.borrow_mut().push(text));
}

fn events() -> Vec<String> {
    EVENTS.with(|events| std::mem::take(&mut *events.borrow_mut()))
}

/// `Sqlite`, logging the calls that frame a migration's code, and failing `before_code`
/// for one version.
struct Logged {
    inner: Sqlite,
    fail_before: Option<u64>,
}

impl Backend for Logged {
    fn read_history(&mut self) -> Result<Vec<AppliedMigration>, BoxError> {
        self.inner.read_history()
    }
    fn read_applied(&mut self, set: &str) -> Result<Vec<AppliedMigration>, BoxError> {
        self.inner.read_applied(set)
    }
    fn begin(&mut self) -> Result<Freshness, BoxError> {
        event("begin".to_owned());
        self.inner.begin()
    }
    fn before_code(
        &mut self,
        migration: &RegisteredMigration,
        in_transaction: bool,
    ) -> Result<(), BoxError> {
        let version = migration.version();
        event(format!(
            "before_code {version} in_transaction={in_transaction}"
        ));
        if self.fail_before == Some(version) {
            return Err("the backend could not prepare the migration".into());
        }
        self.inner.before_code(migration, in_transaction)
    }
    fn db(&mut self) -> &mut dyn Db {
        self.inner.db()
    }
    fn check(&mut self) -> Result<(), BoxError> {
        self.inner.check()
    }
    fn record_applied(
        &mut self,
        migration: &RegisteredMigration,
        duration: Duration,
        complete: bool,
    ) -> Result<(), BoxError> {
        self.inner.record_applied(migration, duration, complete)
    }
    fn record_started(
        &mut self,
        migration: &RegisteredMigration,
        direction: Direction,
    ) -> Result<(), BoxError> {
        self.inner.record_started(migration, direction)
    }
    fn remove_applied(&mut self, set: &str, version: u64) -> Result<(), BoxError> {
        self.inner.remove_applied(set, version)
    }
    fn update_checksum(&mut self, migration: &RegisteredMigration) -> Result<(), BoxError> {
        self.inner.update_checksum(migration)
    }
    fn read_fingerprint(&mut self) -> Result<Option<u32>, BoxError> {
        self.inner.read_fingerprint()
    }
    fn store_fingerprint(&mut self, fingerprint: Option<u32>) -> Result<(), BoxError> {
        self.inner.store_fingerprint(fingerprint)
    }
    fn commit(&mut self) -> Result<(), BoxError> {
        event("commit".to_owned());
        self.inner.commit()
    }
    fn rollback(&mut self) -> Result<(), BoxError> {
        event("rollback".to_owned());
        self.inner.rollback()
    }
    fn end_run(&mut self) -> Result<(), BoxError> {
        self.inner.end_run()
    }
}

#[migration(version = 301, description = "Create a", irreversible)]
struct CreateA;

impl Migration for CreateA {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        event("up 301".to_owned());
        db.execute("CREATE TABLE a (id INTEGER)")
    }
}

#[migration(
    version = 302,
    description = "Create b outside a transaction",
    irreversible,
    transaction = false,
    lock_timeout = "5s"
)]
struct CreateB;

impl Migration for CreateB {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        event("up 302".to_owned());
        db.execute("CREATE TABLE b (id INTEGER)")
    }
}

#[migration(
    version = 303,
    description = "Create c",
    irreversible,
    lock_timeout = "off"
)]
struct CreateC;

impl Migration for CreateC {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        event("up 303".to_owned());
        db.execute("CREATE TABLE c (id INTEGER)")
    }
}

fn logged(db: &TestDb, fail_before: Option<u64>) -> Logged {
    Logged {
        inner: db.open(),
        fail_before,
    }
}

#[test]
fn before_code_comes_right_before_each_migrations_code() {
    let db = TestDb::named("before_code_order.db");
    let mut backend = logged(&db, None);
    events();
    with(&[CreateA::get_migration(), CreateB::get_migration()])
        .to_latest(&mut backend)
        .unwrap();
    assert_eq!(
        events(),
        [
            "begin",
            "before_code 301 in_transaction=true",
            "up 301",
            "commit",
            // The mark of 302, committed; its code with no transaction; its record.
            "begin",
            "commit",
            "before_code 302 in_transaction=false",
            "up 302",
            "begin",
            "commit",
        ]
    );
}

#[test]
fn before_code_comes_before_each_step_of_a_batch() {
    let db = TestDb::named("before_code_batch.db");
    let mut backend = logged(&db, None);
    events();
    with(&[CreateA::get_migration(), CreateC::get_migration()])
        .all_or_nothing(true)
        .to_latest(&mut backend)
        .unwrap();
    assert_eq!(
        events(),
        [
            "begin",
            "before_code 301 in_transaction=true",
            "up 301",
            "before_code 303 in_transaction=true",
            "up 303",
            "commit",
        ]
    );
}

/// An error of `before_code` fails the migration, named, rolled back, its code not run;
/// the migrations before it stay applied.
#[test]
fn an_error_of_before_code_fails_the_migration_like_its_code_would() {
    let db = TestDb::named("before_code_fails.db");
    let mut backend = logged(&db, Some(303));
    let migrator = with(&[CreateA::get_migration(), CreateC::get_migration()]);
    events();
    let error = migrator.to_latest(&mut backend).unwrap_err();
    let Error::MigrationFailed {
        version: 303,
        description: "Create c",
        batch: false,
        ref source,
        ..
    } = error
    else {
        panic!("{error:?}");
    };
    assert_eq!(
        source.to_string(),
        "the backend could not prepare the migration"
    );
    let events = events();
    assert_eq!(
        events[events.len() - 3..],
        ["begin", "before_code 303 in_transaction=true", "rollback"]
    );
    assert!(db.has_table("a") && !db.has_table("c"));
    assert_eq!(db.applied(&migrator), [301]);
}
