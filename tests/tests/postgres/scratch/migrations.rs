//! The migration that the killed check of `postgres::scratch` runs, in its child process
//! (`src/bin/postgres_child.rs`, which includes this file): it writes the name of its
//! scratch schema where the parent reads it, then waits to be killed.

use std::time::Duration;

use migrate_postgres::{BoxError, Db, Migration, PostgresExt, Reversible, migration};

#[migration(
    set = "scratch",
    version = 1,
    description = "Waits in its scratch schema"
)]
pub(crate) struct WaitsInScratch;

impl Migration for WaitsInScratch {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE waits (id INT)")?;
        let schema: String = db
            .postgres()?
            .query_one("SELECT current_schema()", &[])?
            .get(0);
        // Where the parent reads it (a child's stdout reaches it only at the end).
        // Written whole, then renamed: the parent never reads half a name.
        if let Some(file) = std::env::var_os("SCRATCH_NAME_FILE") {
            let file = std::path::PathBuf::from(file);
            std::fs::write(file.with_extension("part"), schema)?;
            std::fs::rename(file.with_extension("part"), file)?;
        }
        // Killed in here by the parent.
        std::thread::sleep(Duration::from_secs(60));
        Ok(())
    }
}

impl Reversible for WaitsInScratch {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE waits")
    }
}
