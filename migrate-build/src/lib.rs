//! The build-script helper of `migrate`: every file of the migrations folder is compiled,
//! with no `mod` line to forget, and a file that would register no migration fails the
//! build, naming it; and every crate of the dependency graph that holds migrations is
//! linked ([`link_migration_crates`]).
//!
//! `#[migration]` registers a migration wherever it is compiled, but a file is compiled
//! only when some `mod` line declares it. This crate writes those lines: the build script
//! lists the folder and generates a module per file.
//!
//! # Setup
//!
//! ```toml
//! [dependencies]
//! migrate-sqlite = "0.1"
//!
//! [build-dependencies]
//! migrate-build = "0.1"
//! ```
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     migrate_build::migrations("src/migrations").generate_or_report();
//! }
//! ```
//!
//! ```text
//! // src/migrations.rs, the module file next to the folder
//! migrate_sqlite::include_migrations!();
//!
//! // src/main.rs (or lib.rs)
//! mod migrations;
//! ```
//!
//! With migrate-postgres it is `migrate_postgres::include_migrations!();` (the same
//! macro, `migrate_core::include_migrations!`). The modules are declared where the macro
//! is (it can also go straight into `main.rs`); their `#[path]`s are absolute, so any
//! place works. Besides including the generated file, the macro declares the folder
//! linked into the program, so that while it is still empty `Migrator::discovered()`
//! finds no migration without an error; a raw
//! `include!(concat!(env!("OUT_DIR"), "/migrations.rs"))` compiles the files but does
//! not declare the folder, and an empty folder is then `Error::NoMigrations`.
//!
//! Then adding a file to `src/migrations/` is all it takes; `migrate new "<description>"`
//! (or [`write_new_migration`]) writes one with the next version.
//!
//! # What the build checks
//!
//! Every `*.rs` file of the folder, in name order (hidden files, subfolders and other
//! files are not migrations and are left alone):
//!
//! - its name is a module name: lowercase letters, digits and `_`, starting with a
//!   letter (`m0003_add_metadata.rs`); otherwise the error says what to rename it to;
//! - it has a `#[migration(..)]` attribute, outside comments and strings;
//! - when its name carries a version (`m` + digits, then `_` or the end of the name:
//!   `m0003_add_metadata.rs`, `m0003.rs`), each attribute in it has that version; the
//!   attribute checks the same rule when it compiles.
//!
//! A problem is an error naming the file and saying what to do; all of them are reported
//! at once. [`Migrations::generate_or_report`] shows each as an `error:` line of Cargo's
//! output; [`Migrations::generate`] returns them as an [`Error`].
//!
//! # Rebuilds
//!
//! The build script tells Cargo to run it again when anything in the folder changes
//! (`cargo::rerun-if-changed=<folder>`): Cargo then compares the modification time of the
//! folder and of everything in it, so adding, removing or renaming a file, and editing
//! one, runs the checks again and regenerates the module list. Nothing else reruns it.
//!
//! # The generated code
//!
//! `$OUT_DIR/migrations.rs` holds, for each file,
//! `#[path = "/absolute/path/src/migrations/m0001_initial_schema.rs"] mod m0001_initial_schema;`,
//! then
//!
//! - `pub(crate) const MIGRATION_FILES: &[&str]`: the absolute paths, which is how
//!   `file!()` names the files and so what `RegisteredMigration::file()` returns;
//! - `pub(crate) fn unregistered_migration_files(registered_files) -> Vec<&'static str>`:
//!   the files from which none of the registered migrations comes.
//!
//! The textual check cannot see an attribute behind a `cfg` that is off or inside a
//! macro; a test of the crate can:
//!
//! ```text
//! #[test]
//! fn every_migration_file_registers_a_migration() {
//!     let migrations = migrate_sqlite::discovered_migrations().unwrap();
//!     let files =
//!         crate::migrations::unregistered_migration_files(migrations.iter().map(|m| m.file()));
//!     assert!(files.is_empty(), "these files register no migration: {files:?}");
//! }
//! ```
//!
//! # Linking the crates that hold migrations
//!
//! A library of migrations is in a program only when the program's code names it.
//! [`link_migration_crates`] in a binary's build script, with
//! `migrate_sqlite::link_migration_crates!()` (or `migrate_postgres::`, or
//! `migrate_core::`: the same macro) in the binary, names every crate of the
//! package's dependency graph that depends on a migrate crate:
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     migrate_build::link_migration_crates();
//! }
//! ```
//!
//! ```text
//! // src/main.rs
//! migrate_sqlite::link_migration_crates!();
//! ```
//!
//! Both calls can share one build script. See [`link_migration_crates`] for what it reads
//! and writes, and docs/discovery.md for what it costs and what it cannot catch.
//!
//! # Without a build script
//!
//! [`Migrations::files`] and [`Migrations::code`] run the checks and render the code
//! without touching `OUT_DIR`:
//!
//! ```
//! # fn main() -> Result<(), migrate_build::Error> {
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(
//!     dir.path().join("m0001_create_users.rs"),
//!     "#[migration(version = 1, description = \"Create users\")]\npub struct CreateUsers;\n",
//! )
//! .unwrap();
//! let files = migrate_build::migrations(dir.path()).files()?;
//! assert_eq!(files[0].module_name(), "m0001_create_users");
//! assert_eq!(files[0].versions(), [1]);
//! # Ok(())
//! # }
//! ```

#![allow(
    clippy::needless_doctest_main,
    reason = "the examples are build scripts, whose `fn main` users copy"
)]

mod error;
mod folder;
mod json;
mod link;
mod name;
mod new;
mod scan;

pub use error::{Error, Result};
pub use folder::{MigrationFile, Migrations, migrations};
pub use link::{LINK_FILE, RUNTIME_PACKAGES, link_migration_crates, try_link_migration_crates};
pub use new::{
    NewMigration, Runtime, VersionStyle, check_description, next_version, timestamp_version,
    write_migration, write_new_migration,
};

use migrate_spec::MAX_VERSION;

/// The name of the file [`Migrations::generate`] writes into `OUT_DIR`.
pub const GENERATED_FILE: &str = "migrations.rs";

/// An error and its causes on one line, as a `cargo::error=` line needs.
pub(crate) fn one_line(error: &Error) -> String {
    let text = format!("{error:?}");
    text.split(['\n', '\r'])
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
