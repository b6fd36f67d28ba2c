//! The PostgreSQL start-up read (`Read::SetUnlessUpToDate`), which
//! compares the history's rows in place with the known migrations: it finds nothing to
//! do exactly when the history holds the known migrations, finished and unchanged, and
//! otherwise gives the rows the narrow read gives, so the planner decides as before.

use migrate_test_support as support;
use migrate_test_support::pg;

use migrate_postgres::{
    Backend, BoxError, Db, Migration, Migrator, Postgres, RegisteredMigration, migration,
};

#[migration(set = "start", version = 1, description = "Create t_1", irreversible)]
struct T1;

impl Migration for T1 {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t_1 (id INT)")
    }
}

#[migration(set = "start", version = 2, description = "Create t_2", irreversible)]
struct T2;

impl Migration for T2 {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t_2 (id INT)")
    }
}

#[migration(set = "start", version = 3, description = "Create t_3", irreversible)]
struct T3;

impl Migration for T3 {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t_3 (id INT)")
    }
}

fn known() -> Vec<&'static RegisteredMigration> {
    vec![
        T1::get_migration(),
        T2::get_migration(),
        T3::get_migration(),
    ]
}

/// The start-up read against the narrow read, on the history as it is now.
#[track_caller]
fn assert_decides_as_the_narrow_read(db: &mut Postgres, case: &str, up_to_date: bool) {
    support::assert_start_read_decides_as_the_narrow_read(db, &known(), case, up_to_date);
}

#[test]
fn nothing_to_do_exactly_when_the_history_holds_the_known_migrations_unchanged() {
    let Some(mut schema) = pg::TestSchema::new("start_read") else {
        return;
    };
    let mut db = Postgres::connect(&schema.url()).unwrap();
    assert_decides_as_the_narrow_read(&mut db, "no history table", false);
    let migrator = Migrator::for_set("start")
        .register_migrations(known())
        .unwrap();
    migrator.to_latest(&mut db).unwrap();
    assert_decides_as_the_narrow_read(&mut db, "all applied", true);

    let table = format!("{}.migrate_history", schema.name);
    schema
        .admin()
        .batch_execute(&format!(
            "CREATE TABLE {table}_saved AS SELECT * FROM {table}"
        ))
        .unwrap();
    let cases = [
        (
            "a changed checksum",
            "UPDATE {t} SET checksum = 'feed' WHERE version = 2",
        ),
        (
            "a checksum with more",
            "UPDATE {t} SET checksum = checksum || ' ' WHERE version = 2",
        ),
        (
            "an incomplete row",
            "UPDATE {t} SET complete = false WHERE version = 3",
        ),
        (
            "an interrupted down",
            "UPDATE {t} SET complete = false, checksum = 'down:' || checksum WHERE version = 3",
        ),
        (
            "a skipped row",
            "UPDATE {t} SET checksum = 'skipped:' || checksum || ':not dev' WHERE version = 2",
        ),
        ("a missing row", "DELETE FROM {t} WHERE version = 2"),
        ("the last row missing", "DELETE FROM {t} WHERE version = 3"),
        (
            "an unknown row",
            "INSERT INTO {t} SELECT migration_set, 4, description, type_name, checksum, \
             applied_at, duration_us, complete FROM {t} WHERE version = 3",
        ),
        (
            "an unknown row in the middle",
            "UPDATE {t} SET version = 5 WHERE version = 3; INSERT INTO {t} SELECT \
             migration_set, 3, description, type_name, checksum, applied_at, duration_us, \
             complete FROM {t} WHERE version = 2; DELETE FROM {t} WHERE version = 2",
        ),
        ("no rows", "DELETE FROM {t}"),
    ];
    for (case, sql) in cases {
        schema
            .admin()
            .batch_execute(&format!(
                "DELETE FROM {table}; INSERT INTO {table} SELECT * FROM {table}_saved"
            ))
            .unwrap();
        schema
            .admin()
            .batch_execute(&sql.replace("{t}", &table))
            .unwrap();
        assert_decides_as_the_narrow_read(&mut db, case, false);
    }
    // Rows of another set are not this set's history.
    schema
        .admin()
        .batch_execute(&format!(
            "DELETE FROM {table}; INSERT INTO {table} SELECT * FROM {table}_saved; \
             INSERT INTO {table} SELECT 'other', version + 10, description, type_name, \
             checksum, applied_at, duration_us, false FROM {table}"
        ))
        .unwrap();
    assert_decides_as_the_narrow_read(&mut db, "another set's rows", true);
    assert!(migrator.to_latest(&mut db).unwrap().is_empty());
}

/// After a read that found nothing to do, a step's `begin` (the manager reads again
/// before it plans) takes the history as changed: never as current on nothing kept.
#[test]
fn a_begin_after_the_start_up_read_plans_anew() {
    let Some(schema) = pg::TestSchema::new("start_read_begin") else {
        return;
    };
    let mut db = Postgres::connect(&schema.url()).unwrap();
    let migrator = Migrator::for_set("start")
        .register_migrations(known())
        .unwrap();
    migrator.to_latest(&mut db).unwrap();
    let known = known();
    let read = migrate_core::Read::SetUnlessUpToDate {
        set: "start",
        known: &known,
    };
    assert_eq!(
        db.read_history(read).unwrap(),
        migrate_core::HistoryRead::UpToDate
    );
    assert_eq!(
        db.begin(migrate_core::TxMode::Write).unwrap(),
        migrate_core::Freshness::Stale,
        "nothing was kept to compare with"
    );
    db.rollback().unwrap();
    db.end_run().unwrap();
}
