use migrate_sqlite::{BoxError, Db, Migration, Reversible, SqliteExt, migration};

/// The chat bot's first schema: its users, the chats it is in, and their messages.
#[migration(version = 1, description = "Initial schema")]
pub struct InitialSchema;

impl Migration for InitialSchema {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        // The one thing SQLite and PostgreSQL spell differently here: the current UTC
        // time as RFC 3339 text.
        let now = if db.sqlite().is_ok() {
            "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
        } else {
            r#"(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))"#
        };
        db.execute(&format!(
            "CREATE TABLE chat_users (
                 id INTEGER PRIMARY KEY,
                 username TEXT NOT NULL UNIQUE,
                 display_name TEXT NOT NULL,
                 created_at TEXT NOT NULL DEFAULT {now}
             );
             CREATE TABLE chats (
                 id INTEGER PRIMARY KEY,
                 title TEXT NOT NULL,
                 kind TEXT NOT NULL CHECK (kind IN ('private', 'group', 'channel'))
             );
             CREATE TABLE chat_messages (
                 id INTEGER PRIMARY KEY,
                 chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
                 user_id INTEGER NOT NULL REFERENCES chat_users (id),
                 body TEXT NOT NULL,
                 sent_at TEXT NOT NULL DEFAULT {now}
             );
             CREATE INDEX chat_messages_by_chat ON chat_messages (chat_id, sent_at);",
        ))
    }
}

impl Reversible for InitialSchema {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "DROP INDEX chat_messages_by_chat;
             DROP TABLE chat_messages;
             DROP TABLE chats;
             DROP TABLE chat_users;",
        )
    }
}
