use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

/// Adds `is_spammer` to `chat_users`.
///
/// Doc comments and other attributes, before or after `#[migration]`, stay on the struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[migration(version = 117, description = "Add is_spammer to chat_users")]
#[allow(clippy::empty_structs_with_brackets)]
#[must_use]
pub struct AddIsSpammer {}

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

/// Drops `chat_logs`.
#[migration(version = 118, description = "Drop chat_logs", irreversible)]
/// A doc comment after the attribute.
#[derive(Debug, Default, Hash, PartialOrd, Ord, PartialEq, Eq)]
#[repr(C)]
pub struct DropChatLogs;

impl Migration for DropChatLogs {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE IF EXISTS chat_logs")
    }
}

fn main() {
    // The derives work on the struct as written.
    let add = AddIsSpammer::default();
    let copy = add;
    assert_eq!(add, copy);
    assert_eq!(format!("{add:?}"), "AddIsSpammer");
    assert_eq!(format!("{:?}", DropChatLogs), "DropChatLogs");
    assert_eq!(DropChatLogs::default(), DropChatLogs);

    assert_eq!(AddIsSpammer::get_migration().version(), 117);
    assert!(AddIsSpammer::get_migration().is_reversible());
    assert_eq!(DropChatLogs::get_migration().version(), 118);
    assert!(!DropChatLogs::get_migration().is_reversible());
}
