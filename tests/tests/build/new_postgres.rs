//! A PostgreSQL-only project, set up as the docs say: its `migrate` command is
//! migrate-cli built with only the `postgres` feature, its migrations folder is included
//! with `migrate_postgres::include_migrations!()`, and it has no migrate-sqlite
//! dependency.
//!
//! - With the folder still empty the project builds and its command starts: the
//!   documented include keeps an empty folder legal (on PostgreSQL when a server runs).
//! - `migrate new` writes a file for migrate-postgres (before, it wrote
//!   `use migrate_sqlite::..` whatever the command was built with, so the file did not
//!   compile here), and the project builds with it, warnings denied.
//!
//! The child builds go into their own target directory, kept between runs.

use migrate_test_support as support;

use std::fs;
use std::path::Path;
use std::process::Command;

use support::{cargo_build, copy_lock_file, debug_binary, path_dependency, path_dependency_with};
use support::{child_target_dir, pg};

/// The project's command binary (not named `migrate`, so that it cannot be taken for the
/// other child projects' binary).
const BINARY: &str = "notes-migrate";

fn write(root: &Path, rel: &str, contents: &str) {
    let file = root.join(rel);
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, contents).unwrap_or_else(|e| panic!("write {rel}: {e}"));
}

/// The project, with an empty migrations folder.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        &format!(
            "[package]\nname = \"pg_notes\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{}\n{}\n\n[build-dependencies]\n{}\n\n\
             [[bin]]\nname = \"{BINARY}\"\npath = \"src/bin/migrate.rs\"\n\n[workspace]\n",
            path_dependency("migrate-postgres"),
            path_dependency_with(
                "migrate-cli",
                "default-features = false, features = [\"postgres\"]"
            ),
            path_dependency("migrate-build"),
        ),
    );
    copy_lock_file(root);
    write(
        root,
        "build.rs",
        "fn main() {\n    migrate_build::migrations(\"src/migrations\").generate_or_report();\n}\n",
    );
    write(
        root,
        "src/lib.rs",
        "//! Notes.\n#![deny(warnings)]\n\nmod migrations;\n",
    );
    write(
        root,
        "src/migrations.rs",
        "migrate_postgres::include_migrations!();\n",
    );
    write(
        root,
        "src/bin/migrate.rs",
        "#![deny(warnings)]\n\nuse pg_notes as _;\n\nfn main() {\n    migrate_cli::main()\n}\n",
    );
    fs::create_dir_all(root.join("src/migrations")).unwrap();
    dir
}

#[track_caller]
fn build(project: &Path, step: &str) {
    let output = cargo_build(
        project,
        &[],
        &child_target_dir!("postgres-only"),
        &["OUT_DIR"],
    );
    assert!(
        output.status.success(),
        "{step}: the build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The project's command with `args`, in the project folder.
fn migrate(project: &Path, args: &[&str]) -> std::process::Output {
    Command::new(debug_binary(&child_target_dir!("postgres-only"), BINARY))
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .current_dir(project)
        .output()
        .expect("run the project's command")
}

#[test]
fn migrate_new_in_a_postgres_only_project_writes_a_file_that_compiles() {
    let dir = project();
    let root = dir.path();
    build(root, "the empty project");

    if let Some(schema) = pg::TestSchema::new("new_postgres") {
        let url = pg::server_url(
            None,
            &format!("?options=-c%20search_path%3D{}", schema.name),
        );
        let status = migrate(root, &["--database", &url, "status"]);
        assert!(
            status.status.success(),
            "an empty folder included with include_migrations!() is legal: {status:?}"
        );
    }

    let new = migrate(root, &["new", "Create notes"]);
    assert!(new.status.success(), "{new:?}");
    let file = root.join("src/migrations/m0001_create_notes.rs");
    let code = fs::read_to_string(&file).expect("the new migration file");
    assert!(
        code.starts_with("use migrate_postgres::{BoxError, Db, Migration, Reversible, migration};"),
        "{code}"
    );
    assert!(!code.contains("migrate_sqlite"), "{code}");
    build(root, "the project with the new migration");
}
