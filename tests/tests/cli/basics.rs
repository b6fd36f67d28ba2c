//! The `migrate` command end to end, run as a process the way a user runs it:
//!
//! - the chat bot's own `migrate` binary (`src/bin/migrate.rs`, built by cargo for this
//!   package) on temporary SQLite files: every subcommand, the exit codes (0 success,
//!   1 a migration or database error, 2 a usage error, 3 `status --check` with something
//!   pending), `DATABASE_URL`, and plain output when piped;
//! - a new project written into a temporary directory (a build script with
//!   migrate-build, `include_migrations!()`, a one-line `src/bin/migrate.rs`, path
//!   dependencies on this workspace), built with `cargo build --offline` in a child
//!   process: `migrate new`, build, `status`, `up`, `down`, a file dropped in by hand, a
//!   broken file failing the build.
//!
//! The project's builds use one target directory under `CARGO_TARGET_TMPDIR/cli`, kept
//! between runs, so a rerun compiles only the project itself.

use migrate_test_support as support;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{copy_lock_file, debug_binary, path_dependency};

use migrate_sqlite::rusqlite::Connection;

/// What a run of the command did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from_output(what: &str, output: Output) -> Run {
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        // Piped, and with NO_COLOR unset: plain text, whatever the command.
        assert!(
            !run.stdout.contains('\x1b') && !run.stderr.contains('\x1b'),
            "`{what}` wrote ANSI escapes although its output is not a terminal: {run:?}"
        );
        run
    }

    /// Asserts the exit code, showing the whole run when it differs.
    #[track_caller]
    fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code, expected,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn ok(self) -> Run {
        self.code(0)
    }
}

/// A `migrate` command for `binary`, run in `dir`, with none of the environment that
/// would change what it does: no `DATABASE_URL`, no `NO_COLOR`.
fn command(binary: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(binary);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR");
    command
}

fn run_command(mut command: Command, what: &str) -> Run {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{what}`: {e}"));
    Run::from_output(what, output)
}

// ---------------------------------------------------------------------------------------
// The chat bot's `migrate` binary.
// ---------------------------------------------------------------------------------------

/// The chat bot's `migrate` binary, which cargo builds for this package's tests.
fn chat_bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_migrate"))
}

/// This package's folder: the chat bot's migration files are `src/chat_bot/...` from it.
fn package_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the chat bot's `migrate ARGS` in the package folder.
fn migrate(args: &[&str]) -> Run {
    migrate_with(args, &[])
}

/// [`migrate`] with environment variables set.
fn migrate_with(args: &[&str], env: &[(&str, &OsStr)]) -> Run {
    let mut command = command(chat_bot_binary(), package_dir(), args);
    command.envs(env.iter().copied());
    run_command(command, &format!("migrate {}", args.join(" ")))
}

/// Runs the chat bot's `migrate --database DB ARGS`.
fn on(db: &Path, args: &[&str]) -> Run {
    let db = db.to_str().expect("a UTF-8 temporary path");
    let mut all = vec!["--database", db];
    all.extend_from_slice(args);
    migrate(&all)
}

/// The rows of the status table: `(version, state)`.
fn states(status: &Run) -> Vec<(u64, String)> {
    let mut lines = status.stdout.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.contains("version") && header.contains("state"),
        "no status table header: {status:?}"
    );
    lines
        .map(|line| {
            let version = line.split_whitespace().next().expect("a version");
            let version = version.parse().unwrap_or_else(|_| panic!("{line:?}"));
            let state = ["applied", "pending", "modified", "incomplete", "unknown"]
                .into_iter()
                .find(|state| line.split_whitespace().any(|word| word == *state))
                .unwrap_or_else(|| panic!("no state in {line:?}"));
            (version, state.to_owned())
        })
        .collect()
}

/// `status` on `db` (which must succeed) as `(version, state)` rows.
fn status(db: &Path) -> Vec<(u64, String)> {
    states(&on(db, &["status"]).ok())
}

fn expect_states(db: &Path, expected: &[(u64, &str)]) {
    let expected: Vec<(u64, String)> = expected
        .iter()
        .map(|(version, state)| (*version, (*state).to_owned()))
        .collect();
    assert_eq!(status(db), expected);
}

const ALL_PENDING: &[(u64, &str)] = &[(1, "pending"), (2, "pending"), (3, "pending")];
const ALL_APPLIED: &[(u64, &str)] = &[(1, "applied"), (2, "applied"), (3, "applied")];
const UP_TO_2: &[(u64, &str)] = &[(1, "applied"), (2, "applied"), (3, "pending")];

/// The tables of the database file (none of SQLite's own), sorted.
fn tables(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).expect("open the database");
    let mut statement = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .expect("prepare");
    statement
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("read")
}

fn columns(db: &Path, table: &str) -> Vec<String> {
    let conn = Connection::open(db).expect("open the database");
    let mut statement = conn
        .prepare(&format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .expect("prepare");
    statement
        .query_map([], |row| row.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("read")
}

const CHAT_TABLES: [&str; 3] = ["chat_messages", "chat_users", "chats"];

fn has_chat_tables(db: &Path) -> bool {
    let tables = tables(db);
    CHAT_TABLES.iter().all(|t| tables.iter().any(|x| x == t))
}

fn has_no_chat_tables(db: &Path) -> bool {
    let tables = tables(db);
    CHAT_TABLES.iter().all(|t| !tables.iter().any(|x| x == t))
}

/// `up`, `down`, `redo`, `status --check`, `accept-changes` and `clear-incomplete`, in
/// the order a user meets them.
#[test]
fn chat_bot_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    // A new, empty database file.
    fs::write(&db, "").unwrap();

    let run = on(&db, &["status"]).ok();
    expect_states(&db, ALL_PENDING);
    for description in [
        "Initial schema",
        "Add is_spammer to chat_users",
        "Add metadata to chat_users",
    ] {
        assert!(run.stdout.contains(description), "{run:?}");
    }
    let run = on(&db, &["status", "--check"]).code(3);
    expect_states(&db, ALL_PENDING);
    assert!(run.stderr.contains("3 pending"), "{run:?}");

    // Up to 2: a line per migration with its duration.
    let run = on(&db, &["up", "--to", "2"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{run:?}");
    assert!(
        lines[0].starts_with("applied")
            && lines[0].contains(" 1 Initial schema (")
            && lines[0].ends_with(" ms)"),
        "{run:?}"
    );
    assert!(
        lines[1].contains(" 2 Add is_spammer to chat_users ("),
        "{run:?}"
    );
    assert!(lines[2].starts_with("done: 2 migrations"), "{run:?}");
    expect_states(&db, UP_TO_2);
    let run = on(&db, &["status"]).ok();
    let applied_line = run.stdout.lines().nth(1).unwrap();
    assert!(
        applied_line.contains(" ms") && applied_line.contains('T'),
        "an applied row shows when and how long: {run:?}"
    );
    on(&db, &["status", "--check"]).code(3);
    assert!(columns(&db, "chat_users").contains(&"is_spammer".to_owned()));

    // The rest.
    let run = on(&db, &["up"]).ok();
    assert!(
        run.stdout.contains(" 3 Add metadata to chat_users ("),
        "{run:?}"
    );
    assert!(!run.stdout.contains(" 1 Initial schema"), "{run:?}");
    expect_states(&db, ALL_APPLIED);
    on(&db, &["status", "--check"]).ok();
    let run = on(&db, &["up"]).ok();
    assert!(run.stdout.contains("nothing to do"), "{run:?}");

    // Down one step, then all the way.
    let run = on(&db, &["down", "--steps", "1"]).ok();
    assert!(
        run.stdout.contains("reverted") && run.stdout.contains(" 3 Add metadata"),
        "{run:?}"
    );
    expect_states(&db, UP_TO_2);
    assert!(!columns(&db, "chat_users").contains(&"metadata".to_owned()));
    on(&db, &["down", "--to", "0"]).ok();
    expect_states(&db, ALL_PENDING);
    assert!(has_no_chat_tables(&db), "{:?}", tables(&db));

    // Redo with nothing applied does nothing; with everything applied it reverts and
    // applies the last one.
    let run = on(&db, &["redo"]).ok();
    assert!(run.stdout.contains("nothing to redo"), "{run:?}");
    expect_states(&db, ALL_PENDING);
    on(&db, &["up"]).ok();
    let run = on(&db, &["redo"]).ok();
    let reverted = run.stdout.find("reverted").expect("reverted");
    let applied = run.stdout.find("applied").expect("applied");
    assert!(reverted < applied, "{run:?}");
    assert!(!run.stdout.contains(" 2 Add is_spammer"), "{run:?}");
    expect_states(&db, ALL_APPLIED);
    assert!(columns(&db, "chat_users").contains(&"metadata".to_owned()));

    // Nothing changed and nothing is incomplete: both say so and succeed.
    let run = on(&db, &["accept-changes"]).ok();
    assert!(
        run.stdout.contains("no applied migration changed"),
        "{run:?}"
    );
    let run = on(&db, &["clear-incomplete", "2"]).ok();
    assert!(
        run.stdout.contains("migration 2 is not marked incomplete"),
        "{run:?}"
    );
    on(&db, &["status", "--check"]).ok();

    // An unknown target is an error that changes nothing.
    let run = on(&db, &["down", "--to", "7"]).code(1);
    assert!(
        run.stderr.contains("no migration 7"),
        "the error does not name version 7: {run:?}"
    );
    let run = on(&db, &["up", "--to", "7"]).code(1);
    assert!(run.stderr.contains("no migration 7"), "{run:?}");
    expect_states(&db, ALL_APPLIED);
}

/// `--dry-run` rehearses on the real database and keeps nothing.
#[test]
fn dry_run_keeps_nothing() {
    let dir = tempfile::tempdir().unwrap();

    // On a database that does not exist yet: at most an empty file is left behind.
    let db = dir.path().join("absent.db");
    let run = on(&db, &["up", "--dry-run"]).ok();
    for version in ["1", "2", "3"] {
        assert!(
            run.stdout
                .lines()
                .any(|l| l.starts_with("would have applied") && l.contains(&format!(" {version} "))),
            "the dry run does not report migration {version}: {run:?}"
        );
    }
    assert!(
        run.stdout.contains("rolled back") && run.stdout.contains("nothing was kept"),
        "{run:?}"
    );
    if db.exists() {
        assert_eq!(
            fs::metadata(&db).unwrap().len(),
            0,
            "the dry run left content in a new database file"
        );
    }

    // On a database at version 1: the file is byte for byte the same afterwards, up or
    // down.
    let db = dir.path().join("chat.db");
    on(&db, &["up", "--to", "1"]).ok();
    let before = fs::read(&db).unwrap();
    let run = on(&db, &["up", "--dry-run"]).ok();
    assert!(run.stdout.contains("would have applied"), "{run:?}");
    assert!(!run.stdout.contains(" 1 Initial schema"), "{run:?}");
    assert!(
        fs::read(&db).unwrap() == before,
        "up --dry-run changed the file"
    );
    let run = on(&db, &["down", "--to", "0", "--dry-run"]).ok();
    assert!(run.stdout.contains("would have reverted"), "{run:?}");
    assert!(
        fs::read(&db).unwrap() == before,
        "down --dry-run changed the file"
    );
    expect_states(&db, &[(1, "applied"), (2, "pending"), (3, "pending")]);
    assert!(has_chat_tables(&db));
}

/// The chat bot's schema up to migration 2, created without the tool: a database to
/// adopt.
const SCHEMA_AT_2: &str = "
    CREATE TABLE chat_users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        is_spammer INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE chats (id INTEGER PRIMARY KEY, title TEXT NOT NULL, kind TEXT NOT NULL);
    CREATE TABLE chat_messages (
        id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES chat_users (id),
        body TEXT NOT NULL,
        sent_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX chat_messages_by_chat ON chat_messages (chat_id, sent_at);
    INSERT INTO chat_users (username, display_name, is_spammer) VALUES ('spam', 'Spam', 1);
";

/// `baseline --version 2` adopts a database whose tables exist already: 1 and 2 are
/// recorded without running (they would fail: the tables exist), 3 is applied by `up`.
#[test]
fn baseline_adopts_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("existing.db");
    Connection::open(&db)
        .unwrap()
        .execute_batch(SCHEMA_AT_2)
        .unwrap();

    let run = on(&db, &["baseline", "--version", "2"]).ok();
    assert!(run.stdout.contains("Initial schema"), "{run:?}");
    assert!(run.stdout.contains("Add is_spammer"), "{run:?}");
    assert!(!run.stdout.contains("Add metadata"), "{run:?}");
    expect_states(&db, UP_TO_2);

    let run = on(&db, &["up"]).ok();
    assert!(run.stdout.contains(" 3 Add metadata"), "{run:?}");
    assert!(!run.stdout.contains(" 1 Initial schema"), "{run:?}");
    expect_states(&db, ALL_APPLIED);
    let metadata: String = Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT metadata FROM chat_users WHERE username = 'spam'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(metadata, r#"{"flagged":true}"#);

    // The history holds 3 now: a baseline below it is refused and changes nothing.
    let run = on(&db, &["baseline", "--version", "1"]).code(1);
    assert!(run.stderr.contains("baseline"), "{run:?}");
    expect_states(&db, ALL_APPLIED);
}

/// `history --format markdown`: every migration, its file (relative to the package
/// folder it runs in), when it was applied, and the schema after it.
#[test]
fn history_document() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    on(&db, &["up", "--to", "2"]).ok();

    let doc = on(&db, &["history", "--format", "markdown"]).ok().stdout;
    assert!(doc.starts_with("# Migration history"), "{doc}");
    for (version, description, file) in [
        (1, "Initial schema", "m001_initial_schema.rs"),
        (2, "Add is_spammer to chat_users", "m002_add_is_spammer.rs"),
        (3, "Add metadata to chat_users", "m003_add_metadata.rs"),
    ] {
        assert!(
            doc.contains(&format!(
                "| {version} | {description} | `src/chat_bot/migrations/{file}` |"
            )),
            "no row for migration {version}:\n{doc}"
        );
        assert!(
            doc.contains(&format!("## {version} {description}")),
            "no section for migration {version}:\n{doc}"
        );
    }
    assert!(doc.contains("CREATE TABLE chat_users"), "{doc}");
    assert!(doc.contains("is_spammer INTEGER"), "{doc}");
    assert!(doc.contains("metadata TEXT"), "{doc}");
    assert!(
        !doc.contains("migrate_history"),
        "the history table is not schema:\n{doc}"
    );
    let row_3 = doc.lines().find(|l| l.starts_with("| 3 |")).unwrap();
    assert!(row_3.ends_with("| pending |"), "{row_3}");
    let row_1 = doc.lines().find(|l| l.starts_with("| 1 |")).unwrap();
    assert!(row_1.contains("| 20"), "no applied-at in {row_1}");
    let root = package_dir().parent().unwrap().to_str().unwrap();
    assert!(
        !doc.contains(root),
        "the document names an absolute path of this machine ({root}):\n{doc}"
    );

    // Without a database: the same document, without applied-at.
    let without = migrate(&["history"]).ok().stdout;
    assert!(without.contains("(no database given)"), "{without}");
    assert!(without.contains("CREATE TABLE chat_users"), "{without}");

    // To a file.
    let out = dir.path().join("HISTORY.md");
    let out_arg = out.to_str().unwrap();
    on(&db, &["history", "--output", out_arg]).ok();
    assert_eq!(fs::read_to_string(&out).unwrap(), doc);
}

/// Usage errors exit with 2, before touching anything.
#[test]
fn usage_errors_exit_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");

    let run = on(&db, &["status", "--bogus"]).code(2);
    assert!(run.stderr.contains("--bogus"), "{run:?}");
    on(&db, &["bogus"]).code(2);
    migrate(&[]).code(2);

    // No database: neither --database nor DATABASE_URL.
    for args in [&["status"][..], &["up"], &["down", "--to", "0"], &["redo"]] {
        let run = migrate(args).code(2);
        assert!(
            run.stderr.contains("--database") && run.stderr.contains("DATABASE_URL"),
            "`{args:?}` without a database does not say how to give one: {run:?}"
        );
    }

    // `down` needs a target.
    let run = on(&db, &["down"]).code(2);
    assert!(
        run.stderr.contains("--to") && run.stderr.contains("--steps"),
        "{run:?}"
    );
    on(&db, &["down", "--steps", "0"]).code(2);
    on(&db, &["up", "--to", "two"]).code(2);
    on(&db, &["baseline"]).code(2);
    on(&db, &["history", "--format", "html"]).code(2);
    assert!(!db.exists(), "a usage error created the database");

    let run = migrate(&["--help"]).ok();
    for subcommand in [
        "new",
        "status",
        "up",
        "down",
        "redo",
        "baseline",
        "history",
        "accept-changes",
        "clear-incomplete",
    ] {
        assert!(
            run.stdout.contains(&format!("  {subcommand} ")),
            "--help does not list {subcommand}: {run:?}"
        );
    }
}

/// Migration and database errors exit with 1.
#[test]
fn database_errors_exit_with_1() {
    let dir = tempfile::tempdir().unwrap();

    // A missing database file is named, and not created by a command that only reads.
    let missing = dir.path().join("missing.db");
    for args in [&["status"][..], &["history"]] {
        let run = on(&missing, args).code(1);
        assert!(
            run.stderr.contains("missing.db") && run.stderr.contains("does not exist"),
            "{run:?}"
        );
    }
    assert!(!missing.exists());

    // Not a database.
    let garbage = dir.path().join("garbage.db");
    fs::write(&garbage, "this is not a SQLite file, it is a text file").unwrap();
    let run = on(&garbage, &["status"]).code(1);
    assert!(run.stderr.contains("garbage.db"), "{run:?}");
    on(&garbage, &["up"]).code(1);
    assert_eq!(
        fs::read_to_string(&garbage).unwrap(),
        "this is not a SQLite file, it is a text file"
    );
}

/// `DATABASE_URL`, with or without a `sqlite://` prefix; `--database` wins over it.
#[test]
fn database_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("from_env.db");
    let url = format!("sqlite://{}", db.display());
    let env = [("DATABASE_URL", OsStr::new(&url))];

    migrate_with(&["up", "--to", "2"], &env).ok();
    assert!(has_chat_tables(&db));
    let run = migrate_with(&["status"], &env).ok();
    let expected: Vec<(u64, String)> = UP_TO_2.iter().map(|(v, s)| (*v, (*s).to_owned())).collect();
    assert_eq!(states(&run), expected);
    migrate_with(&["status", "--check"], &env).code(3);
    let plain = [("DATABASE_URL", db.as_os_str())];
    migrate_with(&["status", "--check"], &plain).code(3);

    // --database wins.
    let other = dir.path().join("other.db");
    let other_arg = other.to_str().unwrap();
    migrate_with(&["--database", other_arg, "up"], &env).ok();
    expect_states(&other, ALL_APPLIED);
    expect_states(&db, UP_TO_2);

    // --history-table: another table, another history.
    let custom = dir.path().join("custom.db");
    on(
        &custom,
        &["--history-table", "app_history", "up", "--to", "1"],
    )
    .ok();
    on(&custom, &["status", "--history-table", "app_history"]).ok();
    let custom_tables = tables(&custom);
    assert!(
        custom_tables.contains(&"app_history".to_owned()),
        "{custom_tables:?}"
    );
    assert!(
        !custom_tables.contains(&"migrate_history".to_owned()),
        "{custom_tables:?}"
    );
}

/// Piped output is plain text when `NO_COLOR` is unset too (every run checks it; this
/// one covers the coloured states and the progress lines).
#[test]
fn piped_output_is_plain() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    for args in [
        &["up", "--dry-run"][..],
        &["up", "--to", "1"],
        &["status"],
        &["status", "--check"],
        &["down", "--steps", "1"],
        &["history"],
    ] {
        let run = on(&db, args);
        assert!(!run.stdout.is_empty(), "{args:?}: {run:?}");
    }
    let run = migrate_with(
        &["--database", db.to_str().unwrap(), "status"],
        &[("TERM", OsStr::new("xterm-256color"))],
    )
    .ok();
    assert!(run.stdout.contains("pending"), "{run:?}");
}

/// `new` in the chat bot's program: the version comes after every migration the program
/// contains (3), not only after the files of the folder it writes to.
#[test]
fn new_does_not_reuse_a_version_the_program_contains() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("migrations");
    let folder_arg = folder.to_str().unwrap();
    let run = migrate(&["new", "Add tags", "--dir", folder_arg]).ok();
    let written = folder.join("m0004_add_tags.rs");
    assert_eq!(run.stdout.trim(), written.to_str().unwrap(), "{run:?}");
    let code = fs::read_to_string(&written).unwrap();
    assert!(
        code.contains("#[migration(version = 4, description = \"Add tags\")]"),
        "{code}"
    );
    assert!(code.contains("pub struct AddTags;"), "{code}");
}

/// `down --to V` above the applied version must not apply anything.
#[test]
fn down_never_applies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    on(&db, &["up", "--to", "2"]).ok();
    let run = on(&db, &["down", "--to", "3"]).code(1);
    assert!(
        run.stderr.contains("up --to"),
        "the error should point to `up --to`: {run:?}"
    );
    expect_states(&db, UP_TO_2);
}

/// `up --to V` below the applied version must not revert anything.
#[test]
fn up_never_reverts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    on(&db, &["up"]).ok();
    for to in ["1", "0"] {
        let run = on(&db, &["up", "--to", to]).code(1);
        assert!(
            run.stderr.contains("down --to"),
            "the error should point to `down --to`: {run:?}"
        );
        expect_states(&db, ALL_APPLIED);
    }
}

/// The baseline summary counts in English.
#[test]
fn baseline_summary_grammar() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let run = on(&db, &["baseline", "--version", "1"]).ok();
    assert!(
        run.stdout
            .contains("baseline at version 1: 1 migration recorded"),
        "{run:?}"
    );
    let fresh = dir.path().join("fresh.db");
    let run = on(&fresh, &["baseline", "--version", "2"]).ok();
    assert!(
        run.stdout
            .contains("baseline at version 2: 2 migrations recorded"),
        "{run:?}"
    );
}

/// A baseline on a database that already has history would record 3 as applied without
/// running it: refused, naming what the history holds, and nothing is written. Asking
/// again for the baseline the database already has exactly is harmless.
#[test]
fn baseline_on_a_database_with_history_is_refused_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    on(&db, &["up", "--to", "2"]).ok();
    let before = std::fs::read(&db).unwrap();
    let run = on(&db, &["baseline", "--version", "3"]).code(1);
    assert!(
        run.stderr.contains("already has a migration history"),
        "{run:?}"
    );
    assert!(run.stderr.contains("the highest 2"), "{run:?}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "nothing written");
    expect_states(&db, UP_TO_2);

    let fresh = dir.path().join("adopted.db");
    on(&fresh, &["baseline", "--version", "2"]).ok();
    let again = on(&fresh, &["baseline", "--version", "2"]).ok();
    assert!(again.stdout.contains("already recorded"), "{again:?}");
    expect_states(&fresh, UP_TO_2);
}

// ---------------------------------------------------------------------------------------
// A new project.
// ---------------------------------------------------------------------------------------

/// The target directory of the project's builds, kept between runs.
fn child_target_dir() -> PathBuf {
    support::child_target_dir!("cli")
}

/// One build of a project at a time: every project builds its `migrate` binary at the
/// same path of the shared target directory.
static PROJECT_BUILDS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The project's `migrate` binary, as the last build left it.
fn project_binary() -> PathBuf {
    debug_binary(&child_target_dir(), "migrate")
}

/// A new crate `notes` set up as the docs say, with an empty migrations folder:
/// `build.rs` runs migrate-build, `src/migrations.rs` holds `include_migrations!()`,
/// `src/bin/migrate.rs` is the one-line command. Warnings are errors, so that the code
/// `migrate new` writes and the generated module list must compile cleanly.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    let root = dir.path();
    let write = |rel: &str, contents: &str| {
        let file = root.join(rel);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, contents).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    };
    write(
        "Cargo.toml",
        &format!(
            "[package]\nname = \"notes\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\n{}\n\n[build-dependencies]\n{}\n\n[workspace]\n",
            [
                path_dependency("migrate-sqlite"),
                path_dependency("migrate-cli")
            ]
            .join("\n"),
            path_dependency("migrate-build"),
        ),
    );
    // The same dependency versions as this workspace, resolvable offline.
    copy_lock_file(root);
    write(
        "build.rs",
        "fn main() {\n    migrate_build::migrations(\"src/migrations\").generate_or_report();\n}\n",
    );
    write(
        "src/lib.rs",
        "//! Notes.\n#![deny(warnings)]\n\nmod migrations;\n",
    );
    write(
        "src/migrations.rs",
        "migrate_sqlite::include_migrations!();\n",
    );
    write(
        "src/bin/migrate.rs",
        "#![deny(warnings)]\n\nuse notes as _;\n\nfn main() {\n    migrate_cli::main()\n}\n",
    );
    fs::create_dir_all(root.join("src/migrations")).unwrap();
    dir
}

/// `cargo build --offline` in the project, in a clean environment (see
/// [`support::cargo_build`]; `OUT_DIR` removed too), into the shared target directory.
fn cargo_build(project: &Path) -> Output {
    support::cargo_build(project, &[], &child_target_dir(), &["OUT_DIR"])
}

#[track_caller]
fn build_ok(project: &Path, step: &str) {
    let output = cargo_build(project);
    assert!(
        output.status.success(),
        "{step}: the build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The project's `migrate ARGS`, run in the project folder.
fn project_migrate(project: &Path, args: &[&str]) -> Run {
    run_command(
        command(&project_binary(), project, args),
        &format!("migrate {}", args.join(" ")),
    )
}

/// `code` with the body of `fn NAME` replaced by `body`, and its `_db` parameter named
/// `db`: what a user does to the skeleton `migrate new` writes.
fn with_body(code: &str, name: &str, body: &str) -> String {
    let start = code
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no fn {name} in:\n{code}"));
    let open = start + code[start..].find('{').expect("a body");
    let mut depth = 0;
    let mut close = None;
    for (i, c) in code[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close.expect("the end of the body");
    let signature = code[start..open].replace("_db:", "db:");
    format!(
        "{}{signature}{{\n        {body}\n    }}{}",
        &code[..start],
        &code[close + 1..]
    )
}

/// A version as `new --timestamp` writes it: `YYYYMMDDHHMMSS`.
fn is_timestamp(version: &str) -> bool {
    version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()) && version.starts_with("20")
}

/// The files of the migrations folder, sorted.
fn folder_files(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// From an empty crate to applied migrations with the command only: `new`, write the
/// SQL, build, `status`, `up`, `down`; a file dropped in by hand is picked up; `new`
/// refuses a blank description and can use timestamps; a file without a migration
/// fails the build, naming it.
#[test]
fn new_project_workflow() {
    let _one = PROJECT_BUILDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let project = project();
    let root = project.path();
    let folder = root.join("src/migrations");
    let db = root.join("notes.db");
    let db_arg = db.to_str().unwrap();

    // The command built with no migration yet.
    build_ok(root, "first build, empty folder");
    let run = project_migrate(root, &["--database", db_arg, "up"]).ok();
    assert!(run.stdout.contains("nothing to do"), "{run:?}");

    // `new` writes the first migration and prints its path.
    let run = project_migrate(root, &["new", "Create notes"]).ok();
    assert_eq!(
        run.stdout.trim(),
        Path::new("src/migrations")
            .join("m0001_create_notes.rs")
            .to_str()
            .unwrap(),
        "{run:?}"
    );
    let first = folder.join("m0001_create_notes.rs");
    let skeleton = fs::read_to_string(&first).unwrap();
    assert!(
        skeleton.contains("#[migration(version = 1, description = \"Create notes\")]"),
        "{skeleton}"
    );
    assert!(skeleton.contains("pub struct CreateNotes;"), "{skeleton}");

    // The skeleton compiles, with no warning, and refuses to run until written.
    build_ok(root, "with the skeleton");
    let run = project_migrate(root, &["--database", db_arg, "status", "--check"]).code(3);
    assert_eq!(states(&run), [(1, "pending".to_owned())]);
    assert!(run.stdout.contains("Create notes"), "{run:?}");
    let run = project_migrate(root, &["--database", db_arg, "up"]).code(1);
    assert!(
        run.stderr.contains("not written yet") && run.stderr.contains("m0001_create_notes.rs"),
        "{run:?}"
    );
    let run = project_migrate(root, &["--database", db_arg, "status"]).ok();
    assert_eq!(states(&run), [(1, "pending".to_owned())]);

    // Written: status, up, down.
    let code = with_body(
        &skeleton,
        "up",
        "db.execute(\"CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)\")",
    );
    let code = with_body(&code, "down", "db.execute(\"DROP TABLE notes\")");
    fs::write(&first, &code).unwrap();
    build_ok(root, "with the SQL written");
    let run = project_migrate(root, &["--database", db_arg, "status"]).ok();
    assert_eq!(states(&run), [(1, "pending".to_owned())]);
    let run = project_migrate(root, &["--database", db_arg, "up"]).ok();
    assert!(run.stdout.contains(" 1 Create notes ("), "{run:?}");
    assert_eq!(tables(&db), ["migrate_history", "notes"]);
    project_migrate(root, &["--database", db_arg, "status", "--check"]).ok();
    let run = project_migrate(root, &["--database", db_arg, "down", "--to", "0"]).ok();
    assert!(run.stdout.contains("reverted"), "{run:?}");
    assert_eq!(tables(&db), ["migrate_history"]);

    // A second file, copied by hand with another version: picked up on the next build.
    fs::write(
        folder.join("m0002_create_tags.rs"),
        code.replace("version = 1,", "version = 2,")
            .replace("notes", "tags")
            .replace("Notes", "Tags"),
    )
    .unwrap();
    build_ok(root, "with m0002 dropped in");
    let run = project_migrate(root, &["--database", db_arg, "status"]).ok();
    assert_eq!(
        states(&run),
        [(1, "pending".to_owned()), (2, "pending".to_owned())]
    );
    assert!(run.stdout.contains("Create tags"), "{run:?}");
    project_migrate(root, &["--database", db_arg, "up"]).ok();
    assert_eq!(tables(&db), ["migrate_history", "notes", "tags"]);

    // The history document names the files relative to the project.
    let doc = project_migrate(root, &["--database", db_arg, "history"])
        .ok()
        .stdout;
    assert!(
        doc.contains("| 2 | Create tags | `src/migrations/m0002_create_tags.rs` |"),
        "{doc}"
    );
    assert!(doc.contains("CREATE TABLE tags"), "{doc}");
    assert!(!doc.contains(root.to_str().unwrap()), "{doc}");

    // A blank description is refused, and nothing is written.
    let before = folder_files(&folder);
    for blank in ["", "   "] {
        let run = project_migrate(root, &["new", blank]);
        assert_ne!(run.code, 0, "new {blank:?} succeeded: {run:?}");
        assert!(run.stderr.contains("description"), "{run:?}");
        assert_eq!(folder_files(&folder), before);
    }

    // The program contains migration 2: with its file gone from the folder, `new` still
    // does not reuse 2.
    let moved = root.join("m0002_create_tags.rs.bak");
    fs::rename(folder.join("m0002_create_tags.rs"), &moved).unwrap();
    let run = project_migrate(root, &["new", "Add pinned"]).ok();
    assert!(
        run.stdout.trim().ends_with("m0003_add_pinned.rs"),
        "{run:?}"
    );
    fs::remove_file(folder.join("m0003_add_pinned.rs")).unwrap();
    fs::rename(&moved, folder.join("m0002_create_tags.rs")).unwrap();

    // `new --timestamp`: a 14-digit UTC version.
    let run = project_migrate(root, &["new", "--timestamp", "Add index"]).ok();
    let printed = run.stdout.trim();
    let name = Path::new(printed)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let version = name
        .strip_prefix('m')
        .and_then(|rest| rest.strip_suffix("_add_index.rs"))
        .unwrap_or_else(|| panic!("unexpected file {printed}"));
    assert!(is_timestamp(version), "not a timestamp version: {printed}");
    let code = fs::read_to_string(root.join(printed)).unwrap();
    assert!(
        code.contains(&format!(
            "#[migration(version = {version}, description = \"Add index\")]"
        )),
        "{code}"
    );
    fs::remove_file(root.join(printed)).unwrap();

    // A file that registers no migration fails the build, naming it.
    fs::write(folder.join("helpers.rs"), "pub fn helper() {}\n").unwrap();
    let output = cargo_build(root);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the build succeeded with helpers.rs:\n{err}"
    );
    assert!(
        err.contains("src/migrations/helpers.rs has no #[migration(..)] attribute"),
        "the build error does not name helpers.rs:\n{err}"
    );
}

/// The command of a project that depends on migrate-cli with its default features (SQLite
/// only), given a PostgreSQL URL in `DATABASE_URL`: a usage error (exit 2) before
/// anything is opened, naming the feature to enable, and never the URL's password.
#[test]
fn a_command_built_without_postgres_refuses_a_postgres_url_naming_the_feature() {
    let _one = PROJECT_BUILDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let project = project();
    let root = project.path();
    build_ok(root, "the SQLite-only command");
    for url in [
        "postgres://app:s3cret@127.0.0.1:1/app",
        "postgresql://app:s3cret@127.0.0.1:1/app",
    ] {
        let mut run = command(&project_binary(), root, &["status"]);
        run.env("DATABASE_URL", url);
        let run = run_command(run, "migrate status").code(2);
        assert!(run.stderr.contains("no PostgreSQL backend"), "{run:?}");
        assert!(
            run.stderr.contains("the feature `postgres` of migrate-cli")
                && run.stderr.contains("features = [\"postgres\"]"),
            "says how to enable it: {run:?}"
        );
        assert!(!run.stderr.contains("s3cret"), "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
}

/// On a terminal (a pseudo-terminal from util-linux's `script`), `status` is in colour;
/// with `NO_COLOR` set it is plain again.
#[test]
fn a_terminal_gets_colour_unless_no_color_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    on(&db, &["up", "--to", "1"]).ok();
    let command = format!(
        "{} --database {} status",
        env!("CARGO_BIN_EXE_migrate"),
        db.display()
    );
    let on_terminal = |no_color: bool| {
        let mut script = std::process::Command::new("script");
        script.args(["-qec", &command, "/dev/null"]);
        script.env_remove("NO_COLOR").env_remove("DATABASE_URL");
        if no_color {
            script.env("NO_COLOR", "1");
        }
        let output = script
            .output()
            .expect("util-linux `script` runs the command on a pty");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let coloured = on_terminal(false);
    assert!(coloured.contains("\x1b[32mapplied\x1b[0m"), "{coloured:?}");
    assert!(coloured.contains("\x1b[33mpending\x1b[0m"), "{coloured:?}");
    let plain = on_terminal(true);
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

// ---------------------------------------------------------------------------------------
// The command line's inputs, as sqlx-cli and diesel users type them.
// ---------------------------------------------------------------------------------------

/// The files of `dir`, sorted.
fn dir_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// SQLite URLs are read as sqlx reads them: the query is parameters, not part of the
/// file name; `mode=ro` opens read-only and refuses to migrate; `rw` never creates;
/// `rwc` creates; an unknown parameter is refused by name.
#[test]
fn sqlite_urls_are_parsed_like_sqlx() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("x.db");
    on(&db, &["up", "--to", "1"]).ok();

    let ro = format!("file:{}?mode=ro", db.display());
    let run = migrate(&["--database", &ro, "up"]).code(2);
    assert!(
        run.stderr.contains("read-only") && run.stderr.contains("mode=ro"),
        "{run:?}"
    );
    let run = migrate(&["--database", &ro, "status"]).ok();
    assert_eq!(states(&run)[0], (1, "applied".to_owned()), "{run:?}");
    migrate(&["--database", &ro, "history"]).ok();
    for args in [
        &["down", "--to", "0"][..],
        &["up", "--dry-run"],
        &["accept-changes"],
    ] {
        let mut all = vec!["--database", ro.as_str()];
        all.extend_from_slice(args);
        migrate(&all).code(2);
    }
    expect_states(&db, &[(1, "applied"), (2, "pending"), (3, "pending")]);

    let rwc = format!("sqlite://{}?mode=rwc", dir.path().join("q.db").display());
    migrate(&["--database", &rwc, "up"]).ok();
    expect_states(&dir.path().join("q.db"), ALL_APPLIED);

    let rw = format!("sqlite://{}?mode=rw", dir.path().join("rw.db").display());
    let run = migrate(&["--database", &rw, "up"]).code(1);
    assert!(run.stderr.contains("does not exist"), "{run:?}");

    let spaced = format!("sqlite://{}/my%20app.db", dir.path().display());
    migrate(&["--database", &spaced, "up"]).ok();
    expect_states(&dir.path().join("my app.db"), ALL_APPLIED);

    let unknown = format!("sqlite://{}?cache=shared", db.display());
    let run = migrate(&["--database", &unknown, "status"]).code(2);
    assert!(run.stderr.contains("`cache`"), "{run:?}");

    assert_eq!(
        dir_files(dir.path()),
        ["my app.db", "q.db", "x.db"],
        "a URL's query became part of a file name, or a file was created"
    );
}

/// An empty `DATABASE_URL` or a URL without a file is a usage error, not a temporary
/// database migrated and thrown away.
#[test]
fn an_empty_database_url_is_a_usage_error() {
    for url in ["", "sqlite://", "sqlite:", "file:"] {
        let run = migrate_with(&["up"], &[("DATABASE_URL", OsStr::new(url))]).code(2);
        assert!(!run.stdout.contains("applied"), "{url:?}: {run:?}");
        let run = migrate(&["--database", url, "up"]).code(2);
        assert!(!run.stdout.contains("applied"), "{url:?}: {run:?}");
    }
}

/// A URL of a server without a backend names its kind and the backends the command
/// has, and never prints the password.
#[test]
fn a_server_url_is_refused_without_its_password() {
    for (url, kind) in [
        ("mysql://root:hunter2@localhost/app", "MySQL"),
        ("mariadb://root:hunter2@localhost/app", "MariaDB"),
    ] {
        for args in [&["up"][..], &["status"]] {
            let run = migrate_with(args, &[("DATABASE_URL", OsStr::new(url))]).code(2);
            assert!(!run.stderr.contains("hunter2"), "{run:?}");
            assert!(
                run.stderr.contains(kind) && run.stderr.contains("SQLite and PostgreSQL only"),
                "{run:?}"
            );
        }
    }
}

/// `--schema` names a PostgreSQL schema: with a SQLite database it is a usage error,
/// whatever the command, and nothing is created.
#[test]
fn schema_is_refused_for_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    for args in [
        &["up"][..],
        &["status"],
        &["history"],
        &["down", "--to", "0"],
    ] {
        let mut all = vec!["--schema", "tenant_1"];
        all.extend_from_slice(args);
        let run = on(&db, &all).code(2);
        assert!(
            run.stderr.contains("--schema tenant_1") && run.stderr.contains("drop --schema"),
            "{run:?}"
        );
        assert!(!db.exists(), "{args:?} created the file");
    }
}

/// `--lock` chooses PostgreSQL's lock: with a SQLite database it is a usage error that
/// writes nothing.
#[test]
fn lock_kind_is_refused_for_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let run = on(&db, &["--lock", "lease", "up"]).code(2);
    assert!(
        run.stderr.contains("--lock lease") && run.stderr.contains("drop --lock"),
        "{run:?}"
    );
    assert!(!db.exists(), "created the file");
}

/// `--help` never shows `DATABASE_URL`'s value, which may hold a password.
#[test]
fn help_hides_the_database_url() {
    let run = migrate_with(
        &["--help"],
        &[(
            "DATABASE_URL",
            OsStr::new("postgres://someone:s3cret@db.example/app"),
        )],
    )
    .code(0);
    assert!(run.stdout.contains("DATABASE_URL"), "{run:?}");
    assert!(!run.stdout.contains("s3cret"), "{run:?}");
}

/// `.env` in the working directory is read, and the environment wins over it; a `.env`
/// that does not parse is named, without its content.
#[test]
fn dotenv_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join(".env"),
        "# the app\nDATABASE_URL=sqlite://from_dotenv.db\n",
    )
    .unwrap();
    let run = run_command(
        command(chat_bot_binary(), dir.path(), &["up"]),
        "migrate up",
    );
    let run = run.ok();
    assert!(run.stdout.contains("done: 3 migrations"), "{run:?}");
    expect_states(&dir.path().join("from_dotenv.db"), ALL_APPLIED);

    let mut env_wins = command(chat_bot_binary(), dir.path(), &["up", "--to", "1"]);
    env_wins.env("DATABASE_URL", "sqlite://from_env.db");
    run_command(env_wins, "migrate up --to 1").ok();
    expect_states(
        &dir.path().join("from_env.db"),
        &[(1, "applied"), (2, "pending"), (3, "pending")],
    );

    fs::write(
        dir.path().join(".env"),
        "A=1\nDATABASE_URL='sqlite://hunter2.db\n",
    )
    .unwrap();
    let run = run_command(
        command(chat_bot_binary(), dir.path(), &["status"]),
        "migrate status",
    );
    let run = run.code(2);
    assert!(
        run.stderr.contains(".env") && run.stderr.contains("line 2"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("hunter2"), "{run:?}");
}

/// A command that cannot create a database does not leave an empty file behind; a dry
/// run of a database that does not exist rehearses in memory.
#[test]
fn commands_that_do_not_create_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let run = on(&missing, &["up", "--dry-run"]).ok();
    assert!(run.stdout.contains("would have applied"), "{run:?}");
    for args in [
        &["down", "--to", "1"][..],
        &["down", "--steps", "1", "--dry-run"],
        &["redo"],
        &["accept-changes"],
        &["clear-incomplete", "2"],
    ] {
        let run = on(&missing, args).code(1);
        assert!(run.stderr.contains("does not exist"), "{args:?}: {run:?}");
    }
    assert!(
        dir_files(dir.path()).is_empty(),
        "{:?}",
        dir_files(dir.path())
    );
}

/// `status --check` on a database that does not exist: everything is pending (3), and
/// the file is not created.
#[test]
fn status_check_on_a_missing_database_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.db");
    let run = on(&missing, &["status", "--check"]).code(3);
    assert!(
        run.stderr.contains("does not exist") && run.stderr.contains("pending"),
        "{run:?}"
    );
    assert!(!missing.exists());
}

/// Output to a reader that leaves early, or to a full device: no panic. A closed pipe
/// ends quietly with the command's code; a full device is one line and exit 1.
#[test]
fn closed_pipes_and_full_devices_exit_cleanly() {
    use std::io::Read;
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    let db_arg = db.to_str().unwrap();

    // A pipe whose reader is gone before the command writes.
    for args in [&["up"][..], &["status"], &["history"]] {
        let mut all = vec!["--database", db_arg];
        all.extend_from_slice(args);
        let mut child = command(chat_bot_binary(), package_dir(), &all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    expect_states(&db, ALL_APPLIED);

    let full = Path::new("/dev/full");
    if full.exists() {
        for args in [&["status"][..], &["down", "--to", "0"]] {
            let mut all = vec!["--database", db_arg];
            all.extend_from_slice(args);
            let mut command = command(chat_bot_binary(), package_dir(), &all);
            command.stdout(fs::OpenOptions::new().write(true).open(full).unwrap());
            let run = run_command(command, "migrate > /dev/full").code(1);
            assert!(!run.stderr.contains("panicked"), "{run:?}");
            assert!(run.stderr.contains("could not write the output"), "{run:?}");
            assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        }
        expect_states(&db, &[(1, "pending"), (2, "pending"), (3, "pending")]);
    }
}

// ---------------------------------------------------------------------------------------
// Messages that point at the interface the user is in.
// ---------------------------------------------------------------------------------------

/// Runs SQL on the database file, as someone editing it by hand would.
fn edit(db: &Path, sql: &str) {
    Connection::open(db).unwrap().execute_batch(sql).unwrap();
}

/// Refusals name commands and flags, never API methods, and show each migration's file
/// relative to its crate, not the build machine's absolute path.
#[test]
fn refusals_name_commands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    on(&db, &["up"]).ok();
    let absolute = package_dir().to_str().unwrap();

    edit(
        &db,
        "UPDATE migrate_history SET checksum = 'x' WHERE version = 1",
    );
    let run = on(&db, &["up"]).code(1);
    assert!(run.stderr.contains("`migrate accept-changes`"), "{run:?}");
    assert!(run.stderr.contains("--allow-modified"), "{run:?}");
    assert!(!run.stderr.contains("`--accept-changes`"), "{run:?}");
    assert!(
        run.stderr
            .contains("(src/chat_bot/migrations/m001_initial_schema.rs)"),
        "{run:?}"
    );
    on(&db, &["accept-changes"]).ok();

    edit(
        &db,
        "UPDATE migrate_history SET complete = 0 WHERE version = 3",
    );
    let run = on(&db, &["up"]).code(1);
    assert!(
        run.stderr.contains("`migrate clear-incomplete 3`"),
        "{run:?}"
    );
    edit(
        &db,
        "UPDATE migrate_history SET complete = 1 WHERE version = 3",
    );

    edit(&db, "DELETE FROM migrate_history WHERE version = 2");
    let run = on(&db, &["up"]).code(1);
    assert!(
        run.stderr.contains("`migrate up --allow-out-of-order`"),
        "{run:?}"
    );

    for run in [on(&db, &["up"]), on(&db, &["down", "--to", "7"])] {
        assert!(!run.stderr.contains("Migrator::"), "{run:?}");
        assert!(!run.stderr.contains(absolute), "{run:?}");
    }
    let history = on(&db, &["history"]).ok();
    assert!(!history.stdout.contains(absolute), "{history:?}");
}

/// A history row whose version is text, in migrate's own table, is a row to fix, not a
/// table that "belongs to something else".
#[test]
fn a_history_row_edited_by_hand_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    on(&db, &["up", "--to", "2"]).ok();
    edit(
        &db,
        "UPDATE migrate_history SET version = 'two' WHERE version = 2",
    );
    for args in [&["up"][..], &["status"]] {
        let run = on(&db, args).code(1);
        assert!(
            run.stderr.contains("has a row migrate cannot read")
                && run.stderr.contains("`version`")
                && run.stderr.contains("correct or delete it"),
            "{run:?}"
        );
        assert!(!run.stderr.contains("another table"), "{run:?}");
    }
}

/// `new` writes into the crate's migrations folder, found from the nearest Cargo.toml and
/// its build script, from any folder of the crate; from a workspace root or outside a
/// crate it refuses, naming where it looked, and writes nothing.
#[test]
fn new_finds_the_crates_migrations_folder_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"app\"]\n",
    )
    .unwrap();
    let app = root.join("app");
    fs::create_dir_all(app.join("src")).unwrap();
    fs::write(app.join("Cargo.toml"), "[package]\nname = \"app\"\n").unwrap();
    fs::write(
        app.join("build.rs"),
        "fn main() {\n    migrate_build::migrations(\"db/migrations\").generate_or_report();\n}\n",
    )
    .unwrap();
    let new = |cwd: &Path, description: &str| {
        run_command(
            command(chat_bot_binary(), cwd, &["new", description]),
            "migrate new",
        )
    };

    let run = new(root, "Add tags").code(2);
    assert!(
        run.stderr.contains("workspace") && run.stderr.contains("Cargo.toml"),
        "{run:?}"
    );
    assert!(
        !root.join("src").exists(),
        "new wrote into the workspace root"
    );

    let run = new(&app, "Add tags").ok();
    assert_eq!(
        run.stdout.trim(),
        Path::new("db/migrations/m0004_add_tags.rs")
            .to_str()
            .unwrap()
    );
    new(&app.join("src"), "Add labels").ok();
    assert_eq!(
        folder_files(&app.join("db/migrations")),
        ["m0004_add_tags.rs", "m0005_add_labels.rs"]
    );
    assert!(!app.join("src/migrations").exists());
    assert!(!app.join("src/src").exists());

    // No build script: src/migrations when it exists, else a refusal naming both.
    fs::remove_file(app.join("build.rs")).unwrap();
    let run = new(&app, "Add notes").code(2);
    assert!(
        run.stderr.contains("build.rs") && run.stderr.contains("migrations"),
        "{run:?}"
    );
    fs::create_dir_all(app.join("src/migrations")).unwrap();
    new(&app, "Add notes").ok();
    assert_eq!(
        folder_files(&app.join("src/migrations")),
        ["m0004_add_notes.rs"]
    );

    // Outside any crate.
    let outside = tempfile::tempdir().unwrap();
    if !outside
        .path()
        .ancestors()
        .any(|d| d.join("Cargo.toml").exists())
    {
        let run = new(outside.path(), "Add tags").code(2);
        assert!(run.stderr.contains("no Cargo.toml"), "{run:?}");
        assert!(dir_files(outside.path()).is_empty());
    }
}

/// A description with a control or text-direction character is refused, naming it and
/// where it is, and no file is written; a long description is clipped in the status
/// table instead of padding every row to its width.
#[test]
fn descriptions_that_would_mislead_are_refused_or_clipped() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("migrations");
    let folder_arg = folder.to_str().unwrap();
    for (description, code) in [("Add \u{202E}sgat", "U+202E"), ("Add\ttags", "U+0009")] {
        let run = migrate(&["new", description, "--dir", folder_arg]).code(2);
        assert!(run.stderr.contains(code), "{run:?}");
        assert!(!folder.exists(), "{run:?}");
    }

    let db = dir.path().join("chat.db");
    on(&db, &["up"]).ok();
    edit(
        &db,
        &format!(
            "INSERT INTO migrate_history (migration_set, version, description, type_name, \
             checksum, applied_at, duration_us) VALUES ('', 99, '{}', 'Long', 'x', \
             '2026-01-01T00:00:00Z', 1)",
            "long ".repeat(1000)
        ),
    );
    let run = on(&db, &["status"]).ok();
    let widest = run.stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(
        widest < 150,
        "a status row is {widest} characters wide: {run:?}"
    );
    assert!(run.stdout.contains('…'), "{run:?}");
}
