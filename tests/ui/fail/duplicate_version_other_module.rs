mod m003_add_is_spammer {
    use migrate_sqlite::{BoxError, Db, Migration, migration};

    #[migration(
        version = 3,
        description = "Add is_spammer to chat_users",
        irreversible
    )]
    pub struct AddIsSpammer;

    impl Migration for AddIsSpammer {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
        }
    }
}

mod m003_add_metadata {
    use migrate_sqlite::{BoxError, Db, Migration, migration};

    #[migration(version = 3, description = "Add metadata to chat_users", irreversible)]
    pub struct AddMetadata;

    impl Migration for AddMetadata {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("ALTER TABLE chat_users ADD COLUMN metadata TEXT")
        }
    }
}

fn main() {}
