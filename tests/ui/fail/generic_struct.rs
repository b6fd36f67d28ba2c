use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

#[migration(version = 3, description = "Add is_spammer to chat_users")]
pub struct AddIsSpammer<T>(core::marker::PhantomData<T>);

impl<T: Send + Sync + 'static> Migration for AddIsSpammer<T> {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
    }
}

impl<T: Send + Sync + 'static> Reversible for AddIsSpammer<T> {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users DROP COLUMN is_spammer")
    }
}

fn main() {}
