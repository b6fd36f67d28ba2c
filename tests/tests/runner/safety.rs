//! The safety options on real SQLite files: drift (checksums), migrations outside a
//! transaction, named sets, all-or-nothing runs, dry runs, baselines, hooks and the
//! foreign-key check. Every refusal writes nothing.

use migrate_test_support as support;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use migrate_sqlite::{
    BoxError, Db, Direction, Error, Migration, Migrator, Reversible, Sqlite, SqliteExt, State,
    Target, migration,
};
use support::{TestDb, chain, with};

#[migration(version = 801, description = "Create parents")]
struct CreateParents;

impl Migration for CreateParents {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE parents (id INTEGER PRIMARY KEY);
             CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id));
             INSERT INTO parents (id) VALUES (1), (2);",
        )
    }
}

impl Reversible for CreateParents {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE children; DROP TABLE parents;")
    }
}

#[migration(version = 802, description = "Add children")]
struct AddChildren;

impl Migration for AddChildren {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO children (parent_id) VALUES (1), (2)")
    }
}

impl Reversible for AddChildren {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DELETE FROM children")
    }
}

thread_local! {
    /// Whether 803 fails, for the test running on this thread: each test has a thread of
    /// its own and migrations run on the calling thread, so tests running in parallel
    /// cannot switch it for each other (a shared static made them flaky).
    static FAIL_803: Cell<bool> = const { Cell::new(true) };
}

#[migration(version = 803, description = "Add a flag to parents")]
struct AddFlag;

impl Migration for AddFlag {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE parents ADD COLUMN flag INTEGER")?;
        if FAIL_803.get() {
            return Err("not today".into());
        }
        Ok(())
    }
}

impl Reversible for AddFlag {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE parents DROP COLUMN flag")
    }
}

/// Leaves an orphan behind: deferring the foreign keys lets the insert through, and the
/// check before commit must catch it.
#[migration(version = 804, description = "Insert an orphan", irreversible)]
struct InsertOrphan;

impl Migration for InsertOrphan {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("PRAGMA defer_foreign_keys = ON; INSERT INTO children (parent_id) VALUES (999);")
    }
}

static FAIL_805: AtomicBool = AtomicBool::new(true);

/// Outside a transaction: it creates a table, then fails until "fixed".
#[migration(
    version = 805,
    description = "Rebuild outside a transaction",
    transaction = false
)]
struct RebuildOutside;

impl Migration for RebuildOutside {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE IF NOT EXISTS rebuilt (id INTEGER PRIMARY KEY)")?;
        if FAIL_805.load(Ordering::SeqCst) {
            return Err("stopped halfway".into());
        }
        db.execute("INSERT INTO rebuilt (id) VALUES (1); VACUUM;")
    }
}

impl Reversible for RebuildOutside {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE rebuilt")
    }
}

#[migration(
    version = 806,
    description = "Toggle foreign keys",
    irreversible,
    transaction = false
)]
struct ToggleForeignKeys;

impl Migration for ToggleForeignKeys {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        // Only outside a transaction does SQLite honour this pragma.
        db.execute("PRAGMA foreign_keys = OFF")?;
        let on: bool = db
            .sqlite()?
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
        db.execute("PRAGMA foreign_keys = ON")?;
        if on {
            Err("foreign_keys stayed on".into())
        } else {
            Ok(())
        }
    }
}

#[migration(version = 807, description = "Create events", set = "analytics")]
struct CreateEvents;

impl Migration for CreateEvents {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    }
}

impl Reversible for CreateEvents {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE events")
    }
}

#[test]
fn a_migration_changed_after_it_was_applied_is_refused_shown_and_can_be_accepted() {
    let db = TestDb::named("safety.db");
    let migrator = with(&[CreateParents::get_migration(), AddChildren::get_migration()]);
    migrator.to_version(&mut db.open(), 801).unwrap();
    let recorded: Vec<String> = db.query("SELECT checksum FROM migrate_history");
    assert_eq!(recorded, [CreateParents::get_migration().checksum()]);

    // The source of 801 "changes": the history holds another checksum than the binary.
    db.open()
        .connection()
        .execute_batch("UPDATE migrate_history SET checksum = 'before-the-edit'")
        .unwrap();
    let before = db.bytes();
    let error = migrator.to_latest(&mut db.open()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Modified {
                migration: migrate_core::MigrationRef { version: 801, .. },
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("migration 801 \"Create parents\" (tests/tests/runner/safety.rs)"),
        "{text}"
    );
    assert!(text.contains("before-the-edit"), "{text}");
    assert!(text.contains("accept_changes"), "{text}");
    assert_eq!(db.bytes(), before, "the refusal wrote nothing");
    let status = migrator.status(&mut db.open()).unwrap();
    assert!(
        matches!(status[0].state, State::Modified { .. }),
        "{status:?}"
    );

    // Told to go on, it does; accepting records the new checksum for good.
    migrator
        .clone()
        .allow_modified(true)
        .to_latest(&mut db.open())
        .unwrap();
    let accepted = migrator.accept_changes(&mut db.open()).unwrap();
    assert_eq!(
        accepted.iter().map(|m| m.version()).collect::<Vec<_>>(),
        [801]
    );
    assert!(migrator.to_latest(&mut db.open()).unwrap().is_empty());
    assert_eq!(db.applied(&migrator), [801, 802]);
}

#[test]
fn a_migration_outside_a_transaction_that_fails_is_marked_incomplete_until_cleared() {
    let db = TestDb::named("safety.db");
    let migrator = with(&[
        CreateParents::get_migration(),
        RebuildOutside::get_migration(),
    ]);
    let error = migrator.to_latest(&mut db.open()).unwrap_err();
    let text = chain(&error);
    assert!(
        matches!(
            error,
            Error::FailedOutsideTransaction {
                migration: migrate_core::MigrationRef { version: 805, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        text.contains("what it did before the failure stays"),
        "{text}"
    );
    assert!(text.contains("stopped halfway"), "{text}");
    // What it did stays (no transaction), and the history says so.
    assert_eq!(
        db.query::<String>("SELECT name FROM sqlite_master WHERE name = 'rebuilt'")
            .len(),
        1
    );
    let status = migrator.status(&mut db.open()).unwrap();
    assert!(
        matches!(status[1].state, State::Incomplete { .. }),
        "{status:?}"
    );

    // Every run refuses until someone has looked, and writes nothing.
    let before = db.bytes();
    let error = migrator.to_latest(&mut db.open()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Incomplete {
                migration: migrate_core::MigrationRef { version: 805, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("clear_incomplete(805)"),
        "{error}"
    );
    // Worded from the full history: the narrow start-up read has no start time.
    if let Error::Incomplete {
        started_at,
        migration,
        ..
    } = &error
    {
        assert!(started_at.starts_with("20"), "{error:?}");
        assert!(!migration.description.is_empty(), "{error:?}");
    }
    assert_eq!(db.bytes(), before);

    FAIL_805.store(false, Ordering::SeqCst);
    assert_eq!(
        migrator.clear_incomplete(&mut db.open(), 805).unwrap(),
        Some(migrate_sqlite::Direction::Up)
    );
    assert_eq!(
        migrator.clear_incomplete(&mut db.open(), 805).unwrap(),
        None
    );
    migrator.to_latest(&mut db.open()).unwrap();
    assert_eq!(db.applied(&migrator), [801, 805]);
    assert_eq!(db.query::<i64>("SELECT id FROM rebuilt"), [1]);
    // Its down runs outside a transaction too.
    migrator.to_version(&mut db.open(), 801).unwrap();
    assert_eq!(db.applied(&migrator), [801]);
}

#[test]
fn a_migration_outside_a_transaction_can_switch_foreign_keys_off() {
    let db = TestDb::named("safety.db");
    let migrator = with(&[
        CreateParents::get_migration(),
        ToggleForeignKeys::get_migration(),
    ]);
    let conn = migrate_sqlite::rusqlite::Connection::open(&db.path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    migrator
        .to_latest(&mut Sqlite::from_connection(conn).unwrap())
        .unwrap();
    assert_eq!(db.applied(&migrator), [801, 806]);
}

#[test]
fn all_or_nothing_applies_every_migration_or_none() {
    FAIL_803.set(true);
    let db = TestDb::named("safety.db");
    let failing = with(&[
        CreateParents::get_migration(),
        AddChildren::get_migration(),
        AddFlag::get_migration(),
    ])
    .all_or_nothing(true);
    let error = failing.to_latest(&mut db.open()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 803, .. },
                batch: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("none of its migrations is applied"),
        "{error}"
    );
    assert!(
        db.query::<String>("SELECT name FROM sqlite_master")
            .is_empty(),
        "not even the history table"
    );

    let batch =
        with(&[CreateParents::get_migration(), AddChildren::get_migration()]).all_or_nothing(true);
    let report = batch.to_latest(&mut db.open()).unwrap();
    assert_eq!(report.steps.len(), 2);
    assert_eq!(db.applied(&batch), [801, 802]);
    // Down in one transaction too.
    batch.to_version(&mut db.open(), 0).unwrap();
    assert_eq!(db.applied(&batch), Vec::<u64>::new());

    // A migration outside a transaction cannot join a batch: refused up front.
    let error = with(&[
        CreateParents::get_migration(),
        RebuildOutside::get_migration(),
    ])
    .all_or_nothing(true)
    .to_latest(&mut db.open())
    .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotTransactional {
                migration: migrate_core::MigrationRef { version: 805, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(db.applied(&batch), Vec::<u64>::new());
}

#[test]
fn a_dry_run_rehearses_on_the_real_database_and_keeps_nothing() {
    FAIL_803.set(true);
    let db = TestDb::named("safety.db");
    let migrator = with(&[CreateParents::get_migration(), AddChildren::get_migration()]);
    migrator.to_version(&mut db.open(), 801).unwrap();
    let before = db.bytes();

    let report = migrator.dry_run(&mut db.open(), Target::Latest).unwrap();
    let rehearsed: Vec<(u64, Direction)> = report
        .steps
        .iter()
        .map(|s| (s.version, s.direction))
        .collect();
    assert_eq!(rehearsed, [(802, Direction::Up)]);
    assert_eq!(db.bytes(), before, "a rehearsal keeps nothing");
    assert_eq!(db.applied(&migrator), [801]);

    let failing = with(&[
        CreateParents::get_migration(),
        AddChildren::get_migration(),
        AddFlag::get_migration(),
    ]);
    let error = failing.dry_run(&mut db.open(), Target::Latest).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 803, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(db.bytes(), before);
}

#[test]
fn baseline_adopts_an_existing_database_without_running_anything() {
    let db = TestDb::named("safety.db");
    // A database built before migrate: the tables of 801 and 802 already exist.
    db.open()
        .connection()
        .execute_batch(
            "CREATE TABLE parents (id INTEGER PRIMARY KEY);
             CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id));",
        )
        .unwrap();
    FAIL_803.set(false);
    let migrator = with(&[
        CreateParents::get_migration(),
        AddChildren::get_migration(),
        AddFlag::get_migration(),
    ]);
    let recorded = migrator.baseline(&mut db.open(), 802).unwrap();
    assert_eq!(
        recorded.iter().map(|m| m.version()).collect::<Vec<_>>(),
        [801, 802]
    );
    assert!(
        db.query::<i64>("SELECT id FROM children").is_empty(),
        "802 did not run"
    );
    let report = migrator.to_latest(&mut db.open()).unwrap();
    assert_eq!(
        report.steps.iter().map(|s| s.version).collect::<Vec<_>>(),
        [803]
    );

    let before = db.bytes();
    let error = migrator.baseline(&mut db.open(), 801).unwrap_err();
    assert!(
        matches!(
            error,
            Error::BaselineWithHistory {
                version: 801,
                applied: 3,
                highest: 803
            }
        ),
        "{error:?}"
    );
    assert_eq!(db.bytes(), before);
}

#[test]
fn hooks_run_around_every_migration_inside_its_transaction() {
    let db = TestDb::named("safety.db");
    let calls = Arc::new(Mutex::new(Vec::new()));
    let (before, after) = (Arc::clone(&calls), Arc::clone(&calls));
    let migrator = with(&[CreateParents::get_migration(), AddChildren::get_migration()])
        .before_each(move |step, _| {
            before.lock().unwrap().push(format!(
                "before {} {}",
                step.migration.version(),
                step.direction
            ));
            Ok(())
        })
        .after_each(move |step, db| {
            after.lock().unwrap().push(format!(
                "after {} {}",
                step.migration.version(),
                step.direction
            ));
            // Hooks see the migration's work in its transaction.
            db.execute("SELECT count(*) FROM parents")
        });
    migrator.to_latest(&mut db.open()).unwrap();
    migrator.to_version(&mut db.open(), 801).unwrap();
    assert_eq!(
        *calls.lock().unwrap(),
        [
            "before 801 up",
            "after 801 up",
            "before 802 up",
            "after 802 up",
            "before 802 down",
            "after 802 down"
        ]
    );

    // A failing hook fails its migration, which is rolled back.
    static HOOK_RUNS: AtomicUsize = AtomicUsize::new(0);
    let failing = with(&[CreateParents::get_migration(), AddChildren::get_migration()]).after_each(
        |step, _| {
            HOOK_RUNS.fetch_add(1, Ordering::SeqCst);
            if step.migration.version() == 802 {
                Err("audit log is full".into())
            } else {
                Ok(())
            }
        },
    );
    let error = failing.to_latest(&mut db.open()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 802, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        chain(&error).rsplit(" / ").next(),
        Some("audit log is full")
    );
    assert!(
        db.query::<i64>("SELECT id FROM children").is_empty(),
        "802 rolled back"
    );
    assert_eq!(HOOK_RUNS.load(Ordering::SeqCst), 1);
}

#[test]
fn with_foreign_keys_enforced_a_migration_that_leaves_a_violation_is_refused() {
    let db = TestDb::named("safety.db");
    let migrator = with(&[
        CreateParents::get_migration(),
        InsertOrphan::get_migration(),
    ]);
    let conn = migrate_sqlite::rusqlite::Connection::open(&db.path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let mut sqlite = Sqlite::from_connection(conn).unwrap();
    let error = migrator.to_latest(&mut sqlite).unwrap_err();
    let text = chain(&error);
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 804, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(text.contains("leaves 1 foreign-key violation "), "{text}");
    assert!(text.contains("table \"children\" rowid 1"), "{text}");
    assert_eq!(db.query::<i64>("SELECT count(*) FROM children"), [0]);
    assert_eq!(db.applied(&migrator), [801]);
}

#[test]
fn sets_keep_their_own_versions_and_history_in_one_database() {
    let db = TestDb::named("safety.db");
    let app = with(&[CreateParents::get_migration()]);
    let analytics = Migrator::for_set("analytics")
        .register_migrations([CreateEvents::get_migration()])
        .unwrap();
    app.to_latest(&mut db.open()).unwrap();
    assert_eq!(analytics.pending(&mut db.open()).unwrap().len(), 1);
    analytics.to_latest(&mut db.open()).unwrap();
    let sets: Vec<String> =
        db.query("SELECT migration_set || ':' || version FROM migrate_history ORDER BY 1");
    assert_eq!(sets, [":801", "analytics:807"]);
    // Each manager sees only its set: no "unknown applied" for the other one.
    assert!(app.to_latest(&mut db.open()).unwrap().is_empty());
    analytics.to_version(&mut db.open(), 0).unwrap();
    assert_eq!(db.applied(&app), [801]);

    let error = Migrator::new()
        .register_migrations([CreateEvents::get_migration()])
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::WrongSet {
                migration: migrate_core::MigrationRef { version: 807, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("Migrator::for_set(\"analytics\")"),
        "{error}"
    );
}

#[test]
fn an_all_or_nothing_batch_that_leaves_a_violation_is_refused_whole() {
    let db = TestDb::named("safety.db");
    let migrator = with(&[
        CreateParents::get_migration(),
        InsertOrphan::get_migration(),
    ])
    .all_or_nothing(true);
    let conn = migrate_sqlite::rusqlite::Connection::open(&db.path).unwrap();
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    let error = migrator
        .to_latest(&mut Sqlite::from_connection(conn).unwrap())
        .unwrap_err();
    let text = chain(&error);
    assert!(
        matches!(error, Error::MigrationFailed { batch: true, .. }),
        "{error:?}"
    );
    assert!(text.contains("foreign-key violation"), "{text}");
    assert!(
        db.query::<String>("SELECT name FROM sqlite_master")
            .is_empty(),
        "nothing of the batch is kept"
    );
}
