use migrate_postgres::PostgresExt;
use migrate_sqlite::{BoxError, Db, Migration, Reversible, SqliteExt, migration};

/// Gives every user a JSON `metadata` object, filled for existing users from what the
/// bot already knows (a data migration through each backend's own connection).
#[migration(version = 3, description = "Add metadata to chat_users")]
pub struct AddMetadata;

impl Migration for AddMetadata {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}'")?;
        // Each backend's own connection, typed: rusqlite's, or the postgres driver's.
        if let Ok(conn) = db.sqlite() {
            conn.execute(
                "UPDATE chat_users SET metadata = json_object('flagged', json(CASE is_spammer WHEN 0 THEN 'false' ELSE 'true' END))",
                [],
            )?;
        } else {
            db.postgres()?.execute(
                "UPDATE chat_users SET metadata = json_build_object('flagged', is_spammer <> 0)::text",
                &[],
            )?;
        }
        Ok(())
    }
}

impl Reversible for AddMetadata {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users DROP COLUMN metadata")
    }
}
