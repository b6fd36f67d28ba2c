//! The two migrations of `postgres::backend` that its racing processes run too
//! (`src/bin/postgres_child.rs`): `chat_users`, then a column of it.

use migrate_postgres::{BoxError, Db, Migration, Reversible, migration};

#[migration(version = 1, description = "Create chat_users")]
pub(crate) struct CreateChatUsers;

impl Migration for CreateChatUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE chat_users (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL)")
    }
}

impl Reversible for CreateChatUsers {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE chat_users")
    }
}

#[migration(version = 2, description = "Add is_spammer to chat_users")]
pub(crate) struct AddIsSpammer;

impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer BOOLEAN NOT NULL DEFAULT FALSE")
    }
}

impl Reversible for AddIsSpammer {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users DROP COLUMN is_spammer")
    }
}
