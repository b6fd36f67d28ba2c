//! A `migrate` command that contains no migrations and names no crate that does: what
//! the command line says then (tests/tests/no_migrations.rs), reached through
//! `CARGO_BIN_EXE_migrate_empty`.

fn main() {
    migrate_cli::main()
}
