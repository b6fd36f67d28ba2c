//! The conformance suite: the same end-to-end scenarios, with the same migrations (SQL
//! both databases speak), run against each backend: a SQLite file of its own, and a
//! PostgreSQL schema of its own (skipped, saying so, without a server; see `pg`). A
//! scenario sees the database only through the `Backend` trait, so what it checks is the
//! contract, not a backend's internals.

use migrate_test_support::pg;

use migrate_core::{
    Backend, BoxError, Db, Error, Migration, Migrator, RegisteredMigration, Reversible, State,
    Target, migration,
};

#[migration(version = 1, description = "Create notes")]
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

#[migration(version = 2, description = "Add tags to notes")]
struct AddTags;

impl Migration for AddTags {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE notes ADD COLUMN tags TEXT")
    }
}

impl Reversible for AddTags {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE notes DROP COLUMN tags")
    }
}

#[migration(
    version = 3,
    description = "Fails after creating a table",
    irreversible
)]
struct FailsHalfway;

impl Migration for FailsHalfway {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE half (id INTEGER)")?;
        db.execute("SELECT * FROM no_such_table")
    }
}

#[migration(version = 4, description = "Seed a note")]
struct SeedNote;

impl Migration for SeedNote {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO notes (id, body) VALUES (1, 'hello')")
    }
}

impl Reversible for SeedNote {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DELETE FROM notes WHERE id = 1")
    }
}

#[migration(
    version = 5,
    description = "Fails outside a transaction",
    transaction = false,
    irreversible
)]
struct FailsOutside;

impl Migration for FailsOutside {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE outside_partial (id INTEGER)")?;
        Err("stopped partway".into())
    }
}

#[migration(version = 6, description = "Create a log", irreversible)]
struct CreateLog;

impl Migration for CreateLog {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE log (id INTEGER)")
    }
}

#[migration(
    version = 7,
    description = "Index note bodies",
    after = [CreateNotes],
    tags = ["index"]
)]
struct IndexNotes;

impl Migration for IndexNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX notes_body ON notes (body)")
    }
}

impl Reversible for IndexNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP INDEX notes_body")
    }
}

fn with(migrations: &[&'static RegisteredMigration]) -> Migrator {
    Migrator::new()
        .register_migrations(migrations.iter().copied())
        .expect("distinct versions")
}

/// A way to open the scenario's database, as often as it likes.
type Open<'a> = &'a mut dyn FnMut() -> Box<dyn Backend>;

fn has_table(db: &mut dyn Backend, table: &str) -> bool {
    db.db()
        .execute(&format!("SELECT * FROM {table} WHERE 1 = 0"))
        .is_ok()
}

fn applied(migrator: &Migrator, db: &mut dyn Backend) -> Vec<u64> {
    migrator
        .status(db)
        .unwrap()
        .iter()
        .filter(|m| matches!(m.state, State::Applied { .. }))
        .map(|m| m.version)
        .collect()
}

fn applies_in_order_and_then_finds_nothing_to_do(open: Open<'_>) {
    let migrator = with(&[
        CreateNotes::get_migration(),
        AddTags::get_migration(),
        SeedNote::get_migration(),
    ]);
    let mut db = open();
    let report = migrator.to_latest(&mut *db).unwrap();
    let versions: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [1, 2, 4]);
    assert!(
        migrator.to_latest(&mut *open()).unwrap().is_empty(),
        "a new connection finds it done"
    );
    assert_eq!(applied(&migrator, &mut *db), [1, 2, 4]);
}

fn reverts_every_migration(open: Open<'_>) {
    let migrator = with(&[
        CreateNotes::get_migration(),
        AddTags::get_migration(),
        SeedNote::get_migration(),
    ]);
    let mut db = open();
    migrator.to_latest(&mut *db).unwrap();
    let report = migrator.to_version(&mut *db, 0).unwrap();
    let versions: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [4, 2, 1], "newest first");
    assert!(!has_table(&mut *db, "notes"));
    assert_eq!(applied(&migrator, &mut *db), Vec::<u64>::new());
}

fn a_failing_migration_is_rolled_back_and_the_ones_before_stay(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), FailsHalfway::get_migration()]);
    let mut db = open();
    let error = migrator.to_latest(&mut *db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 3, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(has_table(&mut *db, "notes"));
    assert!(!has_table(&mut *db, "half"), "rolled back whole");
    assert_eq!(applied(&migrator, &mut *db), [1]);
}

fn all_or_nothing_keeps_none(open: Open<'_>) {
    let migrator =
        with(&[CreateNotes::get_migration(), FailsHalfway::get_migration()]).all_or_nothing(true);
    let mut db = open();
    migrator.to_latest(&mut *db).unwrap_err();
    assert!(!has_table(&mut *db, "notes"));
    assert_eq!(applied(&migrator, &mut *db), Vec::<u64>::new());
}

fn a_rehearsal_keeps_nothing(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), AddTags::get_migration()]);
    let mut db = open();
    assert_eq!(
        migrator
            .dry_run(&mut *db, Target::Latest)
            .unwrap()
            .steps
            .len(),
        2
    );
    assert!(!has_table(&mut *db, "notes"));
    assert_eq!(applied(&migrator, &mut *db), Vec::<u64>::new());
}

fn a_changed_migration_is_refused_until_accepted(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), AddTags::get_migration()]);
    let mut db = open();
    migrator.to_latest(&mut *db).unwrap();
    db.db()
        .execute("UPDATE migrate_history SET checksum = 'edited' WHERE version = 2")
        .unwrap();
    let error = migrator.to_latest(&mut *db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Modified {
                migration: migrate_core::MigrationRef { version: 2, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(migrator.accept_changes(&mut *db).unwrap().len(), 1);
    assert!(migrator.to_latest(&mut *db).unwrap().is_empty());
}

fn an_unknown_applied_version_is_refused(open: Open<'_>) {
    let mut db = open();
    with(&[CreateNotes::get_migration(), AddTags::get_migration()])
        .to_latest(&mut *db)
        .unwrap();
    let error = with(&[CreateNotes::get_migration()])
        .to_latest(&mut *db)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::UnknownApplied {
                migration: migrate_core::MigrationRef { version: 2, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        format!("{error}").contains("Add tags to notes"),
        "worded from the history: {error}"
    );
}

fn out_of_order_is_refused_unless_allowed(open: Open<'_>) {
    let mut db = open();
    with(&[CreateNotes::get_migration(), SeedNote::get_migration()])
        .to_latest(&mut *db)
        .unwrap();
    let all = with(&[
        CreateNotes::get_migration(),
        AddTags::get_migration(),
        SeedNote::get_migration(),
    ]);
    let error = all.to_latest(&mut *db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::OutOfOrder {
                migration: migrate_core::MigrationRef { version: 2, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        !all.allow_out_of_order(true)
            .to_latest(&mut *db)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        applied(
            &with(&[
                CreateNotes::get_migration(),
                AddTags::get_migration(),
                SeedNote::get_migration()
            ]),
            &mut *db
        ),
        [1, 2, 4]
    );
}

/// 7 declares that it needs only 1, so 2 and 4, arriving after 7 was applied, are applied
/// without `allow_out_of_order`; had 7 declared nothing, 2 would be refused (above).
fn a_late_migration_that_no_applied_one_needs_is_applied(open: Open<'_>) {
    let mut db = open();
    with(&[CreateNotes::get_migration(), IndexNotes::get_migration()])
        .to_latest(&mut *db)
        .unwrap();
    let all = with(&[
        CreateNotes::get_migration(),
        AddTags::get_migration(),
        SeedNote::get_migration(),
        IndexNotes::get_migration(),
    ]);
    let report = all.to_latest(&mut *db).unwrap();
    let versions: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [2, 4]);
    assert_eq!(applied(&all, &mut *db), [1, 2, 4, 7]);
    assert!(all.to_latest(&mut *db).unwrap().is_empty());
    // Reverting goes from the highest version down, whatever the order of arrival.
    let report = all.to_version(&mut *db, 1).unwrap();
    let versions: Vec<u64> = report.steps.iter().map(|s| s.version).collect();
    assert_eq!(versions, [7, 4, 2]);
    assert!(!notes_body_index_exists(&mut *db));
}

fn notes_body_index_exists(db: &mut dyn Backend) -> bool {
    // Creating the index again succeeds only if the revert dropped it.
    let created = db
        .db()
        .execute("CREATE INDEX notes_body ON notes (body)")
        .is_ok();
    if created {
        db.db().execute("DROP INDEX notes_body").unwrap();
    }
    !created
}

fn an_interrupted_migration_outside_a_transaction_is_refused_until_cleared(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), FailsOutside::get_migration()]);
    let mut db = open();
    let error = migrator.to_latest(&mut *db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::FailedOutsideTransaction {
                migration: migrate_core::MigrationRef { version: 5, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(has_table(&mut *db, "outside_partial"), "what it did stays");
    let error = migrator.to_latest(&mut *open()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Incomplete {
                migration: migrate_core::MigrationRef { version: 5, .. },
                ..
            }
        ),
        "{error:?}"
    );
    db.db().execute("DROP TABLE outside_partial").unwrap();
    assert_eq!(
        migrator.clear_incomplete(&mut *db, 5).unwrap(),
        Some(migrate_core::Direction::Up)
    );
    assert_eq!(applied(&migrator, &mut *db), [1]);
}

fn a_baseline_adopts_an_existing_database(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), AddTags::get_migration()]);
    let mut db = open();
    db.db()
        .execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .unwrap();
    assert_eq!(migrator.baseline(&mut *db, 1).unwrap().len(), 1);
    let report = migrator.to_latest(&mut *db).unwrap();
    assert_eq!(report.steps.len(), 1, "only 2 runs");
    let error = migrator.baseline(&mut *db, 1).unwrap_err();
    assert!(
        matches!(error, Error::BaselineWithHistory { .. }),
        "{error:?}"
    );
}

fn redo_reverts_and_applies_the_last_migration(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), AddTags::get_migration()]);
    let mut db = open();
    migrator.to_latest(&mut *db).unwrap();
    let report = migrator.redo(&mut *db).unwrap();
    assert_eq!(report.steps.len(), 2);
    assert_eq!(applied(&migrator, &mut *db), [1, 2]);
}

fn a_rollback_across_an_irreversible_migration_is_refused_untouched(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), CreateLog::get_migration()]);
    let mut db = open();
    migrator.to_latest(&mut *db).unwrap();
    let error = migrator.to_version(&mut *db, 0).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Irreversible {
                migration: migrate_core::MigrationRef { version: 6, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(has_table(&mut *db, "log") && has_table(&mut *db, "notes"));
    assert_eq!(applied(&migrator, &mut *db), [1, 6]);
}

/// The versions in the history table, in order, unfinished rows too (none without a
/// table): what the backend recorded, not what the planner makes of it.
fn history(db: &mut dyn Backend) -> Vec<u64> {
    if !has_table(db, "migrate_history") {
        return Vec::new();
    }
    match db.read_history(migrate_core::Read::Set("")).unwrap() {
        migrate_core::HistoryRead::Rows(rows) => rows.iter().map(|row| row.version).collect(),
        other => panic!("a plain read of the history answered {other:?}"),
    }
}

fn applies_each_migration_once_and_reverts_them(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), AddTags::get_migration()]);
    let mut db = open();
    let report = migrator.to_latest(&mut *db).unwrap();
    assert_eq!(report.steps.len(), 2);
    assert!(has_table(&mut *db, "notes"));
    assert_eq!(history(&mut *db), [1, 2]);
    assert!(
        migrator.to_latest(&mut *db).unwrap().is_empty(),
        "nothing to do"
    );

    let status = migrator.status(&mut *db).unwrap();
    assert!(
        status
            .iter()
            .all(|m| matches!(m.state, State::Applied { .. }))
    );

    let report = migrator.to_version(&mut *db, 0).unwrap();
    assert_eq!(report.steps.len(), 2);
    assert!(!has_table(&mut *db, "notes"));
    assert_eq!(history(&mut *db), Vec::<u64>::new());
}

fn a_failing_migration_leaves_nothing_and_the_lock_is_free_after(open: Open<'_>) {
    let mut db = open();
    let error = with(&[CreateNotes::get_migration(), FailsHalfway::get_migration()])
        .to_latest(&mut *db)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 3, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(format!("{error:?}").contains("no_such_table"), "{error:?}");
    assert!(!has_table(&mut *db, "half"), "rolled back whole");
    assert_eq!(history(&mut *db), [1]);

    // Another session takes the lock ...
    let mut other = open();
    with(&[CreateNotes::get_migration(), AddTags::get_migration()])
        .to_latest(&mut *other)
        .expect("the lock was released when the failing run ended");
    // ... and so does the same session.
    with(&[
        CreateNotes::get_migration(),
        AddTags::get_migration(),
        SeedNote::get_migration(),
    ])
    .to_latest(&mut *db)
    .unwrap();
    assert_eq!(history(&mut *db), [1, 2, 4]);
}

fn drift_and_unknown_versions_are_refused_before_anything_runs(open: Open<'_>) {
    let mut db = open();
    let both = with(&[CreateNotes::get_migration(), AddTags::get_migration()]);
    both.to_latest(&mut *db).unwrap();
    db.db()
        .execute("UPDATE migrate_history SET checksum = 'edited' WHERE version = 2")
        .unwrap();
    let error = both.to_latest(&mut *db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Modified {
                migration: migrate_core::MigrationRef { version: 2, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(both.accept_changes(&mut *db).unwrap().len(), 1);
    assert!(both.to_latest(&mut *db).unwrap().is_empty());

    let error = with(&[CreateNotes::get_migration()])
        .to_latest(&mut *db)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::UnknownApplied {
                migration: migrate_core::MigrationRef { version: 2, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        format!("{error:?}").contains("Add tags to notes"),
        "worded from the full read: {error:?}"
    );
}

fn a_rehearsal_runs_everything_and_keeps_nothing(open: Open<'_>) {
    let mut db = open();
    let migrator = with(&[CreateNotes::get_migration(), AddTags::get_migration()]);
    let report = migrator.dry_run(&mut *db, Target::Latest).unwrap();
    assert_eq!(report.steps.len(), 2, "both ran");
    assert!(!has_table(&mut *db, "notes"), "and were rolled back");
    assert_eq!(history(&mut *db), Vec::<u64>::new());

    let error = with(&[CreateNotes::get_migration(), FailsHalfway::get_migration()])
        .dry_run(&mut *db, Target::Latest)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 3, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!has_table(&mut *db, "notes"));
}

fn all_or_nothing_keeps_none_when_one_fails(open: Open<'_>) {
    let mut db = open();
    let error = with(&[CreateNotes::get_migration(), FailsHalfway::get_migration()])
        .all_or_nothing(true)
        .to_latest(&mut *db)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 3, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        !has_table(&mut *db, "notes"),
        "migration 1 rolled back with 3"
    );
    assert_eq!(history(&mut *db), Vec::<u64>::new());
}

fn a_baseline_adopts_an_existing_database_once(open: Open<'_>) {
    let mut db = open();
    db.db()
        .execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        .unwrap();
    let migrator = with(&[CreateNotes::get_migration(), AddTags::get_migration()]);
    assert_eq!(migrator.baseline(&mut *db, 1).unwrap().len(), 1);
    assert!(
        migrator.baseline(&mut *db, 1).unwrap().is_empty(),
        "the same baseline again"
    );
    assert_eq!(
        migrator.to_latest(&mut *db).unwrap().steps.len(),
        1,
        "only 2 runs"
    );
    assert_eq!(history(&mut *db), [1, 2]);
}

/// One test per scenario and backend.
macro_rules! conformance {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $scenario() {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("conformance.db");
                    super::$scenario(&mut || {
                        Box::new(migrate_sqlite::Sqlite::open(&path).unwrap())
                    });
                }
            )*
        }

        mod postgres {
            $(
                #[test]
                fn $scenario() {
                    let Some(schema) = super::pg::TestSchema::new(stringify!($scenario)) else {
                        return;
                    };
                    let url = schema.url();
                    super::$scenario(&mut || {
                        Box::new(migrate_postgres::Postgres::connect(&url).unwrap())
                    });
                }
            )*
        }
    };
}

conformance!(
    applies_in_order_and_then_finds_nothing_to_do,
    reverts_every_migration,
    a_failing_migration_is_rolled_back_and_the_ones_before_stay,
    all_or_nothing_keeps_none,
    a_rehearsal_keeps_nothing,
    a_changed_migration_is_refused_until_accepted,
    an_unknown_applied_version_is_refused,
    out_of_order_is_refused_unless_allowed,
    a_late_migration_that_no_applied_one_needs_is_applied,
    an_interrupted_migration_outside_a_transaction_is_refused_until_cleared,
    a_baseline_adopts_an_existing_database,
    redo_reverts_and_applies_the_last_migration,
    a_rollback_across_an_irreversible_migration_is_refused_untouched,
    // Once in the PostgreSQL tests alone.
    applies_each_migration_once_and_reverts_them,
    a_failing_migration_leaves_nothing_and_the_lock_is_free_after,
    drift_and_unknown_versions_are_refused_before_anything_runs,
    a_rehearsal_runs_everything_and_keeps_nothing,
    all_or_nothing_keeps_none_when_one_fails,
    a_baseline_adopts_an_existing_database_once,
);
