//! The code `#[migration]` generates is clean under clippy's pedantic lints and every
//! warning denied, in the user's crate: a real `cargo clippy` run on a generated crate
//! holding typical migrations (reversible, irreversible, outside a transaction, in a
//! named set, with a lock_timeout of their own, with tags, a category and dependencies,
//! public and private, at the root and in modules, with a `when` condition and
//! environments). The trybuild case `ui/pass/lint_clean.rs` covers rustc's lints only:
//! trybuild runs rustc, not clippy.
//!
//! A control crate with one pedantic finding, linted the same way, proves that the run
//! really applies the pedantic group. Like in any crate, clippy skips most lints on
//! tokens that carry the macro's own span and reports those on tokens with the user's
//! spans (the struct's name, its visibility): what the user's own clippy run would show.
//! Checked on a scratch change of the expansion: a generated method spanned at the
//! struct's name with an `as` cast made this test fail on `clippy::must_use_candidate`
//! and `clippy::cast_lossless`.
//!
//! The crates depend on `migrate-core` only (its expansion is the one `migrate-sqlite`
//! re-exports, with `::migrate_core` as the crate path), so no SQLite is compiled; they
//! share a target directory under this workspace's target (`CARGO_TARGET_TMPDIR/lints`),
//! so a rerun lints only the generated crates.

use migrate_test_support as support;

use std::fs;
use std::path::Path;
use std::process::Output;

use support::{copy_lock_file, path_dependency};

/// The lints, on the command line and (for `clean`) in the crate too, as a user who
/// denies them would write.
const CLIPPY_ARGS: &[&str] = &["--", "-D", "warnings", "-D", "clippy::pedantic"];

/// Typical migrations, as a user writes them, under the lints users deny.
const CLEAN: &str = r#"//! Migrations under every lint a strict crate denies.

#![deny(warnings)]
#![deny(
    clippy::all,
    clippy::pedantic,
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unused_qualifications,
    unused_results,
    trivial_casts,
    trivial_numeric_casts,
    single_use_lifetimes,
    unused_import_braces,
    unused_lifetimes,
    variant_size_differences
)]

use migrate_core::{BoxError, Db, Migration, Reversible, migration};

/// A reversible migration at the crate root.
#[derive(Debug)]
#[migration(version = 1, description = "Create chat_users")]
pub struct CreateChatUsers;

impl Migration for CreateChatUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY)")
    }
}

impl Reversible for CreateChatUsers {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE chat_users")
    }
}

/// Migrations in a module, as `include_migrations!` arranges them.
pub mod migrations {
    use migrate_core::{BoxError, Db, Migration, Reversible, migration};

    /// An irreversible migration, private to the crate.
    #[derive(Debug)]
    #[migration(version = 2, description = "Drop chat_logs", irreversible)]
    pub(crate) struct DropChatLogs;

    impl Migration for DropChatLogs {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("DROP TABLE IF EXISTS chat_logs")
        }
    }

    /// A private migration that nothing calls `get_migration()` on, with tags, a
    /// category and dependencies by struct (through a path) and by version.
    #[derive(Debug)]
    #[migration(
        version = 3,
        description = "Add is_spammer to chat_users",
        tags = ["spam", "slow"],
        category = "schema",
        after = [super::CreateChatUsers, 2]
    )]
    struct AddIsSpammer;

    impl Migration for AddIsSpammer {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER")
        }
    }

    impl Reversible for AddIsSpammer {
        fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("ALTER TABLE chat_users DROP COLUMN is_spammer")
        }
    }

    /// A migration outside a transaction.
    #[derive(Debug)]
    #[migration(
        version = 4,
        description = "Vacuum",
        irreversible,
        transaction = false,
        lock_timeout = "off"
    )]
    pub struct Vacuum;

    impl Migration for Vacuum {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("VACUUM")
        }
    }

    /// A migration of a named set, with the same version as one of the default set.
    #[derive(Debug)]
    #[migration(
        version = 1,
        description = "Create events",
        set = "analytics",
        lock_timeout = "30s"
    )]
    pub struct CreateEvents;

    impl Migration for CreateEvents {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY)")
        }
    }

    impl Reversible for CreateEvents {
        fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("DROP TABLE events")
        }
    }

    /// The condition of `SeedDemoUsers`.
    fn not_in_production(context: &mut migrate_core::PlanContext<'_>) -> bool {
        context.environment() != Some("production")
    }

    /// A conditional migration.
    #[derive(Debug)]
    #[migration(
        version = 5,
        description = "Seed demo users",
        irreversible,
        when = not_in_production,
        environments = ["dev", "test"]
    )]
    pub struct SeedDemoUsers;

    impl Migration for SeedDemoUsers {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("INSERT INTO chat_users (id) VALUES (1)")
        }
    }
}

fn main() {
    for m in [
        CreateChatUsers::get_migration(),
        migrations::DropChatLogs::get_migration(),
        migrations::Vacuum::get_migration(),
        migrations::CreateEvents::get_migration(),
        migrations::SeedDemoUsers::get_migration(),
    ] {
        println!("{} {}", m.version(), m.description());
    }
}
"#;

/// One finding of the pedantic group only (`clippy::cast_lossless`), nothing else.
const CONTROL: &str = r#"//! A pedantic finding.

fn main() {
    let small: u32 = 7;
    let wide = small as u64;
    println!("{wide}");
}
"#;

fn manifest(name: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n{}\n",
        path_dependency("migrate-core")
    )
}

/// The generated workspace, with the packages `clean` and `control`.
fn generated_workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    let write = |rel: &str, contents: &str| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("a file in a folder")).expect("create folder");
        fs::write(&path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    };
    write(
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"clean\", \"control\"]\n",
    );
    write("clean/Cargo.toml", &manifest("clean"));
    write("clean/src/main.rs", CLEAN);
    write("control/Cargo.toml", &manifest("control"));
    write("control/src/main.rs", CONTROL);
    copy_lock_file(root);
    dir
}

fn clippy(root: &Path, package: &str) -> Output {
    let mut args = vec!["--package", package, "--all-targets"];
    args.extend_from_slice(CLIPPY_ARGS);
    support::cargo(
        root,
        "clippy",
        &args,
        &support::child_target_dir!("lints"),
        &[],
    )
}

#[test]
fn the_generated_code_is_clean_under_clippy_pedantic_with_warnings_denied() {
    let dir = generated_workspace();

    let control = clippy(dir.path(), "control");
    let stderr = String::from_utf8_lossy(&control.stderr);
    assert!(
        !control.status.success() && stderr.contains("clippy::cast_lossless"),
        "the control crate must fail on clippy::cast_lossless, else the run does not apply \
         the pedantic lints: {stderr}"
    );

    let clean = clippy(dir.path(), "clean");
    let stderr = String::from_utf8_lossy(&clean.stderr);
    assert!(clean.status.success(), "clippy found something: {stderr}");
    assert!(
        !stderr.contains("warning") && !stderr.contains("error"),
        "clippy said something: {stderr}"
    );
    assert!(
        stderr.contains("Checking clean"),
        "clippy checked the crate: {stderr}"
    );
}
