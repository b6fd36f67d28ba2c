//! The chat bot's schema, one migration per file.
//!
//! - `001` creates `chat_users`, `chats` and `chat_messages`;
//! - `002` adds `is_spammer` to `chat_users`;
//! - `003` adds `metadata` to `chat_users`.

mod m001_initial_schema;
mod m002_add_is_spammer;
mod m003_add_metadata;

pub use m001_initial_schema::InitialSchema;
pub use m002_add_is_spammer::AddIsSpammer;
pub use m003_add_metadata::AddMetadata;

/// The versions this module defines, lowest first.
pub const VERSIONS: [u64; 3] = [1, 2, 3];

/// Call this from a program that needs the chat bot's migrations: referring to this crate
/// makes sure the linker keeps it, and with it the migrations it registers
/// (docs/discovery.md explains why that matters).
pub fn link() {}
