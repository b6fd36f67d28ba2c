//! End-to-end test of drift detection on real rebuilds, as a user meets it: a small
//! binary crate with one migration in `src/m0001_create_users.rs` is generated into a
//! temporary directory, built with `cargo build --offline` in a child process, run
//! against a SQLite file, then edited and rebuilt:
//!
//! 1. first build and run: migration 1 is applied;
//! 2. only formatting and comments changed: the rebuilt program has the same checksum
//!    and finds nothing to do;
//! 3. the SQL changed: the rebuilt program refuses, naming the migration, its
//!    description and its file, and leaves the database file untouched;
//! 4. `--accept` (`Migrator::accept_changes`) records the new checksum, after which a
//!    plain run finds nothing to do.
//!
//! The child builds share a target directory under this workspace's target
//! (`CARGO_TARGET_TMPDIR/drift`), so only the first run compiles the dependencies.

use migrate_test_support as support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use migrate_sqlite::rusqlite;
use support::{copy_lock_file, debug_binary, path_dependency};

/// The generated package (and binary) name.
const APP: &str = "drift_app";

/// The migration file, relative to the generated package.
const MIGRATION_FILE: &str = "src/m0001_create_users.rs";

/// The SQL of the migration as first applied.
const SQL: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)";

/// The SQL after the change that must be caught.
const CHANGED_SQL: &str =
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT)";

/// The migration as first written.
const ORIGINAL: &str = r#"use migrate_sqlite::{BoxError, Db, Migration, Reversible, migration};

#[migration(version = 1, description = "Create users")]
pub struct CreateUsers;

impl Migration for CreateUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    }
}

impl Reversible for CreateUsers {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE users")
    }
}
"#;

/// The same tokens: comments of every kind added, reindented, lines split and joined,
/// blank lines added. The lines move, so the rebuilt binary differs from the first.
const REFORMATTED: &str = r#"//! The first migration: the users.
//! (Inner doc comments do not count either.)

// A plain comment.
use migrate_sqlite::{
    BoxError,
    Db,   Migration,
    Reversible, migration
};



/// Creates the `users` table.
///
/// Doc comments are left out of the checksum.
#[migration(
        version = 1,
        description = "Create users"
)]
pub struct CreateUsers; // a trailing comment

/* A block comment. */
impl Migration for CreateUsers
{
        /// Reindented with eight spaces.
        fn up(&self, db: &mut dyn Db)
            -> Result<(), BoxError>
        {
            // The statement itself is unchanged.
            db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        }
}


impl Reversible for CreateUsers { fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> { db.execute("DROP TABLE users") } }
"#;

/// The program: `drift_app DB [--accept]`. Prints `compiled VERSION CHECKSUM` per
/// compiled migration, then (with `--accept`) `accepted ...` per accepted change, then
/// `up VERSION "DESCRIPTION"` per step or `nothing to do`. On failure: the error on
/// stderr, exit status 1.
const MAIN: &str = r#"mod m0001_create_users;

use migrate_sqlite::{Migrator, Sqlite};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), migrate_sqlite::Error> {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: drift_app DB [--accept]");
    let accept = match args.next().as_deref() {
        None => false,
        Some("--accept") => true,
        Some(other) => panic!("unknown argument {other:?}"),
    };
    let migrator = Migrator::discovered()?;
    for m in migrator.migrations() {
        println!("compiled {} {}", m.version(), m.checksum());
    }
    let mut db = Sqlite::open(&path)?;
    if accept {
        for m in migrator.accept_changes(&mut db)? {
            println!("accepted {m}");
        }
    }
    let report = migrator.to_latest(&mut db)?;
    if report.is_empty() {
        println!("nothing to do");
    }
    for step in &report.steps {
        println!("{} {} {:?}", step.direction, step.version, step.description);
    }
    Ok(())
}
"#;

/// The target directory the child builds share, kept between runs so that a rerun
/// reuses the compiled dependencies.
fn child_target_dir() -> PathBuf {
    support::child_target_dir!("drift")
}

/// Writes the generated package (its own workspace) into a new temporary directory,
/// with the migration as first written.
fn generated_package() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{APP}\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{}\n\n[workspace]\n",
            path_dependency("migrate-sqlite")
        ),
    )
    .expect("write Cargo.toml");
    // The same dependency versions as this workspace, resolvable offline.
    copy_lock_file(root);
    fs::create_dir_all(root.join("src")).expect("create src");
    fs::write(root.join("src/main.rs"), MAIN).expect("write main.rs");
    fs::write(root.join(MIGRATION_FILE), ORIGINAL).expect("write the migration");
    dir
}

/// `cargo build --offline` in the generated package, in a clean environment (see
/// [`support::cargo_build`]), into [`child_target_dir`].
fn cargo_build(package: &Path) -> Output {
    support::cargo_build(package, &[], &child_target_dir(), &[])
}

/// Builds the generated package, which must succeed and must have recompiled it (a
/// "no drift" after an edit the build did not see would prove nothing). Returns how
/// long the build took.
fn rebuild(package: &Path, step: &str) -> f64 {
    let start = Instant::now();
    let output = cargo_build(package);
    let seconds = start.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{step}: the build failed:\n{err}");
    assert!(
        err.contains(&format!("Compiling {APP} ")),
        "{step}: cargo did not recompile {APP} after {MIGRATION_FILE} changed:\n{err}"
    );
    eprintln!("{step}: built in {seconds:.1}s");
    seconds
}

/// What one run of the built program did.
struct Run {
    ok: bool,
    stdout: Vec<String>,
    stderr: String,
}

impl Run {
    /// The checksum the program was compiled with, from its `compiled 1 ...` line.
    fn compiled_checksum(&self) -> &str {
        let line = self
            .stdout
            .iter()
            .find_map(|line| line.strip_prefix("compiled 1 "));
        line.unwrap_or_else(|| panic!("no `compiled 1` line in {:?}", self.stdout))
    }

    /// Its output after the `compiled` lines.
    fn outcome(&self) -> Vec<&str> {
        self.stdout
            .iter()
            .map(String::as_str)
            .filter(|line| !line.starts_with("compiled "))
            .collect()
    }
}

/// Runs the built program on `db`, with `args` after it.
fn run(db: &Path, args: &[&str]) -> Run {
    let bin = debug_binary(&child_target_dir(), APP);
    let output = Command::new(&bin)
        .arg(db)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The checksum the history records for migration 1.
fn recorded_checksum(db: &Path) -> String {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    conn.query_row(
        "SELECT checksum FROM migrate_history WHERE version = 1",
        [],
        |row| row.get(0),
    )
    .expect("read the history row of migration 1")
}

/// The columns of the `users` table, in order.
fn user_columns(db: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    let mut statement = conn
        .prepare("SELECT name FROM pragma_table_info('users')")
        .expect("prepare");
    statement
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("read the columns")
}

#[test]
fn drift_is_caught_on_real_rebuilds_and_only_when_the_code_changes() {
    let package = generated_package();
    let package = package.path();
    let data = tempfile::tempdir().expect("temporary directory");
    let db = data.path().join("app.db");
    let migration_file = package.join(MIGRATION_FILE);

    // First build and run: migration 1 is applied, with the compiled checksum.
    let cold = rebuild(package, "first build");
    let first = run(&db, &[]);
    assert!(first.ok, "the first run failed: {}", first.stderr);
    assert_eq!(first.outcome(), [r#"up 1 "Create users""#]);
    let applied = first.compiled_checksum().to_owned();
    assert_eq!(recorded_checksum(&db), applied);
    assert_eq!(user_columns(&db), ["id", "name"]);

    // Formatting and comments only: same checksum, nothing to do.
    fs::write(&migration_file, REFORMATTED).expect("rewrite the migration");
    let warm = rebuild(package, "comments and formatting");
    let reformatted = run(&db, &[]);
    assert!(
        reformatted.ok,
        "a change of formatting and comments only was taken for drift: {}",
        reformatted.stderr
    );
    assert_eq!(reformatted.compiled_checksum(), applied);
    assert_eq!(reformatted.outcome(), ["nothing to do"]);
    assert_eq!(recorded_checksum(&db), applied);

    // The SQL changes: refused, and the database file is left as it was.
    let changed_source = REFORMATTED.replace(SQL, CHANGED_SQL);
    assert_ne!(changed_source, REFORMATTED);
    fs::write(&migration_file, changed_source).expect("rewrite the migration");
    rebuild(package, "SQL changed");
    let before = fs::read(&db).expect("read the database");
    let refused = run(&db, &[]);
    let current = refused.compiled_checksum().to_owned();
    assert_ne!(current, applied, "changing the SQL kept the checksum");
    assert!(
        !refused.ok,
        "the changed migration was not refused: {:?}",
        refused.stdout
    );
    for expected in [
        "migration 1 ",
        r#""Create users""#,
        MIGRATION_FILE,
        "was changed after it was applied",
        applied.as_str(),
        current.as_str(),
    ] {
        assert!(
            refused.stderr.contains(expected),
            "the refusal does not say {expected:?}: {}",
            refused.stderr
        );
    }
    assert_eq!(refused.outcome(), Vec::<&str>::new());
    assert!(
        fs::read(&db).expect("read the database") == before,
        "the refused run changed the database file"
    );
    assert_eq!(recorded_checksum(&db), applied);

    // Accepting records the new checksum (and runs nothing: `users` keeps its columns).
    let accepted = run(&db, &["--accept"]);
    assert!(
        accepted.ok,
        "the run with --accept failed: {}",
        accepted.stderr
    );
    assert_eq!(accepted.outcome().len(), 2, "{:?}", accepted.stdout);
    assert!(
        accepted.outcome()[0]
            .starts_with(&format!(r#"accepted 1 "Create users" ({MIGRATION_FILE}:"#)),
        "{:?}",
        accepted.stdout
    );
    assert_eq!(accepted.outcome()[1], "nothing to do");
    assert_eq!(recorded_checksum(&db), current);
    assert_eq!(user_columns(&db), ["id", "name"]);

    // And a plain run afterwards finds nothing to do.
    let after = run(&db, &[]);
    assert!(after.ok, "the run after accepting failed: {}", after.stderr);
    assert_eq!(after.outcome(), ["nothing to do"]);
    assert_eq!(recorded_checksum(&db), current);

    eprintln!("cold build {cold:.1}s, warm rebuild {warm:.1}s");
}
