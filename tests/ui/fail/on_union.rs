use migrate_sqlite::migration;

#[migration(version = 3, description = "Add is_spammer to chat_users")]
pub union AddIsSpammer {
    a: u32,
    b: f32,
}

fn main() {}
