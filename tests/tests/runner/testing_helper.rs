//! `migrate_sqlite::testing::check_migrations` catches a `down` that does not undo its
//! `up`, naming the migration and the difference.

use migrate_sqlite::{BoxError, Db, Migration, Migrator, Reversible, migration};

#[migration(version = 901, description = "Create notes")]
struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    }
}

impl Reversible for CreateNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE notes")
    }
}

/// Its down forgets the index.
#[migration(version = 902, description = "Index notes")]
struct IndexNotes;

impl Migration for IndexNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "ALTER TABLE notes ADD COLUMN tag TEXT; CREATE INDEX notes_by_tag ON notes (tag);",
        )
    }
}

impl Reversible for IndexNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP INDEX notes_by_tag")
    }
}

#[migration(version = 903, description = "Purge notes", irreversible)]
struct PurgeNotes;

impl Migration for PurgeNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DELETE FROM notes")
    }
}

#[test]
fn a_down_that_leaves_a_column_behind_is_reported() {
    let migrator = Migrator::new()
        .register_migrations([CreateNotes::get_migration(), IndexNotes::get_migration()])
        .unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        migrate_sqlite::testing::check_migrations(&migrator)
    }))
    .expect_err("the check must fail");
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with(
            "the down of migration 902 \"Index notes\" (tests/tests/runner/testing_helper.rs:"
        ),
        "{message}"
    );
    assert!(
        message.contains("tag TEXT"),
        "the difference is shown: {message}"
    );
}

#[test]
fn good_migrations_pass_and_irreversible_ones_are_listed() {
    let migrator = Migrator::new()
        .register_migrations([CreateNotes::get_migration(), PurgeNotes::get_migration()])
        .unwrap();
    let checked = migrate_sqlite::testing::check_migrations(&migrator);
    assert_eq!(checked.applied, [901, 903]);
    assert_eq!(checked.reverted, [901]);
    assert_eq!(checked.irreversible, [903]);
}
