mod migrations {
    pub mod chat {
        use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

        #[migration(version = 112, description = "Add is_spammer to chat_users")]
        pub struct AddIsSpammer;

        impl Migration for AddIsSpammer {
            fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER")
            }
        }

        impl Reversible for AddIsSpammer {
            fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                db.execute("ALTER TABLE chat_users DROP COLUMN is_spammer")
            }
        }
    }
}

fn main() {
    let migration = migrations::chat::AddIsSpammer::get_migration();
    assert_eq!(migration.version(), 112);
    assert_eq!(migration.type_name(), "AddIsSpammer");

    let discovered = migrate_sqlite::discovered_migrations().unwrap();
    assert_eq!(discovered.len(), 1);
    assert!(core::ptr::eq(discovered[0], migration));
}
