use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

/// The chat bot's first schema: its users, the chats it is in, and their messages.
#[migration(version = 1, description = "Initial schema")]
pub struct InitialSchema;

impl Migration for InitialSchema {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE chat_users (
                 id INTEGER PRIMARY KEY,
                 username TEXT NOT NULL UNIQUE,
                 display_name TEXT NOT NULL,
                 created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
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
                 sent_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
             );
             CREATE INDEX chat_messages_by_chat ON chat_messages (chat_id, sent_at);",
        )
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
