use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

#[migration(version = 108, description = r#"Add "is_spammer" to chat_users"#)]
pub struct AddIsSpammer;

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
    assert_eq!(migration.description(), r#"Add "is_spammer" to chat_users"#);
    assert_eq!(migration.version(), 108);
}
