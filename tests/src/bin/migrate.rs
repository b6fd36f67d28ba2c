//! The `migrate` command for the chat bot: `cargo run --bin migrate -- --help`.
//!
//! Its migrations are compiled into this program, which is why the command is built with
//! the application rather than installed on its own.

// Links the crate that holds the chat bot's migrations (docs/discovery.md).
use migrate_tests as _;

fn main() {
    migrate_cli::main()
}
