//! Compiles every file of the chat bot's migrations folder, with no `mod` line per file.
fn main() {
    migrate_build::migrations("src/chat_bot/migrations").generate_or_report();
}
