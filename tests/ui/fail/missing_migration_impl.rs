use migrate_sqlite::migration;

#[migration(
    version = 3,
    description = "Add is_spammer to chat_users",
    irreversible
)]
pub struct AddIsSpammer;

fn main() {}
