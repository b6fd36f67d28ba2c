use migrate_sqlite::migration;

#[migration(version = 3, description = "Add is_spammer to chat_users")]
pub const ADD_IS_SPAMMER: u64 = 3;

fn main() {}
