//! The fast start: with every migration applied, the start-up check reads one header field
//! (`user_version`, where the history's fingerprint is kept) instead of the history. These
//! tests show it never stands in for the full check when something is to be done.

use migrate_sqlite::{BoxError, Db, Error, Migration, Migrator, Reversible, Sqlite, migration};

macro_rules! table_migration {
    ($name:ident, $version:literal, $table:literal) => {
        #[migration(version = $version, description = "Create a table")]
        struct $name;

        impl Migration for $name {
            fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                db.execute(concat!(
                    "CREATE TABLE ",
                    $table,
                    " (id INTEGER PRIMARY KEY)"
                ))
            }
        }

        impl Reversible for $name {
            fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                db.execute(concat!("DROP TABLE ", $table))
            }
        }
    };
}

table_migration!(First, 951, "first");
table_migration!(Second, 952, "second");
table_migration!(Third, 953, "third");

fn migrator(n: usize) -> Migrator {
    let all = [
        First::get_migration(),
        Second::get_migration(),
        Third::get_migration(),
    ];
    Migrator::new()
        .register_migrations(all[..n].iter().copied())
        .unwrap()
}

fn user_version(path: &std::path::Path) -> i64 {
    Sqlite::open(path)
        .unwrap()
        .connection()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap()
}

#[test]
fn a_new_migration_is_applied_although_the_last_start_was_fast() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    migrator(2)
        .to_latest(&mut Sqlite::open(&path).unwrap())
        .unwrap();
    assert_ne!(user_version(&path), 0, "the fingerprint is stored");
    assert!(
        migrator(2)
            .to_latest(&mut Sqlite::open(&path).unwrap())
            .unwrap()
            .is_empty()
    );

    // The next build adds a migration: the fingerprint no longer matches, the full check
    // runs and applies it.
    let report = migrator(3)
        .to_latest(&mut Sqlite::open(&path).unwrap())
        .unwrap();
    assert_eq!(
        report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [953]
    );

    // An older build meets a history it does not know: refused, fast start or not.
    let error = migrator(2)
        .to_latest(&mut Sqlite::open(&path).unwrap())
        .unwrap_err();
    assert!(
        matches!(error, Error::UnknownApplied { version: 953, .. }),
        "{error:?}"
    );
}

#[test]
fn after_a_rollback_the_fast_start_does_not_claim_everything_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let all = migrator(3);
    all.to_latest(&mut Sqlite::open(&path).unwrap()).unwrap();
    all.to_version(&mut Sqlite::open(&path).unwrap(), 951)
        .unwrap();
    let report = all.to_latest(&mut Sqlite::open(&path).unwrap()).unwrap();
    assert_eq!(report.steps.len(), 2, "952 and 953 are applied again");
}

#[test]
fn a_user_version_the_program_owns_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    Sqlite::open(&path)
        .unwrap()
        .connection()
        .execute_batch("PRAGMA user_version = 42")
        .unwrap();
    let all = migrator(3);
    all.to_latest(&mut Sqlite::open(&path).unwrap()).unwrap();
    assert_eq!(user_version(&path), 42, "migrate did not write over it");
    // Starts still work: they take the full check.
    assert!(
        all.to_latest(&mut Sqlite::open(&path).unwrap())
            .unwrap()
            .is_empty()
    );
    all.to_version(&mut Sqlite::open(&path).unwrap(), 0)
        .unwrap();
    assert_eq!(user_version(&path), 42);
}

#[test]
fn turned_off_it_never_touches_user_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let all = migrator(3);
    all.to_latest(&mut Sqlite::open(&path).unwrap().fast_start(false))
        .unwrap();
    assert_eq!(user_version(&path), 0);
    assert!(
        all.to_latest(&mut Sqlite::open(&path).unwrap().fast_start(false))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_failed_migration_leaves_the_fingerprint_of_what_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    // `third` exists already, so 953 fails after 951 and 952 committed.
    Sqlite::open(&path)
        .unwrap()
        .connection()
        .execute_batch("CREATE TABLE third (x)")
        .unwrap();
    let all = migrator(3);
    assert!(all.to_latest(&mut Sqlite::open(&path).unwrap()).is_err());
    let fingerprint_of_two = user_version(&path);
    let fresh = dir.path().join("two.db");
    migrator(2)
        .to_latest(&mut Sqlite::open(&fresh).unwrap())
        .unwrap();
    assert_ne!(fingerprint_of_two, 0, "a fingerprint was written at all");
    assert_eq!(fingerprint_of_two, user_version(&fresh));
    // And the next start sees 953 pending.
    Sqlite::open(&path)
        .unwrap()
        .connection()
        .execute_batch("DROP TABLE third")
        .unwrap();
    assert_eq!(
        all.to_latest(&mut Sqlite::open(&path).unwrap())
            .unwrap()
            .steps
            .len(),
        1
    );
}
