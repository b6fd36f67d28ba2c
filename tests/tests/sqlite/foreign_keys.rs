//! The foreign-key check after a migration, on real SQLite files with foreign keys
//! enforced: it checks what the migration could have broken and nothing else, tells
//! violations that existed before the migration from the ones it added, and reads no row
//! of a table the migration did not touch (counted in SQLite virtual-machine steps through
//! the progress handler, never in seconds).

use migrate_test_support as support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use migrate_sqlite::rusqlite::Connection;
use migrate_sqlite::{BoxError, Db, Error, Migration, Sqlite, migration};
use support::{TestDb, chain, with};

/// Creates a table nobody refers to and that refers to nobody's rows but `parents`.
#[migration(version = 901, description = "Create notes", irreversible)]
struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), body TEXT)",
        )
    }
}

/// Rebuilds `parents` keeping only the row with id 1: the recipe of SQLite's "other kinds
/// of table schema changes", with the keys deferred (foreign_keys = OFF is a no-op in a
/// transaction) and then switched back on, which forgets what was deferred.
#[migration(version = 902, description = "Rebuild parents", irreversible)]
struct RebuildParents;

impl Migration for RebuildParents {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "PRAGMA defer_foreign_keys = ON;
             CREATE TABLE parents_new (id INTEGER PRIMARY KEY, name TEXT);
             INSERT INTO parents_new (id) SELECT id FROM parents WHERE id = 1;
             DROP TABLE parents;
             ALTER TABLE parents_new RENAME TO parents;
             PRAGMA defer_foreign_keys = OFF;",
        )
    }
}

/// Rebuilds `children` with every row it has, and a new column.
#[migration(version = 903, description = "Rebuild children", irreversible)]
struct RebuildChildren;

impl Migration for RebuildChildren {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "PRAGMA defer_foreign_keys = ON;
             CREATE TABLE children_new (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), note TEXT);
             INSERT INTO children_new (id, parent_id) SELECT id, parent_id FROM children;
             DROP TABLE children;
             ALTER TABLE children_new RENAME TO children;
             PRAGMA defer_foreign_keys = OFF;",
        )
    }
}

/// Drops the only UNIQUE index on the column that `children` refers to.
#[migration(
    version = 904,
    description = "Drop the parent key's index",
    irreversible
)]
struct DropParentKeyIndex;

impl Migration for DropParentKeyIndex {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP INDEX keyed_parents_code")
    }
}

/// `parents (id)` with rows 1 and 2, `children` referring to them, and with `orphans`
/// set a child of parent 999 written with foreign keys off; then a connection with
/// foreign keys enforced.
fn database(db: &TestDb, orphans: bool) -> Connection {
    let conn = Connection::open(&db.path).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         CREATE TABLE parents (id INTEGER PRIMARY KEY);
         CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id));
         INSERT INTO parents (id) VALUES (1), (2);
         INSERT INTO children (id, parent_id) VALUES (1, 1), (2, 2);",
    )
    .unwrap();
    if orphans {
        conn.execute_batch("INSERT INTO children (id, parent_id) VALUES (7, 999)")
            .unwrap();
    }
    conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
    conn
}

#[test]
fn an_orphan_in_a_table_the_migration_does_not_touch_does_not_block_it() {
    let db = TestDb::named("fk.db");
    let mut sqlite = Sqlite::from_connection(database(&db, true)).unwrap();
    let migrator = with(&[CreateNotes::get_migration()]);
    migrator.to_latest(&mut sqlite).unwrap();
    assert_eq!(db.applied(&migrator), [901]);
    // The orphan is still there, not ours to remove.
    assert_eq!(
        db.query::<i64>("SELECT id FROM children WHERE parent_id = 999"),
        [7]
    );
    // The same in an all-or-nothing batch, whose check runs once at its end.
    let db = TestDb::named("fk.db");
    let mut sqlite = Sqlite::from_connection(database(&db, true)).unwrap();
    with(&[CreateNotes::get_migration()])
        .all_or_nothing(true)
        .to_latest(&mut sqlite)
        .unwrap();
    assert_eq!(db.applied(&migrator), [901]);
}

/// A rebuild that loses a parent row is refused, naming the table, rowid and parent, and
/// nothing of it is kept; in an all-or-nothing batch too.
#[test]
fn a_rebuild_that_orphans_rows_is_refused_naming_them() {
    for batch in [false, true] {
        let db = TestDb::named("fk.db");
        let conn = database(&db, false);
        let before = db.snapshot();
        let mut sqlite = Sqlite::from_connection(conn).unwrap();
        let migrator = with(&[
            CreateNotes::get_migration(),
            RebuildParents::get_migration(),
        ])
        .all_or_nothing(batch);
        let error = migrator.to_latest(&mut sqlite).unwrap_err();
        let text = chain(&error);
        assert!(
            matches!(
                error,
                Error::MigrationFailed {
                    migration: migrate_core::MigrationRef { version: 902, .. },
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(
            text.contains(
                "leaves 1 foreign-key violation in tables the migration wrote, rebuilt or whose \
                 parent it changed"
            ),
            "{text}"
        );
        assert!(
            text.contains("table \"children\" rowid 2 refers to a missing row of \"parents\""),
            "{text}"
        );
        assert!(!text.contains("existed before"), "{text}");
        assert!(
            text.contains("PRAGMA foreign_key_check(\"children\")"),
            "{text}"
        );
        drop(sqlite);
        if batch {
            assert_eq!(db.snapshot(), before, "nothing of the batch is kept");
        } else {
            assert_eq!(db.applied(&migrator), [901]);
            assert_eq!(db.query::<i64>("SELECT id FROM parents"), [1, 2]);
        }
    }
}

/// A violation in a table the migration rebuilt, that was there before it: refused (the
/// migration rebuilt the table, so its rows are its to get right), and reported as one
/// that existed before, with what to do.
#[test]
fn a_violation_that_existed_before_in_a_rebuilt_table_is_reported_as_such() {
    let db = TestDb::named("fk.db");
    let mut sqlite = Sqlite::from_connection(database(&db, true)).unwrap();
    let migrator = with(&[RebuildChildren::get_migration()]);
    let error = migrator.to_latest(&mut sqlite).unwrap_err();
    let text = chain(&error);
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 903, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        text.contains(
            "table \"children\" rowid 7 refers to a missing row of \"parents\" (foreign key #0), \
             a row that existed before this migration"
        ),
        "{text}"
    );
    assert!(
        text.contains("all 1 existed before this migration (rows written with foreign keys off)"),
        "{text}"
    );
    assert!(text.contains("delete those rows"), "{text}");
    drop(sqlite);
    assert!(db.applied(&migrator).is_empty());
}

/// A parent key that loses its UNIQUE index: SQLite no longer resolves the foreign key
/// (a "foreign key mismatch"), which no statement of the migration reported.
#[test]
fn a_parent_key_that_loses_its_unique_index_is_refused() {
    let db = TestDb::named("fk.db");
    let conn = Connection::open(&db.path).unwrap();
    conn.execute_batch(
        "CREATE TABLE keyed_parents (id INTEGER PRIMARY KEY, code TEXT);
         CREATE UNIQUE INDEX keyed_parents_code ON keyed_parents (code);
         CREATE TABLE keyed_children (id INTEGER PRIMARY KEY, code TEXT REFERENCES keyed_parents (code));
         INSERT INTO keyed_parents (code) VALUES ('a');
         INSERT INTO keyed_children (code) VALUES ('a');
         PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    let mut sqlite = Sqlite::from_connection(conn).unwrap();
    let migrator = with(&[DropParentKeyIndex::get_migration()]);
    let text = chain(&migrator.to_latest(&mut sqlite).unwrap_err());
    assert!(
        text.contains("the foreign keys of table \"keyed_children\" cannot be checked"),
        "{text}"
    );
    assert!(text.contains("foreign key mismatch"), "{text}");
    drop(sqlite);
    assert!(db.has_table("keyed_parents"));
    assert_eq!(
        db.query::<String>("SELECT name FROM sqlite_master WHERE type = 'index'"),
        ["keyed_parents_code"]
    );
}

/// The work of applying `CreateNotes` to a database whose `children` table (a child of
/// `parents`, which the migration does not touch) has `rows` rows, in SQLite
/// virtual-machine steps.
fn steps_to_create_notes(rows: i64) -> usize {
    let db = TestDb::named("fk.db");
    let mut conn = database(&db, false);
    conn.execute(
        "WITH RECURSIVE n (i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + 2)
         INSERT INTO children (id, parent_id) SELECT i, 1 + i % 2 FROM n",
        [rows],
    )
    .unwrap();
    let steps = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&steps);
    // Called every 100 virtual-machine instructions.
    conn.progress_handler(
        100,
        Some(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            false
        }),
    )
    .unwrap();
    let mut sqlite = Sqlite::from_connection(conn).unwrap();
    with(&[CreateNotes::get_migration()])
        .to_latest(&mut sqlite)
        .unwrap();
    steps.load(Ordering::Relaxed) * 100
}

#[test]
fn the_check_reads_no_row_of_a_table_the_migration_does_not_touch() {
    let empty = steps_to_create_notes(0);
    let big = steps_to_create_notes(10_000);
    // A scan of `children` alone takes several instructions per row: tens of thousands.
    assert!(
        big <= empty + 200,
        "instructions with 10,000 rows elsewhere: {big}, with none: {empty}"
    );
}

// The check carries the schema from one migration to the next in a run, and reads only
// the entries a migration added when the authorizer saw nothing but CREATE TABLE and
// CREATE INDEX. These cases decide as a full read would.

/// A table nobody refers to and that refers to nobody: the step before the one under
/// test, so that its schema is the carried one.
#[migration(version = 905, description = "Create a lone table", irreversible)]
struct CreateLone;

impl Migration for CreateLone {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE lone (id INTEGER PRIMARY KEY)")
    }
}

/// The same, with a version before the other migrations of this file.
#[migration(
    version = 900,
    description = "Create an early lone table",
    irreversible
)]
struct CreateEarly;

impl Migration for CreateEarly {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE early (id INTEGER PRIMARY KEY)")
    }
}

/// Creates the parent that `orders` already refers to, without a UNIQUE key on the
/// column it refers to.
#[migration(version = 906, description = "Create customers", irreversible)]
struct CreateCustomersWithoutKey;

impl Migration for CreateCustomersWithoutKey {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, code TEXT)")
    }
}

/// Another table nobody refers to.
#[migration(version = 907, description = "Create another lone table", irreversible)]
struct CreateLoneAgain;

impl Migration for CreateLoneAgain {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE lone_again (id INTEGER PRIMARY KEY)")
    }
}

/// `orders` refers to `customers (code)`, a table that does not exist yet; foreign keys
/// enforced.
fn orders_database(db: &TestDb) -> Sqlite {
    let conn = Connection::open(&db.path).unwrap();
    conn.execute_batch(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT REFERENCES customers (code));
         PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    Sqlite::from_connection(conn).unwrap()
}

/// A migration that only creates a table (the path that reads the added entries alone)
/// still finds the table that already referred to it, and the mismatch of its key.
#[test]
fn creating_a_parent_without_the_referred_key_is_refused_after_another_step() {
    let db = TestDb::named("fk.db");
    let mut sqlite = orders_database(&db);
    let migrator = with(&[
        CreateLone::get_migration(),
        CreateCustomersWithoutKey::get_migration(),
    ]);
    let text = chain(&migrator.to_latest(&mut sqlite).unwrap_err());
    assert!(
        text.contains("the foreign keys of table \"orders\" cannot be checked"),
        "{text}"
    );
    assert!(text.contains("foreign key mismatch"), "{text}");
    drop(sqlite);
    assert!(db.has_table("lone"));
    assert!(!db.has_table("customers"));
}

/// A migration that drops an index, after one whose schema is carried: the whole schema
/// is read again, and the lost key found.
#[test]
fn dropping_the_parent_key_index_after_another_step_is_refused() {
    let db = TestDb::named("fk.db");
    let conn = Connection::open(&db.path).unwrap();
    conn.execute_batch(
        "CREATE TABLE keyed_parents (id INTEGER PRIMARY KEY, code TEXT);
         CREATE UNIQUE INDEX keyed_parents_code ON keyed_parents (code);
         CREATE TABLE keyed_children (id INTEGER PRIMARY KEY, code TEXT REFERENCES keyed_parents (code));
         PRAGMA foreign_keys = ON;",
    )
    .unwrap();
    let mut sqlite = Sqlite::from_connection(conn).unwrap();
    let migrator = with(&[
        CreateEarly::get_migration(),
        DropParentKeyIndex::get_migration(),
    ]);
    let text = chain(&migrator.to_latest(&mut sqlite).unwrap_err());
    assert!(
        text.contains("the foreign keys of table \"keyed_children\" cannot be checked"),
        "{text}"
    );
    drop(sqlite);
    assert!(db.has_table("early"));
    assert_eq!(
        db.query::<String>("SELECT name FROM sqlite_master WHERE type = 'index'"),
        ["keyed_parents_code"]
    );
}

/// A rebuild of `parents` that orphans a row, after a step whose schema is carried: the
/// drop and rename take the full read, and the orphan is found.
#[test]
fn a_rebuild_after_another_step_is_still_checked() {
    let db = TestDb::named("fk.db");
    drop(database(&db, false));
    let mut sqlite = db.open();
    let migrator = with(&[
        CreateEarly::get_migration(),
        RebuildParents::get_migration(),
    ]);
    let text = chain(&migrator.to_latest(&mut sqlite).unwrap_err());
    assert!(text.contains("1 foreign-key violation"), "{text}");
    assert!(text.contains("table \"children\" rowid 2"), "{text}");
    drop(sqlite);
    assert_eq!(db.applied(&migrator), [900]);
}

/// Another connection creates the parent between two steps of a run: the schema carried
/// from the first step is stale (the step finds the history stale and rolls back, which
/// drops it; its `data_version` would tell too), so the second step reads it whole
/// again, and the parent is not taken for one the second step created (which would
/// check `orders`, and refuse it for a key mismatch that the second step did not cause).
#[test]
fn a_commit_by_another_connection_between_steps_invalidates_the_carried_schema() {
    let db = TestDb::named("fk.db");
    let mut sqlite = orders_database(&db);
    let path = db.path.clone();
    let migrator = with(&[
        CreateLone::get_migration(),
        CreateLoneAgain::get_migration(),
    ])
    .on_progress(move |step| {
        if step.version == 905 {
            Connection::open(&path)
                .unwrap()
                .execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, code TEXT)")
                .unwrap();
        }
    });
    let report = migrator.to_latest(&mut sqlite).unwrap();
    assert_eq!(report.steps.len(), 2);
    drop(sqlite);
    assert!(db.has_table("customers") && db.has_table("lone_again"));
}

/// The application creates the parent on the migrator's own connection between two runs
/// (its commit does not change `data_version`, but the schema version changes): the
/// second run reads the schema whole, so the parent is not taken for one its migration
/// created.
#[test]
fn a_schema_change_on_the_same_connection_between_runs_invalidates_the_carried_schema() {
    let db = TestDb::named("fk.db");
    let mut sqlite = orders_database(&db);
    with(&[CreateLone::get_migration()])
        .to_latest(&mut sqlite)
        .unwrap();
    sqlite
        .connection()
        .execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, code TEXT)")
        .unwrap();
    let migrator = with(&[
        CreateLone::get_migration(),
        CreateLoneAgain::get_migration(),
    ]);
    assert_eq!(migrator.to_latest(&mut sqlite).unwrap().steps.len(), 1);
}
