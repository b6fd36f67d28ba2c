//! What happens when a migration fails, and what the manager refuses to do, on real
//! SQLite files: failed migrations roll back whole, refusals write nothing, and every
//! error names the migration and carries the cause.

use migrate_test_support as support;

use std::error::Error as _;
use std::sync::atomic::{AtomicBool, Ordering};

use migrate_sqlite::{
    BoxError, Db, Error, Migration, Migrator, RegisteredMigration, Reversible, Sqlite, State,
    migration,
};
use support::{TestDb, chain, with};

#[migration(version = 101, description = "Create notes")]
struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    }
}

impl Reversible for CreateNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE notes")
    }
}

static SQL_FIXED: AtomicBool = AtomicBool::new(false);

/// Its first statement succeeds, its second fails until "fixed".
#[migration(version = 102, description = "Tag notes")]
struct TagNotes;

impl Migration for TagNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE note_tags (note_id INTEGER NOT NULL, tag TEXT NOT NULL)")?;
        if SQL_FIXED.load(Ordering::SeqCst) {
            db.execute("INSERT INTO note_tags SELECT id, 'untagged' FROM notes")
        } else {
            db.execute("INSERT INTO no_such_table VALUES (1)")
        }
    }
}

impl Reversible for TagNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE note_tags")
    }
}

#[migration(version = 103, description = "Refuse by returning an error")]
struct ReturnsError;

impl Migration for ReturnsError {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE half_done (id INTEGER)")?;
        Err("the data is not ready for this migration".into())
    }
}

impl Reversible for ReturnsError {
    fn down(&self, _: &mut dyn Db) -> Result<(), BoxError> {
        Ok(())
    }
}

static PANIC_FIXED: AtomicBool = AtomicBool::new(false);

#[migration(version = 104, description = "Panic halfway")]
struct Panics;

impl Migration for Panics {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE panicked (id INTEGER)")?;
        if !PANIC_FIXED.load(Ordering::SeqCst) {
            panic!("bug in migration code");
        }
        Ok(())
    }
}

impl Reversible for Panics {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE panicked")
    }
}

#[migration(version = 105, description = "Commit by itself")]
struct CommitsItself;

impl Migration for CommitsItself {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE committed_early (id INTEGER); COMMIT;")
    }
}

impl Reversible for CommitsItself {
    fn down(&self, _: &mut dyn Db) -> Result<(), BoxError> {
        Ok(())
    }
}

#[migration(version = 106, description = "Drop legacy columns", irreversible)]
struct DropLegacy;

impl Migration for DropLegacy {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE legacy_dropped (id INTEGER)")
    }
}

#[migration(version = 107, description = "Archive notes")]
struct ArchiveNotes;

impl Migration for ArchiveNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE notes_archive (id INTEGER)")
    }
}

impl Reversible for ArchiveNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE notes_archive")
    }
}

static DOWN_FIXED: AtomicBool = AtomicBool::new(false);

#[migration(version = 108, description = "Index notes")]
struct IndexNotes;

impl Migration for IndexNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX notes_by_body ON notes (body)")
    }
}

impl Reversible for IndexNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP INDEX notes_by_body")?;
        if DOWN_FIXED.load(Ordering::SeqCst) {
            Ok(())
        } else {
            db.execute("DROP TABLE no_such_table")
        }
    }
}

fn assert_names(text: &str, version: u64, description: &str) {
    assert!(
        text.contains(&format!("migration {version} {description:?}")),
        "{text}"
    );
    assert!(text.contains("tests/tests/runner/failures.rs"), "{text}");
}

#[test]
fn an_sql_error_rolls_the_migration_back_whole_and_keeps_the_ones_before() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CreateNotes::get_migration(), TagNotes::get_migration()]);
    let error = migrator.to_latest(&mut db.open()).unwrap_err();
    let text = chain(&error);
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 102, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_names(&text, 102, "Tag notes");
    assert!(
        text.contains("no such table: no_such_table"),
        "SQLite's message: {text}"
    );

    assert!(db.has_table("notes"), "migration 101 stays applied");
    assert!(
        !db.has_table("note_tags"),
        "102's first statement is rolled back too"
    );
    assert_eq!(db.applied(&migrator), [101]);

    // After the fix, a rerun applies what is left.
    SQL_FIXED.store(true, Ordering::SeqCst);
    let report = migrator.to_latest(&mut db.open()).unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(db.applied(&migrator), [101, 102]);
    assert!(db.has_table("note_tags"));
}

#[test]
fn a_returned_error_rolls_back_and_is_the_source() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CreateNotes::get_migration(), ReturnsError::get_migration()]);
    let error = migrator.to_latest(&mut db.open()).unwrap_err();
    assert_names(&error.to_string(), 103, "Refuse by returning an error");
    assert_eq!(
        error.source().unwrap().to_string(),
        "the data is not ready for this migration"
    );
    assert!(!db.has_table("half_done"));
    assert_eq!(db.applied(&migrator), [101]);
}

#[test]
fn a_panic_rolls_back_and_becomes_an_error() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CreateNotes::get_migration(), Panics::get_migration()]);
    let error = migrator.to_latest(&mut db.open()).unwrap_err();
    assert!(
        matches!(&error, Error::MigrationPanicked { migration: migrate_core::MigrationRef { version: 104, .. }, message, .. } if message == "bug in migration code"),
        "{error:?}"
    );
    assert_names(&error.to_string(), 104, "Panic halfway");
    assert!(!db.has_table("panicked"));
    assert_eq!(db.applied(&migrator), [101]);

    PANIC_FIXED.store(true, Ordering::SeqCst);
    migrator.to_latest(&mut db.open()).unwrap();
    assert_eq!(db.applied(&migrator), [101, 104]);
}

#[test]
fn a_migration_cannot_commit_its_own_transaction() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CommitsItself::get_migration()]);
    let error = migrator.to_latest(&mut db.open()).unwrap_err();
    let text = chain(&error);
    assert_names(&text, 105, "Commit by itself");
    assert!(text.contains("cannot BEGIN, COMMIT or ROLLBACK"), "{text}");
    assert!(
        !db.has_table("committed_early"),
        "nothing of it was committed"
    );
    assert_eq!(db.applied(&migrator), Vec::<u64>::new());
}

#[test]
fn a_failing_down_rolls_back_and_keeps_the_migration_applied() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CreateNotes::get_migration(), IndexNotes::get_migration()]);
    migrator.to_latest(&mut db.open()).unwrap();
    let error = migrator.to_version(&mut db.open(), 0).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 108, .. },
                direction: migrate_sqlite::Direction::Down,
                ..
            }
        ),
        "{error:?}"
    );
    assert_names(&error.to_string(), 108, "Index notes");
    assert!(error.to_string().contains("migrating down"), "{error}");
    assert_eq!(db.applied(&migrator), [101, 108]);
    let index: i64 = db
        .open()
        .connection()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'notes_by_body'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(index, 1, "the index dropped by the failed down is back");

    DOWN_FIXED.store(true, Ordering::SeqCst);
    migrator.to_version(&mut db.open(), 0).unwrap();
    assert_eq!(db.applied(&migrator), Vec::<u64>::new());
}

#[test]
fn reverting_across_an_irreversible_migration_is_refused_before_anything_is_written() {
    let db = TestDb::named("test.db");
    let migrator = with(&[
        CreateNotes::get_migration(),
        DropLegacy::get_migration(),
        ArchiveNotes::get_migration(),
    ]);
    migrator.to_latest(&mut db.open()).unwrap();
    let before = db.snapshot();
    let error = migrator.to_version(&mut db.open(), 101).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Irreversible {
                migration: migrate_core::MigrationRef { version: 106, .. },
                target: 101,
                ..
            }
        ),
        "{error:?}"
    );
    assert_names(&error.to_string(), 106, "Drop legacy columns");
    assert_eq!(db.snapshot(), before, "107 was not reverted either");
    // Down to the irreversible one itself is fine.
    migrator.to_version(&mut db.open(), 106).unwrap();
    assert_eq!(db.applied(&migrator), [101, 106]);
}

#[test]
fn an_applied_version_this_program_lacks_is_refused_and_shown_in_status() {
    let db = TestDb::named("test.db");
    with(&[CreateNotes::get_migration(), ArchiveNotes::get_migration()])
        .to_latest(&mut db.open())
        .unwrap();
    // A program that lacks 107 (the crate defining it is not linked, or it is older).
    let older = with(&[CreateNotes::get_migration(), TagNotes::get_migration()]);
    let before = db.snapshot();
    let error = older.to_latest(&mut db.open()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::UnknownApplied {
                migration: migrate_core::MigrationRef { version: 107, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("107 \"Archive notes\""),
        "{error}"
    );
    assert!(error.to_string().contains("link the crate"), "{error}");
    assert_eq!(db.snapshot(), before);

    let status = older.status(&mut db.open()).unwrap();
    let unknown: Vec<u64> = status
        .iter()
        .filter(|row| matches!(row.state, State::Unknown { .. }))
        .map(|row| row.version)
        .collect();
    assert_eq!(unknown, [107]);
    assert_eq!(status.len(), 3, "101 applied, 102 pending, 107 unknown");
}

#[test]
fn out_of_order_is_refused_unless_allowed() {
    let db = TestDb::named("test.db");
    with(&[CreateNotes::get_migration(), ArchiveNotes::get_migration()])
        .to_latest(&mut db.open())
        .unwrap();
    // 106 arrives late (a branch merged after 107 was applied).
    let merged = with(&[
        CreateNotes::get_migration(),
        DropLegacy::get_migration(),
        ArchiveNotes::get_migration(),
    ]);
    let before = db.snapshot();
    let error = merged.to_latest(&mut db.open()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::OutOfOrder {
                migration: migrate_core::MigrationRef { version: 106, .. },
                highest_applied: 107,
                ..
            }
        ),
        "{error:?}"
    );
    assert_names(&error.to_string(), 106, "Drop legacy columns");
    assert_eq!(db.snapshot(), before);

    let merged = merged.allow_out_of_order(true);
    merged.to_latest(&mut db.open()).unwrap();
    assert_eq!(db.applied(&merged), [101, 106, 107]);
}

#[test]
fn an_unknown_target_is_refused_and_a_refused_run_creates_no_history_table() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CreateNotes::get_migration()]);
    let error = migrator.to_version(&mut db.open(), 42).unwrap_err();
    assert!(
        matches!(
            error,
            Error::UnknownTarget {
                version: 42,
                latest: 101
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        db.snapshot(),
        Vec::<String>::new(),
        "not even the history table"
    );
}

#[test]
fn the_history_table_name_is_configurable() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CreateNotes::get_migration()]);
    let mut sqlite = db.open().history_table("schema \"versions\"");
    migrator.to_latest(&mut sqlite).unwrap();
    let rows: i64 = sqlite
        .connection()
        .query_row(
            "SELECT count(*) FROM \"schema \"\"versions\"\"\"",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 1);
    assert!(!db.has_table("migrate_history"));
    assert!(migrator.to_latest(&mut sqlite).unwrap().is_empty());
}

#[test]
fn a_database_that_cannot_be_opened_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-dir").join("app.db");
    let error = Sqlite::open(&path).err().unwrap();
    let text = chain(&error);
    assert!(
        text.contains("could not open the SQLite database"),
        "{text}"
    );
    assert!(text.contains("missing-dir"), "{text}");
}

/// Another migration with version 101, as a second crate could define one. Built by hand:
/// `#[migration]` refuses a second version 101 in this crate at compile time
/// (ui/fail/duplicate_version_*.rs).
struct OtherNotes;

impl Migration for OtherNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE other_notes (id INTEGER PRIMARY KEY)")
    }
}

static OTHER_NOTES: RegisteredMigration = migrate_core::__private::registered_migration(
    101,
    "Create other notes",
    "OtherNotes",
    file!(),
    line!(),
    &OtherNotes,
    None,
    "",
    true,
    None,
    "0",
);

#[test]
fn duplicate_explicit_registrations_name_both_migrations() {
    let error = Migrator::new()
        .register_migrations([CreateNotes::get_migration(), &OTHER_NOTES])
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::DuplicateVersion {
                version: 101,
                first_type: "CreateNotes",
                second_type: "OtherNotes",
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("migration version 101 is used twice"),
        "{text}"
    );
    for m in [CreateNotes::get_migration(), &OTHER_NOTES] {
        let named = format!("`{}` ({}:{})", m.type_name(), m.file(), m.line());
        assert!(text.contains(&named), "names {named}: {text}");
    }
    assert!(text.contains("tests/tests/runner/failures.rs"), "{text}");
    // Either order of registration gives the same error.
    let reversed = Migrator::new()
        .register_migrations([&OTHER_NOTES, CreateNotes::get_migration()])
        .unwrap_err();
    assert_eq!(reversed.to_string(), text);
}

#[test]
fn the_same_migration_registered_twice_by_hand_is_one_migration() {
    let migrator = with(&[CreateNotes::get_migration(), CreateNotes::get_migration()]);
    assert_eq!(migrator.migrations().len(), 1);
    let db = TestDb::named("test.db");
    let report = migrator.to_latest(&mut db.open()).unwrap();
    assert_eq!(report.steps.len(), 1, "applied once");
    assert_eq!(db.applied(&migrator), [101]);
}

#[test]
fn a_write_lock_held_past_the_busy_timeout_is_a_database_error_naming_the_migration() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CreateNotes::get_migration()]);
    let holder = db.open();
    holder
        .connection()
        .execute_batch("BEGIN IMMEDIATE")
        .unwrap();

    let mut waiting = db
        .open()
        .busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
    let error = migrator.to_latest(&mut waiting).unwrap_err();
    let text = chain(&error);
    assert!(matches!(error, Error::Database { .. }), "{error:?}");
    assert!(text.contains("migration 101 \"Create notes\""), "{text}");
    assert!(text.contains("take the write lock"), "{text}");
    assert!(
        text.contains("database is locked"),
        "SQLite's message: {text}"
    );

    holder.connection().execute_batch("ROLLBACK").unwrap();
    migrator.to_latest(&mut waiting).unwrap();
    assert_eq!(db.applied(&migrator), [101]);
}

#[test]
fn a_corrupted_history_row_is_refused_naming_the_row() {
    let db = TestDb::named("test.db");
    let migrator = with(&[CreateNotes::get_migration()]);
    migrator.to_latest(&mut db.open()).unwrap();
    db.open()
        .connection()
        .execute_batch("UPDATE migrate_history SET version = -5")
        .unwrap();
    let before = db.snapshot();
    // Every run that reads the history refuses it: `status`, and a start whose fast
    // path is off or does not match (here: off). With the fast path on, a start that
    // finds the fingerprint of exactly its migrations does not read the history at all
    // (docs/performance.md): a row edited by hand is noticed on the next full read.
    let status = migrator.status(&mut db.open()).unwrap_err();
    let start = migrator
        .to_latest(&mut db.open().fast_start(false))
        .unwrap_err();
    for error in [status, start] {
        let text = chain(&error);
        assert!(matches!(error, Error::Database { .. }), "{error:?}");
        assert!(
            text.contains("could not read the migration history"),
            "{text}"
        );
        assert!(
            text.contains("history row for version -5 is corrupted"),
            "{text}"
        );
    }
    assert_eq!(db.snapshot(), before);
}

#[migration(version = 120, description = "Seed a dev note", irreversible, environments = ["dev"])]
struct SeedDevNote;

impl Migration for SeedDevNote {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO notes (body) VALUES ('dev')")
    }
}

fn flag_service_down(_: &mut migrate_sqlite::PlanContext<'_>) -> Result<bool, BoxError> {
    Err("the flag service did not answer".into())
}

#[migration(version = 121, description = "When the flag says so", irreversible, when = flag_service_down)]
struct WhenFlagSays;

impl Migration for WhenFlagSays {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO notes (body) VALUES ('flag')")
    }
}

/// No environment named with an environment-limited migration pending, and a condition
/// that fails: both refused with the file byte for byte as before, on a fresh database
/// (no history table created) and on one with history.
#[test]
fn a_missing_environment_and_a_failing_condition_write_nothing() {
    for fresh in [true, false] {
        let db = TestDb::named("test.db");
        if !fresh {
            with(&[CreateNotes::get_migration()])
                .to_latest(&mut db.open())
                .unwrap();
        }
        let before = db.bytes();
        let error = with(&[CreateNotes::get_migration(), SeedDevNote::get_migration()])
            .to_latest(&mut db.open())
            .unwrap_err();
        assert!(
            matches!(&error, Error::EnvironmentRequired { migrations } if migrations[0].migration.version == 120),
            "{error:?}"
        );
        assert_names(&error.to_string(), 120, "Seed a dev note");
        assert_eq!(db.bytes(), before, "fresh: {fresh}");

        let error = with(&[CreateNotes::get_migration(), WhenFlagSays::get_migration()])
            .to_latest(&mut db.open())
            .unwrap_err();
        assert!(
            matches!(
                &error,
                Error::ConditionFailed {
                    migration: migrate_core::MigrationRef { version: 121, .. },
                    condition: "flag_service_down",
                    ..
                }
            ),
            "{error:?}"
        );
        assert_names(&error.to_string(), 121, "When the flag says so");
        assert!(
            format!("{error:?}").contains("the flag service did not answer"),
            "the cause is kept: {error:?}"
        );
        if fresh {
            // Migration 101 was applied first, in its own transaction: only 121 is
            // refused, with nothing of its own written.
            assert_eq!(
                db.snapshot().iter().filter(|l| l.contains("121")).count(),
                0
            );
        } else {
            assert_eq!(db.bytes(), before, "with history");
        }
    }
}
