//! Support code shared by the end-to-end tests, compiled once as a crate of its own:
//!
//! - SQLite test databases: a temporary database file ([`TestDb`]), its schema and
//!   history ([`snapshot`]), the applied versions, and an error's whole chain
//!   ([`chain`]);
//! - child processes (the binaries in `src/bin`), started and waited for until they say
//!   `ready` ([`spawn_ready`]), then let go at once ([`ready_then_wait_for`]);
//! - child projects: a Cargo project generated into a temporary directory, depending on
//!   this workspace's crates by path ([`path_dependency`]), with this workspace's
//!   `Cargo.lock` ([`copy_lock_file`]), built with `cargo build --offline` in a clean
//!   environment ([`cargo_build`]) into a target directory shared between runs
//!   ([`child_target_dir!`]);
//! - a run of a `migrate` command as a process: its exit code and output ([`Run`]);
//! - the PostgreSQL server and a schema of each test's own ([`pg`]).
//!
//! No `#[migration]` belongs here: it would be compiled into every test binary.

pub mod pg;

use std::error::Error as _;
use std::fs;
use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

use migrate_sqlite::rusqlite::{Connection, OpenFlags};
use migrate_sqlite::{Error, Migrator, RegisteredMigration, Sqlite, State};

// ---------------------------------------------------------------------------------------
// SQLite test databases.
// ---------------------------------------------------------------------------------------

/// A migrator with exactly `migrations`, for their set (the first one's; the default set
/// when there are none).
pub fn with(migrations: &[&'static RegisteredMigration]) -> Migrator {
    let set = migrations.first().map_or("", |m| m.set());
    Migrator::for_set(set)
        .register_migrations(migrations.iter().copied())
        .unwrap()
}

/// A database file in a temporary directory of its own, removed with it.
pub struct TestDb {
    _dir: tempfile::TempDir,
    /// The database file.
    pub path: PathBuf,
}

impl TestDb {
    /// A database file named `file_name`, not created yet.
    pub fn named(file_name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file_name);
        TestDb { _dir: dir, path }
    }

    /// The database, opened (and created when it does not exist).
    pub fn open(&self) -> Sqlite {
        Sqlite::open(&self.path).unwrap()
    }

    /// The bytes of the file (none if it does not exist).
    pub fn bytes(&self) -> Vec<u8> {
        fs::read(&self.path).unwrap_or_default()
    }

    /// Everything in the database: schema and history, to prove a refusal wrote nothing.
    pub fn snapshot(&self) -> Vec<String> {
        schema_and_history(self.open().connection())
    }

    /// Whether the database has the table `name`.
    pub fn has_table(&self, name: &str) -> bool {
        has_table(&self.path, name)
    }

    /// The first column of every row `sql` returns.
    pub fn query<T: migrate_sqlite::rusqlite::types::FromSql>(&self, sql: &str) -> Vec<T> {
        query_column(&self.path, sql)
    }

    /// The versions `migrator` reports applied on this database.
    pub fn applied(&self, migrator: &Migrator) -> Vec<u64> {
        applied_versions(migrator, &mut self.open())
    }
}

/// The versions `migrator` reports applied on `db`.
pub fn applied_versions(migrator: &Migrator, db: &mut Sqlite) -> Vec<u64> {
    migrator
        .status(db)
        .unwrap()
        .into_iter()
        .filter(|row| matches!(row.state, State::Applied { .. }))
        .map(|row| row.version)
        .collect()
}

/// The versions `migrator` reports applied on the database at `path`.
pub fn applied(path: &Path, migrator: &Migrator) -> Vec<u64> {
    applied_versions(migrator, &mut Sqlite::open(path).unwrap())
}

/// Whether the database at `path` has the table `name`.
pub fn has_table(path: &Path, name: &str) -> bool {
    Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |row| row.get::<_, i64>(0),
        )
        .unwrap()
        == 1
}

/// The first column of every row `sql` returns from the database at `path`.
pub fn query_column<T: migrate_sqlite::rusqlite::types::FromSql>(path: &Path, sql: &str) -> Vec<T> {
    let conn = Connection::open(path).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Schema and history of the database at `path`, read without writing.
pub fn snapshot(path: &Path) -> Vec<String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    schema_and_history(&conn)
}

/// Every schema object (type, name, SQL), then every history row (version, applied_at),
/// if there is a `migrate_history` table.
fn schema_and_history(conn: &Connection) -> Vec<String> {
    let mut rows: Vec<String> = conn
        .prepare(
            "SELECT type || ' ' || name || ' ' || ifnull(sql, '') FROM sqlite_master ORDER BY name",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let has_history = rows.iter().any(|r| r.starts_with("table migrate_history"));
    if has_history {
        let history: Vec<String> = conn
            .prepare("SELECT version || ' ' || applied_at FROM migrate_history ORDER BY version")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.extend(history);
    }
    rows
}

/// The message of an error and all its causes, separated by ` / `.
pub fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(" / ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

// ---------------------------------------------------------------------------------------
// Child processes: the binaries in src/bin that start together.
// ---------------------------------------------------------------------------------------

/// Starts `command` (a child binary of `src/bin`, reached through `CARGO_BIN_EXE_*`)
/// with its output piped, and waits until it has printed `ready`. Returns the child and the rest of its stdout, to
/// be drained after it ends: dropping the pipe early would make its next print fail.
pub fn spawn_ready(mut command: Command) -> (Child, Lines<BufReader<ChildStdout>>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains("ready") => break,
            Some(Ok(_)) => {}
            other => panic!("child ended before it was ready: {other:?}"),
        }
    }
    (child, lines)
}

/// In a child process: says `ready` (what [`spawn_ready`] waits for), then waits until the
/// parent creates the file `go`, so that all its children start at the same instant.
pub fn ready_then_wait_for(go: &Path) {
    println!("ready");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !go.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "child: never told to go"
        );
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
}

// ---------------------------------------------------------------------------------------
// Child projects built with cargo.
// ---------------------------------------------------------------------------------------

/// This workspace's root: generated projects depend on its crates by path.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("tests/support/ is inside the workspace")
        .to_path_buf()
}

/// The target directory `CARGO_TARGET_TMPDIR/NAME` that the child builds of one test
/// module share, kept between runs so that a rerun reuses the compiled dependencies.
///
/// A macro, because cargo gives `CARGO_TARGET_TMPDIR` to integration tests only: it is
/// read where the macro is used.
#[macro_export]
macro_rules! child_target_dir {
    ($name:expr) => {
        ::std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join($name)
    };
}

/// A binary that a debug build into `target_dir` made.
pub fn debug_binary(target_dir: &Path, name: &str) -> PathBuf {
    target_dir
        .join("debug")
        .join(name)
        .with_extension(std::env::consts::EXE_EXTENSION)
}

/// A dependency line on one of this workspace's crates: `KRATE = { path = '...' }`.
pub fn path_dependency(krate: &str) -> String {
    path_dependency_with(krate, "")
}

/// [`path_dependency`] with more keys (`extra`, e.g. `default-features = false`) after the path.
pub fn path_dependency_with(krate: &str, extra: &str) -> String {
    let path = workspace_root().join(krate);
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(", {extra}")
    };
    format!("{krate} = {{ path = '{}'{extra} }}", path.display())
}

/// Copies this workspace's `Cargo.lock` into the project at `root`: the same dependency
/// versions, resolvable offline.
pub fn copy_lock_file(root: &Path) {
    fs::copy(workspace_root().join("Cargo.lock"), root.join("Cargo.lock"))
        .expect("copy Cargo.lock");
}

/// `cargo build --offline ARGS` in `project`, into `target_dir`, in a clean environment:
/// none of the `CARGO_*` / `RUSTFLAGS`-like variables that cargo set for this test
/// process, or that would redirect or wrap the child's build, except `CARGO_HOME` (where
/// the registry cache for `--offline` is), `CARGO_BUILD_JOBS` (a machine's limit on
/// parallel jobs, which the child honours too) and the target directory set here; nor
/// any of `also_remove`.
pub fn cargo_build(
    project: &Path,
    args: &[&str],
    target_dir: &Path,
    also_remove: &[&str],
) -> Output {
    cargo(project, "build", args, target_dir, also_remove)
}

/// `cargo SUBCOMMAND --offline ARGS` in `project`, into `target_dir`, in the clean
/// environment that [`cargo_build`] describes.
pub fn cargo(
    project: &Path,
    subcommand: &str,
    args: &[&str],
    target_dir: &Path,
    also_remove: &[&str],
) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([subcommand, "--offline"])
        .args(args)
        .current_dir(project);
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_var = (key.starts_with("CARGO") || key.starts_with("__CARGO"))
            && !matches!(key, "CARGO_HOME" | "CARGO_BUILD_JOBS");
        let rustc_var = matches!(
            key,
            "RUSTFLAGS"
                | "RUSTDOCFLAGS"
                | "RUSTC"
                | "RUSTDOC"
                | "RUSTC_WRAPPER"
                | "RUSTC_WORKSPACE_WRAPPER"
        );
        if cargo_var || rustc_var || also_remove.contains(&key) {
            command.env_remove(key);
        }
    }
    command.env("CARGO_TARGET_DIR", target_dir);
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo: {e}"))
}

// ---------------------------------------------------------------------------------------
// Runs of a `migrate` command.
// ---------------------------------------------------------------------------------------

/// What a run of a command printed, and its exit code.
#[derive(Debug)]
pub struct Run {
    /// The exit code (-1 when a signal ended the process).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// The one line `NAME: ...` of standard output (a run over many databases prints one
    /// per database).
    #[track_caller]
    pub fn line_of(&self, name: &str) -> &str {
        let prefix = format!("{name}: ");
        let lines: Vec<&str> = self
            .stdout
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .collect();
        assert_eq!(lines.len(), 1, "one line for {name}: {self:?}");
        lines[0]
    }

    /// The run that `output` describes (output not UTF-8 is read lossily).
    pub fn from_output(output: &Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the exit code, showing the whole run when it differs.
    #[track_caller]
    pub fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code, expected,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that the run succeeded (exit 0).
    #[track_caller]
    pub fn ok(self) -> Run {
        self.code(0)
    }
}

// ---------------------------------------------------------------------------------------
// The start-up read (`Read::SetUnlessUpToDate`), on any backend.
// ---------------------------------------------------------------------------------------

/// Checks the start-up read against the narrow read on the history as it is now:
/// `UpToDate` exactly when the rows are `known` (one applied row each, in order, same
/// checksum), else the same rows as `Read::Set`.
#[track_caller]
pub fn assert_start_read_decides_as_the_narrow_read(
    db: &mut dyn migrate_sqlite::Backend,
    known: &[&'static RegisteredMigration],
    case: &str,
    up_to_date: bool,
) {
    use migrate_core::{HistoryRead, Read};
    let set = known.first().map_or("", |m| m.set());
    let HistoryRead::Rows(rows) = db.read_history(Read::Set(set)).unwrap() else {
        panic!("{case}: the narrow read answered up to date");
    };
    let exactly = rows.len() == known.len()
        && rows.iter().zip(known).all(|(row, m)| {
            row.version == m.version() && row.is_applied() && row.checksum == m.checksum()
        });
    assert_eq!(exactly, up_to_date, "{case}: {rows:?}");
    let read = Read::SetUnlessUpToDate { set, known };
    match db.read_history(read).unwrap() {
        HistoryRead::UpToDate => assert!(up_to_date, "{case}: found up to date: {rows:?}"),
        HistoryRead::Rows(quick) => {
            assert!(!up_to_date, "{case}: not found up to date");
            assert_eq!(quick, rows, "{case}");
        }
    }
}
