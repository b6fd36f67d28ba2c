// The name `migrate new` gives a migration whose description has no ASCII word: `m`, the
// version and nothing else. It carries version 9, for the attribute as for the build.
use migrate_sqlite::{BoxError, Db, Migration, migration};

#[migration(version = 10, description = "日本語", irreversible)]
pub struct Migration10;

impl Migration for Migration10 {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE t (id INTEGER)")
    }
}

fn main() {}
