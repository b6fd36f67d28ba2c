//! `bundled` is a default feature of migrate-sqlite that a user can turn off, as rusqlite
//! users expect: a crate built with `default-features = false` compiles without the
//! bundled SQLite (and links the system's, of at least 3.44, which rusqlite 0.43 needs).

use migrate_test_support as support;

use std::fs;

#[test]
fn with_default_features_off_no_sqlite_is_bundled_and_the_crate_compiles() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("system-sqlite");
    fs::create_dir_all(root.join("src")).unwrap();
    fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"system-sqlite\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
             publish = false\n\n[dependencies]\n{}\n\n[workspace]\n",
            support::path_dependency_with("migrate-sqlite", "default-features = false")
        ),
    )
    .unwrap();
    fs::write(
        root.join("src/main.rs"),
        r#"use migrate_sqlite::{migration, BoxError, Db, Migration, Migrator, Sqlite};

#[migration(version = 1, description = "Create notes", irreversible)]
pub struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    }
}

fn main() -> Result<(), migrate_sqlite::Error> {
    let path = std::env::args().nth(1).expect("a database path");
    let mut db = Sqlite::open(path)?;
    let report = Migrator::discovered()?.to_latest(&mut db)?;
    println!("sqlite={} applied={}", migrate_sqlite::rusqlite::version(), report.steps.len());
    Ok(())
}
"#,
    )
    .unwrap();
    support::copy_lock_file(&root);
    let target = support::child_target_dir!("system-sqlite");
    // Compiles without the bundled SQLite (linking needs a system SQLite of at least
    // 3.44, which rusqlite 0.43 calls; this machine's is older, so the test stops at
    // `check`).
    let check = support::cargo(&root, "check", &[], &target, &[]);
    assert!(
        check.status.success(),
        "the crate without default features compiles:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let tree_text = libsqlite3_features(&root, &target);
    assert!(
        !tree_text.contains("\"bundled\""),
        "no bundled SQLite with default features off: {tree_text}"
    );

    // And with the default features, the bundled SQLite is in.
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    fs::write(
        root.join("Cargo.toml"),
        manifest.replace(", default-features = false", ""),
    )
    .unwrap();
    let tree_text = libsqlite3_features(&root, &target);
    assert!(
        tree_text.contains("\"bundled\""),
        "the default features bundle SQLite: {tree_text}"
    );
}

/// `cargo tree -e features -i libsqlite3-sys` of the crate at `root`: the features
/// libsqlite3-sys is built with, and who asks for them.
fn libsqlite3_features(root: &std::path::Path, target: &std::path::Path) -> String {
    let tree = support::cargo(
        root,
        "tree",
        &["-e", "features", "-i", "libsqlite3-sys"],
        target,
        &[],
    );
    let text = String::from_utf8_lossy(&tree.stdout).into_owned();
    assert!(
        tree.status.success(),
        "{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    assert!(
        text.contains("libsqlite3-sys"),
        "cargo tree lists libsqlite3-sys: {text}"
    );
    text
}
