//! End to end: a temporary Cargo project whose build script calls migrate-build, built
//! with `cargo build --offline` in a child process, and changed between builds the way a
//! user changes a migrations folder: files added by hand and by `write_new_migration`,
//! renamed, edited, removed.
//!
//! The project depends on this workspace's migrate-sqlite and migrate-build by path, and
//! its builds share one target directory under `CARGO_TARGET_TMPDIR`, kept between runs,
//! so a rerun compiles only the project itself.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use migrate_build::{Runtime, VersionStyle, write_new_migration};
use migrate_test_support as support;

fn child_target_dir() -> PathBuf {
    support::child_target_dir!("migrate-build")
}

const MAIN: &str = r#"#![deny(warnings)]

mod migrations;

fn main() {
    let discovered = migrate_sqlite::discovered_migrations().expect("discovery");
    for m in discovered {
        println!("migration {} {} {}", m.version(), m.type_name(), m.file());
    }
    for file in migrations::MIGRATION_FILES {
        println!("listed {file}");
    }
    let unregistered =
        migrations::unregistered_migration_files(discovered.iter().map(|m| m.file()));
    for file in unregistered {
        println!("unregistered {file}");
    }
}
"#;

/// A migration file with one irreversible migration.
fn migration(version: u64, ty: &str) -> String {
    format!(
        r#"use migrate_sqlite::{{BoxError, Db, Migration, migration}};

#[migration(version = {version}, description = "{ty}", irreversible)]
pub struct {ty};

impl Migration for {ty} {{
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {{
        db.execute("SELECT 1")
    }}
}}
"#
    )
}

/// The project: `src/migrations.rs` includes the generated module list, `main` prints
/// what it discovers.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{}\n\n[build-dependencies]\n{}\n\n[workspace]\n",
            support::path_dependency("migrate-sqlite"),
            support::path_dependency("migrate-build"),
        ),
    )
    .expect("write Cargo.toml");
    // The same dependency versions as this workspace, resolvable offline.
    support::copy_lock_file(root);
    fs::write(
        root.join("build.rs"),
        "fn main() {\n    migrate_build::migrations(\"src/migrations\").generate_or_report();\n}\n",
    )
    .expect("write build.rs");
    fs::create_dir_all(root.join("src/migrations")).expect("create src/migrations");
    fs::write(root.join("src/main.rs"), MAIN).expect("write main.rs");
    fs::write(
        root.join("src/migrations.rs"),
        "include!(concat!(env!(\"OUT_DIR\"), \"/migrations.rs\"));\n",
    )
    .expect("write migrations.rs");
    dir
}

/// `cargo build -v --offline` in the project, in the clean environment of
/// [`support::cargo`], into the shared target directory.
fn cargo_build(project: &Path) -> Output {
    support::cargo_build(project, &["-v"], &child_target_dir(), &["OUT_DIR"])
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Whether cargo ran the project's build script in this build.
fn ran_build_script(output: &Output) -> bool {
    stderr(output).lines().any(|line| {
        line.contains("Running `") && line.contains("/app-") && line.contains("build-script-build`")
    })
}

/// What the built program discovers.
#[derive(Debug, Default)]
struct Discovered {
    /// `VERSION TYPE FILE` per migration.
    migrations: Vec<(u64, String, String)>,
    listed: Vec<String>,
    unregistered: Vec<String>,
}

impl Discovered {
    fn versions(&self) -> Vec<u64> {
        self.migrations.iter().map(|m| m.0).collect()
    }
}

/// Builds the project (which must succeed) and runs it. Returns whether the build ran
/// the build script, and what the program discovered.
fn build_and_run(project: &Path, step: &str) -> (bool, Discovered) {
    let output = cargo_build(project);
    assert!(
        output.status.success(),
        "{step}: the build failed:\n{}",
        stderr(&output)
    );
    let binary = support::debug_binary(&child_target_dir(), "app");
    let run = Command::new(&binary)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    assert!(
        run.status.success(),
        "{step}: the program failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut discovered = Discovered::default();
    for line in String::from_utf8_lossy(&run.stdout).lines() {
        let (kind, rest) = line.split_once(' ').expect("`kind rest` lines");
        match kind {
            "migration" => {
                let mut parts = rest.splitn(3, ' ');
                let mut next = || parts.next().expect("VERSION TYPE FILE").to_owned();
                let version = next().parse().expect("a version");
                discovered.migrations.push((version, next(), next()));
            }
            "listed" => discovered.listed.push(rest.to_owned()),
            "unregistered" => discovered.unregistered.push(rest.to_owned()),
            _ => panic!("unexpected line {line:?}"),
        }
    }
    (ran_build_script(&output), discovered)
}

/// Builds the project, which must fail; returns cargo's error output.
fn build_fails(project: &Path, step: &str) -> String {
    let output = cargo_build(project);
    let err = stderr(&output);
    assert!(
        !output.status.success(),
        "{step}: the build succeeded:\n{err}"
    );
    err
}

/// The absolute path `file!()` gives for a file of the project's migrations folder.
fn file_path(project: &Path, name: &str) -> String {
    project
        .join("src/migrations")
        .join(name)
        .display()
        .to_string()
}

/// The migrations folder is the single source of truth: what is in it is compiled and
/// discovered, with no `mod` line, through every change a user makes to it.
#[test]
fn the_folder_is_the_single_source_of_truth() {
    let project = project();
    let root = project.path();
    let folder = root.join("src/migrations");

    // A file written by hand and one by `write_new_migration` (as `migrate new` does):
    // both discovered, the skeleton compiling under #![deny(warnings)].
    fs::write(
        folder.join("m0001_create_users.rs"),
        migration(1, "CreateUsers"),
    )
    .unwrap();
    let new = write_new_migration(
        &folder,
        "Add email to users",
        VersionStyle::Sequential,
        Runtime::Sqlite,
    )
    .expect("write the second migration");
    assert_eq!(new.version(), 2);
    let (ran, found) = build_and_run(root, "first build");
    assert!(ran, "the first build ran no build script");
    assert_eq!(found.versions(), [1, 2]);
    assert_eq!(found.migrations[1].1, "AddEmailToUsers");
    // `MIGRATION_FILES` holds exactly what `file!()`, and so `RegisteredMigration::file()`,
    // gives.
    let first = file_path(root, "m0001_create_users.rs");
    let second = file_path(root, "m0002_add_email_to_users.rs");
    assert_eq!(found.listed, [first.clone(), second.clone()]);
    assert_eq!(found.migrations[0].2, first);
    assert_eq!(found.migrations[1].2, second);
    assert!(found.unregistered.is_empty(), "{found:?}");

    // Nothing changed: the build script does not run again.
    let (ran, _) = build_and_run(root, "unchanged rebuild");
    assert!(!ran, "the build script ran although nothing changed");

    // A change outside the folder recompiles the crate but does not run the build script
    // (the folder is what it watches, not the whole package).
    fs::write(root.join("src/main.rs"), format!("{MAIN}// edited\n")).unwrap();
    let (ran, _) = build_and_run(root, "after editing main.rs");
    assert!(!ran, "the build script ran for a change outside the folder");

    // A file dropped in by hand is picked up on the next build.
    fs::write(folder.join("m0003_add_tags.rs"), migration(3, "AddTags")).unwrap();
    let (ran, found) = build_and_run(root, "after adding m0003");
    assert!(ran, "adding a file did not rerun the build script");
    assert_eq!(found.versions(), [1, 2, 3]);

    // Renamed: the migration now comes from the new file.
    fs::rename(folder.join("m0003_add_tags.rs"), folder.join("add_tags.rs")).unwrap();
    let (ran, found) = build_and_run(root, "after renaming m0003");
    assert!(ran, "renaming a file did not rerun the build script");
    assert_eq!(found.versions(), [1, 2, 3]);
    assert_eq!(found.migrations[2].2, file_path(root, "add_tags.rs"));

    // A file without the attribute fails the build, naming it.
    fs::write(
        folder.join("notes.rs"),
        "// #[migration(version = 4)] some day\n",
    )
    .unwrap();
    let err = build_fails(root, "with notes.rs");
    assert!(
        err.contains("error: app@0.1.0: src/migrations/notes.rs has no #[migration(..)] attribute"),
        "the error does not name notes.rs:\n{err}"
    );
    fs::remove_file(folder.join("notes.rs")).unwrap();

    // An edit that makes the attribute's version differ from the file name's fails the
    // build, naming the file and both versions: editing a file reruns the checks too.
    let original = fs::read_to_string(folder.join("m0001_create_users.rs")).unwrap();
    fs::write(
        folder.join("m0001_create_users.rs"),
        original.replace("version = 1,", "version = 5,"),
    )
    .unwrap();
    let err = build_fails(root, "with m0001 saying version 5");
    assert!(
        err.contains(
            "src/migrations/m0001_create_users.rs has version 1 in its name but \
             #[migration(version = 5, ..)] in its attribute"
        ),
        "the error does not name the file and both versions:\n{err}"
    );
    fs::write(folder.join("m0001_create_users.rs"), original).unwrap();

    // A removed file is gone from discovery. A file whose migration is compiled out
    // passes the textual check, and the check in the generated code names it.
    fs::remove_file(folder.join("m0002_add_email_to_users.rs")).unwrap();
    fs::write(
        folder.join("m0009_disabled.rs"),
        format!(
            "#[cfg(any())]\nmod disabled {{\n{}}}\n",
            migration(9, "Disabled")
        ),
    )
    .unwrap();
    let (ran, found) = build_and_run(root, "after removing m0002");
    assert!(ran, "removing a file did not rerun the build script");
    assert_eq!(found.versions(), [1, 3]);
    assert_eq!(
        found.unregistered,
        [file_path(root, "m0009_disabled.rs")],
        "{found:?}"
    );
}
