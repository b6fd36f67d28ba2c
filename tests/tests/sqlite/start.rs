//! The SQLite start-up read (`Read::SetUnlessUpToDate` with the fast start off, which
//! compares the narrow read's rows with the known migrations) on a real file: it finds
//! nothing to do exactly when the history holds the known migrations, finished and
//! unchanged, and otherwise gives the rows the narrow read gives, so the planner decides
//! as before.

use migrate_test_support as support;

use migrate_sqlite::{
    BoxError, Db, Migration, Migrator, RegisteredMigration, Sqlite, migration, rusqlite,
};

#[migration(version = 1, description = "Create t_1", irreversible)]
struct T1;

impl Migration for T1 {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t_1 (id INTEGER)")
    }
}

#[migration(version = 2, description = "Create t_2", irreversible)]
struct T2;

impl Migration for T2 {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t_2 (id INTEGER)")
    }
}

#[migration(version = 3, description = "Create t_3", irreversible)]
struct T3;

impl Migration for T3 {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t_3 (id INTEGER)")
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
fn assert_decides_as_the_narrow_read(db: &mut Sqlite, case: &str, up_to_date: bool) {
    support::assert_start_read_decides_as_the_narrow_read(db, &known(), case, up_to_date);
}

#[test]
fn nothing_to_do_exactly_when_the_history_holds_the_known_migrations_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("start.db");
    let mut db = Sqlite::open(&path).unwrap();
    assert_decides_as_the_narrow_read(&mut db, "no history table", false);
    let migrator = Migrator::new().register_migrations(known()).unwrap();
    migrator.to_latest(&mut db).unwrap();
    assert_decides_as_the_narrow_read(&mut db, "all applied", true);

    let admin = rusqlite::Connection::open(&path).unwrap();
    let table = "migrate_history";
    admin
        .execute_batch(&format!(
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
            "UPDATE {t} SET complete = 0 WHERE version = 3",
        ),
        (
            "an interrupted down",
            "UPDATE {t} SET complete = 0, checksum = 'down:' || checksum WHERE version = 3",
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
        ("no rows", "DELETE FROM {t}"),
    ];
    for (case, sql) in cases {
        admin
            .execute_batch(&format!(
                "DELETE FROM {table}; INSERT INTO {table} SELECT * FROM {table}_saved"
            ))
            .unwrap();
        admin.execute_batch(&sql.replace("{t}", table)).unwrap();
        assert_decides_as_the_narrow_read(&mut db, case, false);
    }
    // Rows of another set are not this set's history.
    admin
        .execute_batch(&format!(
            "DELETE FROM {table}; INSERT INTO {table} SELECT * FROM {table}_saved; \
             INSERT INTO {table} SELECT 'other', version + 10, description, type_name, \
             checksum, applied_at, duration_us, 0 FROM {table}"
        ))
        .unwrap();
    assert_decides_as_the_narrow_read(&mut db, "another set's rows", true);
    assert!(migrator.to_latest(&mut db).unwrap().is_empty());
}
