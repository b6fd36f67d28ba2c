//! A `migrate` command whose migrations have conditions, for the command line's tests of
//! `--environment` and of skipped migrations (tests/tests/cli/conditions.rs). Four SQLite
//! migrations: one plain, one whose condition asks a "flag service" (an error when
//! `MIGRATE_TEST_FLAG_SERVICE_DOWN` is set), one for the `dev` and `test` environments
//! only, and one that runs only where the table `feature_flags` exists (the tests create
//! it by hand).

use migrate_sqlite::{BoxError, Db, Migration, PlanContext, Reversible, When, migration};

/// Notes.
#[migration(version = 1, description = "Create notes")]
pub struct CreateNotes;

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

/// Stands for a condition that asks a service: it fails while the service is down.
fn flag_service_up(_: &mut PlanContext<'_>) -> Result<bool, BoxError> {
    if std::env::var_os("MIGRATE_TEST_FLAG_SERVICE_DOWN").is_some() {
        return Err("the flag service is down".into());
    }
    Ok(true)
}

/// Settings, where the flag service answers.
#[migration(version = 2, description = "Create settings", when = flag_service_up)]
pub struct CreateSettings;

impl Migration for CreateSettings {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT)")
    }
}

impl Reversible for CreateSettings {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE settings")
    }
}

/// Demo data, for development and test databases only.
#[migration(version = 3, description = "Seed a demo note", environments = ["dev", "test"])]
pub struct SeedDemoNote;

impl Migration for SeedDemoNote {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("INSERT INTO notes (id, body) VALUES (1, 'demo')")
    }
}

impl Reversible for SeedDemoNote {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DELETE FROM notes WHERE id = 1")
    }
}

/// Runs only where the table `feature_flags` exists.
fn feature_flags_exist(context: &mut PlanContext<'_>) -> Result<When, BoxError> {
    match context
        .db()
        .execute("SELECT 1 FROM feature_flags WHERE 1 = 0")
    {
        Ok(()) => Ok(When::Run),
        Err(_) => Ok(When::Skip("no feature_flags table".to_owned())),
    }
}

/// An index that only a database with feature flags needs.
#[migration(version = 4, description = "Index notes for the flag", when = feature_flags_exist)]
pub struct IndexForFlag;

impl Migration for IndexForFlag {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX notes_body ON notes (body)")
    }
}

impl Reversible for IndexForFlag {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP INDEX notes_body")
    }
}

fn main() {
    migrate_cli::main()
}
