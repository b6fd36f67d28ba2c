//! Conditional migrations end to end, on a SQLite file and a PostgreSQL schema of their
//! own (skipped, saying so, without a server; see `pg`): a migration whose condition is
//! false is recorded as skipped with its reason and applied once the condition turns
//! true; one limited to environments is refused without an environment and skipped in
//! another; a step down past a skipped migration removes its row and runs no code; a
//! changed condition is drift; a dry run says what it would skip; a condition cannot
//! write, and one that fails or panics stops the run with nothing written.

use migrate_test_support::pg;

use migrate_core::{
    Backend, BoxError, Db, Direction, Error, Migration, Migrator, PlanContext, RegisteredMigration,
    Reversible, State, Target, When, migration,
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

/// Runs only where the table `feature_flags` exists (created by hand in the tests).
fn feature_flags_exist(context: &mut PlanContext<'_>) -> Result<When, BoxError> {
    match context
        .db()
        .execute("SELECT 1 FROM feature_flags WHERE 1 = 0")
    {
        Ok(()) => Ok(When::Run),
        Err(_) => Ok(When::Skip("no feature_flags table".to_owned())),
    }
}

#[migration(
    version = 2,
    description = "Index notes for the flag",
    irreversible,
    when = feature_flags_exist
)]
struct IndexForFlag;

impl Migration for IndexForFlag {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX notes_flag ON notes (body)")
    }
}

#[migration(
    version = 3,
    description = "Seed a demo note",
    irreversible,
    environments = ["dev", "test"]
)]
struct SeedDemoNote;

impl Migration for SeedDemoNote {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO notes (id, body) VALUES (1, 'demo')")
    }
}

fn never(_: &mut PlanContext<'_>) -> bool {
    false
}

/// `when` may return a plain `bool`: `false` records the predicate's name as the reason.
#[migration(version = 4, description = "Never runs", when = never)]
struct NeverRuns;

impl Migration for NeverRuns {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE never (id INTEGER)")
    }
}

impl Reversible for NeverRuns {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE never")
    }
}

/// Outside a transaction: the condition is decided in a transaction of its own before
/// the incomplete mark, so a skipped one leaves no mark.
#[migration(version = 10, description = "Never runs outside", transaction = false, when = never)]
struct NeverRunsOutside;

impl Migration for NeverRunsOutside {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE never_outside (id INTEGER)")
    }
}

impl Reversible for NeverRunsOutside {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE never_outside")
    }
}

fn writes(context: &mut PlanContext<'_>) -> Result<bool, BoxError> {
    context
        .db()
        .execute("INSERT INTO notes (id, body) VALUES (99, 'written by a condition')")?;
    Ok(true)
}

#[migration(version = 5, description = "Condition writes", irreversible, when = writes)]
struct ConditionWrites;

impl Migration for ConditionWrites {
    fn up(&self, _: &mut dyn Db) -> Result<(), BoxError> {
        Ok(())
    }
}

fn panics(_: &mut PlanContext<'_>) -> bool {
    panic!("the flag service is down")
}

#[migration(version = 6, description = "Condition panics", irreversible, when = panics)]
struct ConditionPanics;

impl Migration for ConditionPanics {
    fn up(&self, _: &mut dyn Db) -> Result<(), BoxError> {
        Ok(())
    }
}

fn with(migrations: &[&'static RegisteredMigration]) -> Migrator {
    Migrator::new()
        .register_migrations(migrations.iter().copied())
        .expect("distinct versions")
}

type Open<'a> = &'a mut dyn FnMut() -> Box<dyn Backend>;

fn states(migrator: &Migrator, db: &mut dyn Backend) -> Vec<(u64, State)> {
    migrator
        .status(db)
        .unwrap()
        .into_iter()
        .map(|m| (m.version, m.state))
        .collect()
}

fn skipped_reason(state: &State) -> Option<&str> {
    match state {
        State::Skipped { reason, .. } => Some(reason),
        _ => None,
    }
}

fn is_applied(state: &State) -> bool {
    matches!(state, State::Applied { .. })
}

fn count_notes(db: &mut dyn Backend) -> usize {
    // Through a failing statement per id: `Db` has no query method, so look for rows
    // by making a unique-key insert collide.
    (1..=99)
        .filter(|id| {
            db.db()
                .execute(&format!(
                    "INSERT INTO notes (id, body) VALUES ({id}, 'probe')"
                ))
                .map(|()| {
                    db.db()
                        .execute(&format!("DELETE FROM notes WHERE id = {id}"))
                        .unwrap()
                })
                .is_err()
        })
        .count()
}

fn a_false_condition_is_recorded_as_skipped_and_applied_once_true(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), IndexForFlag::get_migration()]);
    let mut db = open();
    let report = migrator.to_latest(&mut *db).unwrap();
    let steps: Vec<(u64, Option<&str>)> = report
        .steps
        .iter()
        .map(|s| (s.version, s.skipped.as_deref()))
        .collect();
    assert_eq!(steps, [(1, None), (2, Some("no feature_flags table"))]);
    let now = states(&migrator, &mut *db);
    assert!(is_applied(&now[0].1), "{now:?}");
    assert_eq!(skipped_reason(&now[1].1), Some("no feature_flags table"));
    assert!(migrator.pending(&mut *db).unwrap().is_empty());

    // Still false: nothing to do, and it stays skipped.
    assert!(migrator.to_latest(&mut *db).unwrap().is_empty());
    // A new connection (a new start of the application) evaluates it again.
    let mut db = open();
    assert!(migrator.to_latest(&mut *db).unwrap().is_empty());

    db.db()
        .execute("CREATE TABLE feature_flags (name TEXT)")
        .unwrap();
    let report = migrator.to_latest(&mut *db).unwrap();
    assert_eq!(report.steps.len(), 1);
    assert_eq!(
        (report.steps[0].version, report.steps[0].skipped.as_deref()),
        (2, None)
    );
    let now = states(&migrator, &mut *db);
    assert!(is_applied(&now[1].1), "{now:?}");
    assert!(migrator.to_latest(&mut *db).unwrap().is_empty());
}

/// Version 2 is skipped, 4 applied after it; when 2's condition turns true, it is
/// pending below an applied version that (declaring no `after`) needs it: refused as out
/// of order, like any late migration.
fn a_condition_that_turns_true_below_an_applied_migration_follows_the_out_of_order_rule(
    open: Open<'_>,
) {
    #[migration(version = 7, description = "Create tags")]
    struct CreateTags;
    impl Migration for CreateTags {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("CREATE TABLE tags (id INTEGER)")
        }
    }
    impl Reversible for CreateTags {
        fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("DROP TABLE tags")
        }
    }
    let migrator = with(&[
        CreateNotes::get_migration(),
        IndexForFlag::get_migration(),
        CreateTags::get_migration(),
    ]);
    let mut db = open();
    migrator.to_latest(&mut *db).unwrap();
    db.db()
        .execute("CREATE TABLE feature_flags (name TEXT)")
        .unwrap();
    let error = migrator.to_latest(&mut *db).unwrap_err();
    assert!(
        matches!(
            error,
            Error::OutOfOrder {
                migration: migrate_core::MigrationRef { version: 2, .. },
                needed_by: 7,
                ..
            }
        ),
        "{error:?}"
    );
    // Still recorded as skipped: the refusal wrote nothing.
    let now = states(&migrator, &mut *db);
    assert_eq!(skipped_reason(&now[1].1), Some("no feature_flags table"));
    migrator
        .clone()
        .allow_out_of_order(true)
        .to_latest(&mut *db)
        .unwrap();
    assert!(is_applied(&states(&migrator, &mut *db)[1].1));
}

/// A run that only reverts (the command line's `down`) applies nothing, so a skipped
/// migration whose condition turned true stays skipped there instead of making the run
/// refuse to go up.
fn a_run_that_only_reverts_leaves_skipped_migrations_alone(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), IndexForFlag::get_migration()]);
    let mut db = open();
    migrator.to_latest(&mut *db).unwrap();
    db.db()
        .execute("CREATE TABLE feature_flags (name TEXT)")
        .unwrap();
    let down_only = migrator.clone().only_direction(Direction::Down);
    assert!(down_only.to_version(&mut *db, 2).unwrap().is_empty());
    let now = states(&migrator, &mut *db);
    assert_eq!(skipped_reason(&now[1].1), Some("no feature_flags table"));
    let report = down_only.to_version(&mut *db, 1).unwrap();
    assert_eq!(
        (
            report.steps[0].version,
            report.steps[0].direction,
            report.steps[0].skipped.as_deref()
        ),
        (2, Direction::Down, Some("no feature_flags table"))
    );
}

fn environments_limit_a_migration_and_none_given_is_refused(open: Open<'_>) {
    let migrations = [CreateNotes::get_migration(), SeedDemoNote::get_migration()];
    let mut db = open();
    let error = with(&migrations).to_latest(&mut *db).unwrap_err();
    assert!(
        matches!(&error, Error::EnvironmentRequired { migrations } if migrations.len() == 1 && migrations[0].migration.version == 3),
        "{error:?}"
    );
    let text = error.to_string();
    for expected in [
        "migration 3 \"Seed a demo note\" (tests/tests/runner/conditions.rs; environments \"dev\", \"test\")",
        "Migrator::environment",
        "nothing was written",
    ] {
        assert!(text.contains(expected), "no {expected:?} in: {text}");
    }
    // Nothing was written: not even migration 1.
    assert!(with(&migrations).pending(&mut *db).unwrap().len() == 2);

    let production = with(&migrations).environment("production");
    let report = production.to_latest(&mut *db).unwrap();
    assert_eq!(
        report.steps[1].skipped.as_deref(),
        Some("environment \"production\" is not one of \"dev\", \"test\"")
    );
    assert_eq!(count_notes(&mut *db), 0);
    // Without an environment later, a skipped environment-limited migration stays so.
    assert!(with(&migrations).to_latest(&mut *db).unwrap().is_empty());

    let dev = with(&migrations).environment("dev");
    let report = dev.to_latest(&mut *db).unwrap();
    assert_eq!(
        (report.steps.len(), report.steps[0].skipped.as_deref()),
        (1, None)
    );
    assert_eq!(count_notes(&mut *db), 1);
}

fn a_step_down_past_a_skipped_migration_removes_its_row_and_runs_no_code(open: Open<'_>) {
    let migrator = with(&[
        CreateNotes::get_migration(),
        NeverRuns::get_migration(),
        NeverRunsOutside::get_migration(),
    ]);
    let mut db = open();
    let report = migrator.to_latest(&mut *db).unwrap();
    let skipped: Vec<Option<&str>> = report.steps.iter().map(|s| s.skipped.as_deref()).collect();
    assert_eq!(
        skipped,
        [
            None,
            Some("`never` returned false"),
            Some("`never` returned false")
        ]
    );
    assert!(
        matches!(states(&migrator, &mut *db)[2].1, State::Skipped { .. }),
        "no incomplete mark"
    );
    assert!(migrator.to_latest(&mut *db).unwrap().is_empty());
    // `down` of 4 would drop a table that does not exist: it must not run.
    let report = migrator.to_version(&mut *db, 0).unwrap();
    let steps: Vec<(u64, Direction, Option<&str>)> = report
        .steps
        .iter()
        .map(|s| (s.version, s.direction, s.skipped.as_deref()))
        .collect();
    assert_eq!(
        steps,
        [
            (10, Direction::Down, Some("`never` returned false")),
            (4, Direction::Down, Some("`never` returned false")),
            (1, Direction::Down, None)
        ]
    );
    assert!(
        migrator
            .status(&mut *db)
            .unwrap()
            .iter()
            .all(|m| m.state == State::Pending)
    );
}

fn a_rehearsal_says_what_it_would_skip_and_writes_nothing(open: Open<'_>) {
    let migrator = with(&[CreateNotes::get_migration(), IndexForFlag::get_migration()]);
    let mut db = open();
    let report = migrator.dry_run(&mut *db, Target::Latest).unwrap();
    assert_eq!(
        report.steps[1].skipped.as_deref(),
        Some("no feature_flags table")
    );
    assert_eq!(migrator.pending(&mut *db).unwrap().len(), 2);
}

/// Editing a skipped row's recorded checksum by hand stands for a changed condition
/// (`when` and `environments` are part of the checksum: see migrate-macros' source.rs).
fn a_changed_condition_is_drift(open: Open<'_>, table: &str) {
    let migrator = with(&[CreateNotes::get_migration(), IndexForFlag::get_migration()]);
    let mut db = open();
    migrator.to_latest(&mut *db).unwrap();
    db.db()
        .execute(&format!(
            "UPDATE {table} SET checksum = 'skipped:0123456789abcdef:no feature_flags table' \
             WHERE version = 2"
        ))
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
    assert!(matches!(
        states(&migrator, &mut *db)[1].1,
        State::Modified { .. }
    ));
    // Accepting the change keeps it skipped, with the new checksum.
    assert_eq!(migrator.accept_changes(&mut *db).unwrap().len(), 1);
    let now = states(&migrator, &mut *db);
    assert_eq!(skipped_reason(&now[1].1), Some("no feature_flags table"));
    assert!(migrator.to_latest(&mut *db).unwrap().is_empty());
}

fn a_condition_cannot_write_and_one_that_fails_writes_nothing(open: Open<'_>) {
    let mut db = open();
    with(&[CreateNotes::get_migration()])
        .to_latest(&mut *db)
        .unwrap();
    for (migration, says) in [
        (ConditionWrites::get_migration(), "writes"),
        (ConditionPanics::get_migration(), "the flag service is down"),
    ] {
        let migrator = with(&[CreateNotes::get_migration(), migration]);
        let error = migrator.to_latest(&mut *db).unwrap_err();
        assert!(
            matches!(&error, Error::ConditionFailed { migration: m, .. } if m.version == migration.version()),
            "{error:?}"
        );
        let text = format!("{error:?}");
        assert!(text.contains(says), "{text}");
        assert!(text.contains("neither ran nor was recorded"), "{text}");
        assert_eq!(count_notes(&mut *db), 0, "the condition's insert stayed");
        assert!(matches!(states(&migrator, &mut *db)[1].1, State::Pending));
    }
}

macro_rules! on_both {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $scenario() {
                    let dir = tempfile::tempdir().unwrap();
                    let path = dir.path().join("conditions.db");
                    super::$scenario(&mut || {
                        Box::new(migrate_sqlite::Sqlite::open(&path).unwrap())
                    });
                }
            )*

            #[test]
            fn a_changed_condition_is_drift() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("conditions.db");
                super::a_changed_condition_is_drift(
                    &mut || Box::new(migrate_sqlite::Sqlite::open(&path).unwrap()),
                    migrate_sqlite::DEFAULT_HISTORY_TABLE,
                );
            }
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

            #[test]
            fn a_changed_condition_is_drift() {
                let Some(schema) = super::pg::TestSchema::new("changed_condition") else {
                    return;
                };
                let url = schema.url();
                super::a_changed_condition_is_drift(
                    &mut || Box::new(migrate_postgres::Postgres::connect(&url).unwrap()),
                    "migrate_history",
                );
            }
        }
    };
}

on_both!(
    a_false_condition_is_recorded_as_skipped_and_applied_once_true,
    a_condition_that_turns_true_below_an_applied_migration_follows_the_out_of_order_rule,
    environments_limit_a_migration_and_none_given_is_refused,
    a_run_that_only_reverts_leaves_skipped_migrations_alone,
    a_step_down_past_a_skipped_migration_removes_its_row_and_runs_no_code,
    a_rehearsal_says_what_it_would_skip_and_writes_nothing,
    a_condition_cannot_write_and_one_that_fails_writes_nothing,
);
