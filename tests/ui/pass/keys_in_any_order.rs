use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

#[migration(description = "Add is_spammer to chat_users", version = 110)]
pub struct AddIsSpammer;

impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
    }
}

impl Reversible for AddIsSpammer {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users DROP COLUMN is_spammer")
    }
}

#[migration(irreversible, description = "Drop chat_logs", version = 111)]
pub struct DropChatLogs;

impl Migration for DropChatLogs {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE IF EXISTS chat_logs")
    }
}

fn main() {
    let add = AddIsSpammer::get_migration();
    assert_eq!(add.version(), 110);
    assert_eq!(add.description(), "Add is_spammer to chat_users");
    assert!(add.is_reversible());

    let drop = DropChatLogs::get_migration();
    assert_eq!(drop.version(), 111);
    assert_eq!(drop.description(), "Drop chat_logs");
    assert!(!drop.is_reversible());
}
