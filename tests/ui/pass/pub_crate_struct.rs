use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

#[migration(version = 103, description = "Add is_spammer to chat_users")]
pub(crate) struct AddIsSpammer;

impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY, is_spammer INTEGER)")
    }
}

impl Reversible for AddIsSpammer {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE chat_users")
    }
}

fn main() {
    let migration = AddIsSpammer::get_migration();
    assert_eq!(migration.version(), 103);
    assert_eq!(migration.description(), "Add is_spammer to chat_users");
}
