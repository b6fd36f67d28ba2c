//! The order in which the manager calls the `Backend` methods, asserted whole on real
//! runs against a real SQLite file, through a backend that wraps `Sqlite` and logs every
//! call: a start with nothing to do, two migrations applied, a conditional one skipped, a
//! `transaction = false` one, an all-or-nothing run, a failure rolled back. Among them
//! `prepare_code`: right before each migration's code, inside its transaction, per step of
//! a batch, and with no transaction open for a `transaction = false` migration, its error
//! failing the migration as an error of the code would.

use migrate_test_support as support;

use std::cell::RefCell;

use migrate_core::{
    Capabilities, CodeScope, Freshness, HistoryChange, HistoryRead, Read, RowState, Sessions,
    TxMode, Unsupported,
};
use migrate_sqlite::{
    Backend, BoxError, Db, Error, Migration, RegisteredMigration, Sqlite, migration,
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

/// `Sqlite`, logging every call but `db` (the code's own statements are logged by the
/// migrations), failing `prepare_code` for one version, and saying what `capabilities`
/// says.
struct Logged {
    inner: Sqlite,
    fail_before: Option<u64>,
    capabilities: Capabilities,
}

impl Backend for Logged {
    fn name(&self) -> &'static str {
        event("name".to_owned());
        self.inner.name()
    }
    fn capabilities(&self) -> Capabilities {
        event("capabilities".to_owned());
        self.capabilities
    }
    fn read_history(&mut self, read: Read<'_>) -> Result<HistoryRead, BoxError> {
        let what = match read {
            Read::All => "all",
            Read::Set(_) => "set",
            Read::SetUnlessUpToDate { .. } => "set unless up to date",
            _ => "other",
        };
        let found = self.inner.read_history(read)?;
        let answer = match &found {
            HistoryRead::Rows(rows) => format!("{} rows", rows.len()),
            HistoryRead::UpToDate => "up to date".to_owned(),
        };
        event(format!("read {what}: {answer}"));
        Ok(found)
    }
    fn write_history(&mut self, change: HistoryChange<'_>) -> Result<(), BoxError> {
        event(match &change {
            HistoryChange::Insert(row) => {
                let state = match row.state() {
                    RowState::Applied => "applied".to_owned(),
                    RowState::Skipped { .. } => "skipped".to_owned(),
                    RowState::Incomplete { direction } => format!("incomplete {direction}"),
                    _ => "other".to_owned(),
                };
                format!("insert {} {state}", row.version())
            }
            HistoryChange::Delete { version, .. } => format!("delete {version}"),
            HistoryChange::SetChecksum { version, .. } => format!("set checksum {version}"),
            _ => "other change".to_owned(),
        });
        self.inner.write_history(change)
    }
    fn begin(&mut self, mode: TxMode) -> Result<Freshness, BoxError> {
        let freshness = self.inner.begin(mode)?;
        let mode = match mode {
            TxMode::Write => "write",
            TxMode::ReadOnly => "read-only",
        };
        let stale = if freshness == Freshness::Stale {
            " (stale)"
        } else {
            ""
        };
        event(format!("begin {mode}{stale}"));
        Ok(freshness)
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
        event("end_run".to_owned());
        self.inner.end_run()
    }
    fn db(&mut self) -> &mut dyn Db {
        self.inner.db()
    }
    fn prepare_code(
        &mut self,
        migration: &RegisteredMigration,
        scope: CodeScope,
    ) -> Result<(), BoxError> {
        let version = migration.version();
        let scope_text = match scope {
            CodeScope::InTransaction => "in transaction",
            CodeScope::OutsideTransaction => "outside transaction",
        };
        event(format!("prepare_code {version} {scope_text}"));
        if self.fail_before == Some(version) {
            return Err("the backend could not prepare the migration".into());
        }
        self.inner.prepare_code(migration, scope)
    }
    fn verify(&mut self) -> Result<(), BoxError> {
        event("verify".to_owned());
        self.inner.verify()
    }
    fn sessions(&mut self) -> Result<&mut dyn Sessions, Unsupported> {
        event("sessions".to_owned());
        self.inner.sessions()
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
        capabilities: Capabilities::TRANSACTIONAL,
    }
}

/// A start with nothing to do: one read, answered "up to date", and the end of the run.
#[test]
fn calls_of_a_start_with_nothing_to_do() {
    let db = TestDb::named("calls_up_to_date.db");
    let mut backend = logged(&db, None);
    let migrator = with(&[CreateA::get_migration(), CreateC::get_migration()]);
    migrator.to_latest(&mut backend).unwrap();
    events();
    assert!(migrator.to_latest(&mut backend).unwrap().is_empty());
    assert_eq!(
        events(),
        [
            "capabilities",
            "read set unless up to date: up to date",
            "end_run"
        ]
    );
}

/// Two migrations, each in its own transaction: its code between `prepare_code` and
/// `verify`, then its row, then the commit.
#[test]
fn calls_of_two_migrations_applied() {
    let db = TestDb::named("calls_two.db");
    let mut backend = logged(&db, None);
    events();
    with(&[CreateA::get_migration(), CreateC::get_migration()])
        .to_latest(&mut backend)
        .unwrap();
    assert_eq!(
        events(),
        [
            "capabilities",
            "read set unless up to date: 0 rows",
            "begin write",
            "prepare_code 301 in transaction",
            "up 301",
            "verify",
            "insert 301 applied",
            "commit",
            "begin write",
            "prepare_code 303 in transaction",
            "up 303",
            "verify",
            "insert 303 applied",
            "commit",
            "end_run",
        ]
    );
}

/// A conditional migration: its condition in a read-only transaction of its own (under
/// the lock), then the write transaction that records the verdict; at the next start,
/// the skipped migration's condition again, read-only, and nothing written.
#[test]
fn calls_of_a_conditional_migration_skipped() {
    let db = TestDb::named("calls_skip.db");
    let mut backend = logged(&db, None);
    let migrator = with(&[CreateA::get_migration(), Never::get_migration()]);
    events();
    migrator.to_latest(&mut backend).unwrap();
    assert_eq!(
        events(),
        [
            "capabilities",
            "read set unless up to date: 0 rows",
            "begin write",
            "prepare_code 301 in transaction",
            "up 301",
            "verify",
            "insert 301 applied",
            "commit",
            "begin read-only",
            "name",
            "rollback",
            "begin write",
            "insert 305 skipped",
            "commit",
            "end_run",
        ]
    );
    assert!(migrator.to_latest(&mut backend).unwrap().is_empty());
    assert_eq!(
        events(),
        [
            "capabilities",
            "read set unless up to date: 2 rows",
            "begin read-only",
            "name",
            "rollback",
            "end_run",
        ]
    );
}

/// `transaction = false`: the mark committed; its code with no transaction open; the mark
/// replaced by its row in a transaction of its own.
#[test]
fn calls_of_a_migration_outside_a_transaction() {
    let db = TestDb::named("calls_outside.db");
    let mut backend = logged(&db, None);
    events();
    with(&[CreateA::get_migration(), CreateB::get_migration()])
        .to_latest(&mut backend)
        .unwrap();
    assert_eq!(
        events(),
        [
            "capabilities",
            "read set unless up to date: 0 rows",
            "begin write",
            "prepare_code 301 in transaction",
            "up 301",
            "verify",
            "insert 301 applied",
            "commit",
            "begin write",
            "delete 302",
            "insert 302 incomplete up",
            "commit",
            "prepare_code 302 outside transaction",
            "up 302",
            "begin write",
            "verify",
            "delete 302",
            "insert 302 applied",
            "commit",
            "end_run",
        ]
    );
}

/// A backend whose DDL is not transactional runs every migration as it runs a
/// `transaction = false` one, and refuses to run several in one transaction.
#[test]
fn calls_without_transactional_ddl() {
    let db = TestDb::named("calls_no_ddl.db");
    let mut backend = logged(&db, None);
    backend.capabilities = Capabilities::TRANSACTIONAL.without_transactional_ddl();
    let error = with(&[CreateA::get_migration()])
        .all_or_nothing(true)
        .to_latest(&mut backend)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotTransactional {
                migration: migrate_core::MigrationRef { version: 301, .. },
                ..
            }
        ),
        "{error:?}"
    );
    events();
    with(&[CreateA::get_migration()])
        .to_latest(&mut backend)
        .unwrap();
    assert_eq!(
        events(),
        [
            "capabilities",
            "read set unless up to date: 0 rows",
            "begin write",
            "delete 301",
            "insert 301 incomplete up",
            "commit",
            "prepare_code 301 outside transaction",
            "up 301",
            "begin write",
            "verify",
            "delete 301",
            "insert 301 applied",
            "commit",
            "end_run",
        ]
    );
}

/// All or nothing: one transaction, `prepare_code` before each step's code, one `verify`
/// for the batch.
#[test]
fn calls_of_an_all_or_nothing_run() {
    let db = TestDb::named("calls_batch.db");
    let mut backend = logged(&db, None);
    events();
    with(&[CreateA::get_migration(), CreateC::get_migration()])
        .all_or_nothing(true)
        .to_latest(&mut backend)
        .unwrap();
    assert_eq!(
        events(),
        [
            "capabilities",
            "read set unless up to date: 0 rows",
            "begin write",
            "prepare_code 301 in transaction",
            "up 301",
            "insert 301 applied",
            "prepare_code 303 in transaction",
            "up 303",
            "insert 303 applied",
            "verify",
            "commit",
            "end_run",
        ]
    );
}

/// An error of `prepare_code` fails the migration, named, rolled back, its code not run;
/// the migrations before it stay applied.
#[test]
fn an_error_of_prepare_code_fails_the_migration_like_its_code_would() {
    let db = TestDb::named("before_code_fails.db");
    let mut backend = logged(&db, Some(303));
    let migrator = with(&[CreateA::get_migration(), CreateC::get_migration()]);
    events();
    let error = migrator.to_latest(&mut backend).unwrap_err();
    let Error::MigrationFailed {
        migration: ref m,
        batch: false,
        ref source,
        ..
    } = error
    else {
        panic!("{error:?}");
    };
    assert_eq!((m.version, &*m.description), (303, "Create c"));
    assert_eq!(
        source.to_string(),
        "the backend could not prepare the migration"
    );
    assert_eq!(
        events(),
        [
            "capabilities",
            "read set unless up to date: 0 rows",
            "begin write",
            "prepare_code 301 in transaction",
            "up 301",
            "verify",
            "insert 301 applied",
            "commit",
            "begin write",
            "prepare_code 303 in transaction",
            "rollback",
            "end_run",
        ]
    );
    assert!(db.has_table("a") && !db.has_table("c"));
    assert_eq!(db.applied(&migrator), [301]);
}

// ---------------------------------------------------------------------------------------
// Conditions through a wrapping backend: the wrapper is the backend conditions see.
// ---------------------------------------------------------------------------------------

/// Runs only on SQLite: what the wrapped backend calls itself is what a condition sees.
fn on_sqlite(context: &mut migrate_sqlite::PlanContext<'_>) -> migrate_sqlite::When {
    if context.backend() == "sqlite" {
        migrate_sqlite::When::Run
    } else {
        migrate_sqlite::When::Skip(format!("not SQLite but {:?}", context.backend()))
    }
}

fn never(_: &mut migrate_sqlite::PlanContext<'_>) -> bool {
    false
}

fn writes(context: &mut migrate_sqlite::PlanContext<'_>) -> Result<bool, BoxError> {
    context.db().execute("INSERT INTO a (id) VALUES (99)")?;
    Ok(true)
}

#[migration(version = 304, description = "Create d on SQLite", irreversible, when = on_sqlite)]
struct CreateD;

impl Migration for CreateD {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        event("up 304".to_owned());
        db.execute("CREATE TABLE d (id INTEGER)")
    }
}

#[migration(version = 305, description = "Never", irreversible, when = never)]
struct Never;

impl Migration for Never {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        event("up 305".to_owned());
        db.execute("CREATE TABLE never (id INTEGER)")
    }
}

#[migration(version = 306, description = "Condition writes", irreversible, when = writes)]
struct ConditionWrites;

impl Migration for ConditionWrites {
    fn up(&self, _: &mut dyn Db) -> Result<(), BoxError> {
        event("up 306".to_owned());
        Ok(())
    }
}

/// A wrapper used to drop what the trait let it forget (`kind`, `record_skipped`,
/// `read_only` had defaults): wrapped, SQLite called itself "unknown" to conditions,
/// refused to record a skipped migration and let a condition write. Every method is now
/// required, so a wrapper forwards them or does not compile.
#[test]
fn a_wrapped_sqlite_is_sqlite_to_conditions_records_skips_and_stays_read_only() {
    let db = TestDb::named("wrapped_conditions.db");
    let mut backend = logged(&db, None);
    let migrator = with(&[
        CreateA::get_migration(),
        CreateD::get_migration(),
        Never::get_migration(),
    ]);
    let report = migrator.to_latest(&mut backend).unwrap();
    let skipped: Vec<_> = report
        .steps
        .iter()
        .map(|s| (s.version, s.skipped.clone()))
        .collect();
    assert_eq!(
        skipped,
        [
            (301, None),
            (304, None),
            (305, Some("`never` returned false".to_owned()))
        ]
    );
    assert!(db.has_table("d") && !db.has_table("never"));

    let writing = with(&[
        CreateA::get_migration(),
        CreateD::get_migration(),
        Never::get_migration(),
        ConditionWrites::get_migration(),
    ]);
    let error = writing.to_latest(&mut backend).unwrap_err();
    assert!(
        matches!(
            error,
            Error::ConditionFailed {
                migration: migrate_core::MigrationRef { version: 306, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        db.query::<i64>("SELECT count(*) FROM a"),
        [0],
        "the condition's insert stayed"
    );
}
