//! `migrate up --each` and `migrate status --each` over many SQLite files, run as a
//! process the way a user runs it (the chat bot's `migrate`, three migrations): the line
//! per database and the summary when the output is piped, the progress bar on a terminal
//! (under `script`), failures listed with the database and the migration, `--fail-fast`,
//! `--format json`, a database locked by another connection, `SIGKILL` and Ctrl-C in the
//! middle of a run (every file left whole: a prefix of the migrations, nothing half
//! done), and the usage errors.

use migrate_test_support as support;

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use migrate_sqlite::rusqlite::Connection;
use support::Run;

/// The chat bot's migrations: 1 to 3.
const LATEST: u64 = 3;

/// `migrate ARGS` in `dir`, plain output, no `DATABASE_URL`.
fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    command
}

fn migrate_in(dir: &Path, args: &[&str]) -> Run {
    let output = command_in(dir, args)
        .output()
        .expect("run the migrate command");
    Run::from_output(&output)
}

/// `migrate --database FILE up [--to VERSION]`: one file at `version` (0: an empty file).
fn at_version(dir: &Path, name: &str, version: u64) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, "").unwrap();
    if version > 0 {
        let to = version.to_string();
        migrate_in(dir, &["--database", name, "up", "--to", &to]).ok();
    }
    path
}

/// `n` empty files `PREFIXnnn.db` in `dir`, as a fleet of new databases.
fn new_files(dir: &Path, prefix: &str, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| at_version(dir, &format!("{prefix}{i:03}.db"), 0))
        .collect()
}

/// The versions in the file's history, each with whether it is complete (none without
/// a history table).
fn history(path: &Path) -> Vec<(u64, bool)> {
    let conn = Connection::open(path).unwrap();
    let has_history: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'migrate_history'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    if has_history == 0 {
        return Vec::new();
    }
    let mut statement = conn
        .prepare("SELECT version, complete FROM migrate_history ORDER BY version")
        .unwrap();
    statement
        .query_map([], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)? == 1))
        })
        .unwrap()
        .map(|row| {
            let (version, complete) = row.unwrap();
            (u64::try_from(version).unwrap(), complete)
        })
        .collect()
}

/// The file's applied versions, if they are 1 to k, complete; a panic naming the file
/// otherwise.
fn version(path: &Path) -> u64 {
    let history = history(path);
    let k = history.len() as u64;
    let whole: Vec<(u64, bool)> = (1..=k).map(|v| (v, true)).collect();
    assert_eq!(
        history,
        whole,
        "{}: the history is not 1 to {k}, complete",
        path.display()
    );
    k
}

/// What the migrations made in the file: its schema objects (the history table left
/// out) and the columns of `chat_users`.
fn shape(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut shape: Vec<String> = conn
        .prepare(
            "SELECT type || ' ' || name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' \
             AND name <> 'migrate_history' ORDER BY name",
        )
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let columns: Vec<String> = conn
        .prepare("SELECT 'column chat_users.' || name FROM pragma_table_info('chat_users')")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    shape.extend(columns);
    shape
}

/// The shape the migrations 1 to k leave, for k = 0 to 3, from files migrated one
/// version at a time with `--to`.
fn shapes() -> Vec<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let shapes: Vec<Vec<String>> = (0..=LATEST)
        .map(|k| shape(&at_version(dir.path(), &format!("ref{k}.db"), k)))
        .collect();
    // Each migration changes something: the shapes tell the versions apart.
    for k in 1..shapes.len() {
        assert_ne!(shapes[k - 1], shapes[k], "version {k} changed nothing");
    }
    shapes
}

/// Asserts that the file is whole (history 1 to k, the schema exactly that of 1 to k);
/// returns k.
#[track_caller]
fn whole(path: &Path, shapes: &[Vec<String>]) -> u64 {
    let k = version(path);
    assert_eq!(
        shape(path),
        shapes[usize::try_from(k).unwrap()],
        "{}: at version {k} by its history, with another schema",
        path.display()
    );
    k
}

/// The file's name, as `--each '*.db'` run in its folder shows it.
fn name(path: &Path) -> &str {
    path.file_name().unwrap().to_str().unwrap()
}

/// A number that differs from run to run, below `n`, for random delays.
fn random_below(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    u64::from(nanos) % n
}

/// A child with piped output, its stdout read line by line on a thread of its own (so
/// that the child never blocks on a full pipe): `wait_for_lines` blocks until it has
/// printed that many, `finish` returns the whole run.
struct Running {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
    reader: std::thread::JoinHandle<()>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the migrate command");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: Vec::new(),
            reader,
        }
    }

    /// Waits until the child has printed `n` lines (false if it ended first).
    fn wait_for_lines(&mut self, n: usize) -> bool {
        while self.seen.len() < n {
            match self.lines.recv_timeout(Duration::from_secs(120)) {
                Ok(line) => self.seen.push(line),
                Err(_) => return false,
            }
        }
        true
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL the child");
    }

    fn finish(mut self) -> Run {
        // Stderr to its end first (the child's exit closes it), then the exit status.
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = self.child.wait().unwrap();
        self.reader.join().unwrap();
        self.seen.extend(self.lines.try_iter());
        let mut stdout = self.seen.join("\n");
        stdout.push('\n');
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

/// The failure block of `name` after `failed:` / `could not be read:`: its first line
/// and the indented lines below it.
#[track_caller]
fn failure_block(run: &Run, heading: &str, name: &str) -> String {
    let mut lines = run.stdout.lines().skip_while(|l| *l != heading).skip(1);
    let prefix = format!("  {name}: ");
    let first = lines
        .by_ref()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no failure listed for {name} under {heading:?}: {run:?}"));
    let mut block = first.to_owned();
    for line in lines.take_while(|l| l.starts_with("    ")) {
        block.push('\n');
        block.push_str(line);
    }
    block
}

#[test]
fn up_each_migrates_every_file_and_a_second_run_finds_them_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = shapes();
    let mut files = Vec::new();
    for i in 0..3 {
        files.push(at_version(dir.path(), &format!("t{i:02}.db"), LATEST));
    }
    files.push(at_version(dir.path(), "t03.db", 1));
    for i in 4..10 {
        files.push(at_version(dir.path(), &format!("t{i:02}.db"), 0));
    }
    // Not matched: a directory and another extension.
    fs::create_dir(dir.path().join("folder.db")).unwrap();
    fs::write(dir.path().join("notes.txt"), "not a database").unwrap();

    let run = migrate_in(dir.path(), &["up", "--each", "*.db", "--jobs", "3"]).ok();
    for file in &files {
        assert_eq!(whole(file, &shapes), LATEST, "{run:?}");
    }
    // Piped: a plain line per database on stdout, no bar on stderr.
    assert_eq!(run.stdout.lines().count(), 11, "{run:?}");
    assert!(
        !run.stdout.contains('\x1b') && run.stderr.is_empty(),
        "{run:?}"
    );
    for file in &files[..3] {
        assert_eq!(
            run.line_of(name(file)),
            format!("{}: up to date", name(file))
        );
    }
    assert!(
        run.line_of("t03.db")
            .starts_with("t03.db: applied 2 migrations (2 to 3) in "),
        "{run:?}"
    );
    for file in &files[4..] {
        let expected = format!("{}: applied 3 migrations (1 to 3) in ", name(file));
        assert!(run.line_of(name(file)).starts_with(&expected), "{run:?}");
    }
    let summary = run.stdout.lines().last().unwrap();
    assert!(
        summary.starts_with(
            "10 databases: 7 migrated, 3 already up to date, 0 failed; 20 migrations applied in "
        ),
        "{run:?}"
    );
    assert!(!dir.path().join("notes.txt.db").exists());

    let again = migrate_in(dir.path(), &["up", "--each", "*.db", "--jobs", "3"]).ok();
    for file in &files {
        assert_eq!(
            again.line_of(name(file)),
            format!("{}: up to date", name(file))
        );
    }
    assert!(
        again.stdout.lines().last().unwrap().starts_with(
            "10 databases: 0 migrated, 10 already up to date, 0 failed; 0 migrations applied in "
        ),
        "{again:?}"
    );
}

/// A file that is not a database and one whose schema conflicts with migration 1 fail;
/// the others are migrated, the failures are listed at the end with the migration and
/// the cause, and the failed files are left as they were.
#[test]
fn failures_are_listed_at_the_end_and_leave_the_failed_files_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = shapes();
    let good = new_files(dir.path(), "good", 6);
    let text = dir.path().join("notes.db");
    fs::write(&text, "shopping list: milk, eggs\n").unwrap();
    let conflict = dir.path().join("conflict.db");
    Connection::open(&conflict)
        .unwrap()
        .execute_batch("CREATE TABLE chat_users (x)")
        .unwrap();
    let text_before = fs::read(&text).unwrap();
    let conflict_before = fs::read(&conflict).unwrap();
    let conflict_schema = support::snapshot(&conflict);

    let run = migrate_in(dir.path(), &["up", "--each", "*.db", "--jobs", "3"]).code(1);
    for file in &good {
        assert_eq!(whole(file, &shapes), LATEST, "{run:?}");
    }
    assert!(
        fs::read(&text).unwrap() == text_before,
        "notes.db changed: {run:?}"
    );
    assert!(
        fs::read(&conflict).unwrap() == conflict_before,
        "conflict.db changed: {run:?}"
    );
    assert_eq!(support::snapshot(&conflict), conflict_schema);

    assert!(
        run.line_of("notes.db")
            .starts_with("notes.db: failed: notes.db is not a SQLite database"),
        "{run:?}"
    );
    assert!(
        run.line_of("conflict.db")
            .starts_with("conflict.db: failed: migration 1 "),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "8 databases: 6 migrated, 0 already up to date, 2 failed; 18 migrations applied in "
        ),
        "{run:?}"
    );
    // The list after the summary, each failure with what to do.
    let notes = failure_block(&run, "failed:", "notes.db");
    assert!(
        notes.contains("notes.db is not a SQLite database")
            && notes.contains("check that the path names the right file")
            && notes.contains("file is not a database"),
        "{notes}"
    );
    let conflict_block = failure_block(&run, "failed:", "conflict.db");
    assert!(
        conflict_block.starts_with(
            "  conflict.db: migration 1 \"Initial schema\" \
             (src/chat_bot/migrations/m001_initial_schema.rs) failed"
        ) && conflict_block.contains("rolled back")
            && conflict_block.contains("table chat_users already exists"),
        "{conflict_block}"
    );
    assert!(
        run.stdout
            .trim_end()
            .ends_with("each failed one kept the migrations committed before its failure"),
        "{run:?}"
    );

    // A failure after a migration committed: the line and the list say what was kept.
    let dir = tempfile::tempdir().unwrap();
    let half = at_version(dir.path(), "half.db", 1);
    Connection::open(&half)
        .unwrap()
        .execute_batch("ALTER TABLE chat_users ADD COLUMN metadata TEXT")
        .unwrap();
    new_files(dir.path(), "good", 2);
    let run = migrate_in(dir.path(), &["up", "--each", "*.db"]).code(1);
    assert!(
        run.line_of("half.db").starts_with(
            "half.db: failed (1 migration applied before it, and kept: 2): migration 3 \
             \"Add metadata to chat_users\""
        ),
        "{run:?}"
    );
    let block = failure_block(&run, "failed:", "half.db");
    assert!(
        block.contains("duplicate column name: metadata")
            && block.ends_with("    (applied before the failure, and kept: 2)"),
        "{block}"
    );
    assert_eq!(version(&half), 2);
}

/// `--fail-fast --jobs 1`: the run stops at the first failure; the summary counts the
/// databases not started, which are untouched.
#[test]
fn fail_fast_stops_after_the_first_failure() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = shapes();
    let files = new_files(dir.path(), "f", 6);
    Connection::open(&files[2])
        .unwrap()
        .execute_batch("CREATE TABLE chat_users (x)")
        .unwrap();

    // Named one by one, the databases are taken in the order given: 0, then 2 (fails),
    // then the others, which are never started.
    let order = [0, 2, 1, 3, 4, 5].map(|i| name(&files[i]).to_owned());
    let mut args = vec!["up", "--jobs", "1", "--fail-fast", "--each"];
    args.extend(order.iter().map(String::as_str));
    let run = migrate_in(dir.path(), &args).code(1);
    assert_eq!(whole(&files[0], &shapes), LATEST);
    assert!(
        run.stdout.contains(&format!("{}: failed", order[1])),
        "{run:?}"
    );
    assert_eq!(support::snapshot(&files[2]).len(), 1, "{run:?}");
    for file in [&files[1], &files[3], &files[4], &files[5]] {
        assert!(
            fs::read(file).unwrap().is_empty(),
            "{}: {run:?}",
            name(file)
        );
        assert!(!run.stdout.contains(name(file)), "{run:?}");
    }
    assert!(
        run.stdout.contains(
            "6 databases: 1 migrated, 0 already up to date, 1 failed, 4 not started; 3 \
             migrations applied in "
        ),
        "{run:?}"
    );
    assert!(
        run.stdout.contains(
            "--fail-fast: 4 databases not started after the first failure; fix it and run \
             the same command again"
        ),
        "{run:?}"
    );

    // Without --fail-fast, the same run goes on past the failure.
    let run = migrate_in(dir.path(), &["up", "--each", "*.db", "--jobs", "1"]).code(1);
    for file in files.iter().filter(|f| **f != files[2]) {
        assert_eq!(whole(file, &shapes), LATEST, "{run:?}");
    }
}

/// A run of `up` with `--format json`: one document, nothing else on stdout.
fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {run:?}"))
}

#[test]
fn format_json_for_up_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let good = new_files(dir.path(), "good", 3);
    at_version(dir.path(), "current.db", LATEST);
    fs::write(dir.path().join("notes.db"), "not a database").unwrap();
    // Migration 2 applies, then 3 fails: its column is there already.
    let half = at_version(dir.path(), "half.db", 1);
    Connection::open(&half)
        .unwrap()
        .execute_batch("ALTER TABLE chat_users ADD COLUMN metadata TEXT")
        .unwrap();

    let run = migrate_in(
        dir.path(),
        &["up", "--each", "*.db", "--jobs", "2", "--format", "json"],
    )
    .code(1);
    let doc = json(&run);
    assert_eq!(doc["command"], "up", "{doc}");
    assert_eq!(doc["dry_run"], false, "{doc}");
    assert_eq!(doc["targets"], 6, "{doc}");
    assert_eq!(doc["migrated"], 3, "{doc}");
    assert_eq!(doc["up_to_date"], 1, "{doc}");
    assert_eq!(doc["failed"], 2, "{doc}");
    assert_eq!(doc["not_started"], 0, "{doc}");
    assert_eq!(doc["stopped"], false, "{doc}");
    // 3 on each new file, and 2 on half.db before 3 failed.
    assert_eq!(doc["applied"], 10, "{doc}");
    assert_eq!(doc["skipped"], 0, "{doc}");
    assert!(doc["elapsed_ms"].is_u64(), "{doc}");
    let failures = doc["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 2, "{doc}");
    let failure = |target: &str| {
        failures
            .iter()
            .find(|f| f["target"] == target)
            .unwrap_or_else(|| panic!("no failure for {target}: {doc}"))
    };
    let notes = failure("notes.db");
    assert!(notes["migration"].is_null(), "{doc}");
    assert!(
        notes["error"]
            .as_str()
            .unwrap()
            .starts_with("notes.db is not a SQLite database"),
        "{doc}"
    );
    assert_eq!(notes["committed"], serde_json::json!([]), "{doc}");
    let half_failure = failure("half.db");
    assert_eq!(
        half_failure["migration"],
        serde_json::json!({
            "version": 3,
            "description": "Add metadata to chat_users",
            "file": "src/chat_bot/migrations/m003_add_metadata.rs"
        }),
        "{doc}"
    );
    let error = half_failure["error"].as_str().unwrap();
    assert!(
        error.starts_with("migration 3 \"Add metadata to chat_users\"")
            && error.contains("duplicate column name: metadata"),
        "{doc}"
    );
    assert_eq!(half_failure["committed"], serde_json::json!([2]), "{doc}");
    assert_eq!(version(&half), 2);
    for file in &good {
        assert_eq!(version(file), LATEST);
    }

    // status: one behind (half.db at 2), one needing attention (a checksum edited).
    let edited = at_version(dir.path(), "edited.db", LATEST);
    Connection::open(&edited)
        .unwrap()
        .execute_batch("UPDATE migrate_history SET checksum = '0000000000000000' WHERE version = 2")
        .unwrap();
    let run = migrate_in(
        dir.path(),
        &["status", "--each", "*.db", "--format", "json"],
    )
    .code(1);
    let doc = json(&run);
    assert_eq!(doc["command"], "status", "{doc}");
    assert_eq!(doc["targets"], 7, "{doc}");
    assert_eq!(doc["latest"], 3, "{doc}");
    assert_eq!(doc["up_to_date"], 4, "{doc}");
    assert_eq!(doc["behind"], 1, "{doc}");
    assert_eq!(doc["attention"], 1, "{doc}");
    assert_eq!(doc["failed"], 1, "{doc}");
    assert_eq!(doc["not_started"], 0, "{doc}");
    assert_eq!(
        doc["versions"],
        serde_json::json!({"2": 1, "3": 5}),
        "{doc}"
    );
    assert_eq!(
        doc["behind_targets"],
        serde_json::json!([{"target": "half.db", "at": 2, "pending": [3]}]),
        "{doc}"
    );
    let attention = doc["attention_targets"].as_array().unwrap();
    assert_eq!(attention.len(), 1, "{doc}");
    assert_eq!(attention[0]["target"], "edited.db", "{doc}");
    assert_eq!(attention[0]["at"], 3, "{doc}");
    let problem = attention[0]["problem"].as_str().unwrap();
    assert!(
        problem.starts_with("migration 2 \"Add is_spammer to chat_users\" modified")
            && problem.contains("migrate accept-changes"),
        "{doc}"
    );
    let failures = doc["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{doc}");
    assert_eq!(failures[0]["target"], "notes.db", "{doc}");
    assert!(failures[0]["migration"].is_null(), "{doc}");
}

/// `status --each`: the databases counted by version, the one behind, the one needing
/// attention and the one that cannot be read; `--check` exits 3 while one is behind, 0
/// once all are up to date, 1 while one cannot be read.
#[test]
fn status_each_counts_and_check_exits() {
    let dir = tempfile::tempdir().unwrap();
    let current: Vec<PathBuf> = (0..3)
        .map(|i| at_version(dir.path(), &format!("current{i}.db"), LATEST))
        .collect();
    at_version(dir.path(), "behind.db", 2);
    let edited = at_version(dir.path(), "edited.db", LATEST);
    Connection::open(&edited)
        .unwrap()
        .execute_batch("UPDATE migrate_history SET checksum = 'ffffffffffffffff' WHERE version = 1")
        .unwrap();
    let notes = dir.path().join("notes.db");
    fs::write(&notes, "not a database").unwrap();
    let before: Vec<Vec<u8>> = [&current[0], &edited, &notes]
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();

    let status = migrate_in(dir.path(), &["status", "--each", "*.db", "--jobs", "2"]).code(1);
    for file in &current {
        assert_eq!(
            status.line_of(name(file)),
            format!("{}: up to date at version 3", name(file))
        );
    }
    assert_eq!(
        status.line_of("behind.db"),
        "behind.db: behind: at version 2, 1 pending (3)"
    );
    assert!(
        status.line_of("edited.db").starts_with(
            "edited.db: needs attention: migration 1 \"Initial schema\" modified since it \
             was applied (`migrate accept-changes`)"
        ),
        "{status:?}"
    );
    assert!(
        status
            .line_of("notes.db")
            .starts_with("notes.db: could not be read: notes.db is not a SQLite database"),
        "{status:?}"
    );
    let summary: Vec<&str> = status
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("6 databases:"))
        .collect();
    assert_eq!(
        summary[..6],
        [
            "6 databases: 3 up to date, 1 behind, 1 need attention, 1 could not be read",
            "by version (the latest is 3):",
            "  version 3: 4 databases",
            "  version 2: 1 database",
            "behind (`migrate up` applies the pending migrations):",
            "  behind.db: at version 2, 1 pending (3)",
        ],
        "{status:?}"
    );
    assert!(
        failure_block(&status, "could not be read:", "notes.db")
            .contains("check that the path names the right file"),
        "{status:?}"
    );
    // status reads only.
    let after: Vec<Vec<u8>> = [&current[0], &edited, &notes]
        .iter()
        .map(|p| fs::read(p).unwrap())
        .collect();
    assert!(before == after, "status wrote: {status:?}");

    // --check: 1 while a database cannot be read, 3 while one is behind, else 0.
    migrate_in(dir.path(), &["status", "--each", "*.db", "--check"]).code(1);
    fs::remove_file(&notes).unwrap();
    fs::remove_file(&edited).unwrap();
    let check = migrate_in(dir.path(), &["status", "--each", "*.db", "--check"]).code(3);
    assert!(
        check
            .stdout
            .contains("4 databases: 3 up to date, 1 behind, 0 need attention, 0 could not be read"),
        "{check:?}"
    );
    // Without --check, being behind is no failure.
    migrate_in(dir.path(), &["status", "--each", "*.db"]).ok();
    migrate_in(dir.path(), &["up", "--each", "behind.db"]).ok();
    let check = migrate_in(dir.path(), &["status", "--each", "*.db", "--check"]).ok();
    assert!(
        check.stdout.contains("  version 3: 4 databases"),
        "{check:?}"
    );
}

/// Holds `BEGIN EXCLUSIVE` on the database at `path` until dropped.
struct Locked(Connection);

impl Locked {
    fn hold(path: &Path) -> Locked {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch("BEGIN EXCLUSIVE").unwrap();
        // A read makes SQLite take the lock BEGIN names.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        })
        .unwrap();
        Locked(conn)
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        let _ = self.0.execute_batch("ROLLBACK");
    }
}

/// A database locked by another connection fails after `--lock-timeout`, naming the lock,
/// and the others are migrated; rerun once it is released, it is migrated too. With a
/// longer timeout, the run waits until the lock is released and finishes them all.
#[test]
fn a_locked_database_fails_after_the_lock_timeout_and_the_others_are_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let shapes = shapes();
    let files = new_files(dir.path(), "l", 5);
    let before = fs::read(&files[1]).unwrap();
    let lock = Locked::hold(&files[1]);
    let run = migrate_in(
        dir.path(),
        &[
            "up",
            "--each",
            "*.db",
            "--jobs",
            "3",
            "--lock-timeout",
            "0.5",
        ],
    )
    .code(1);
    let line = run.line_of("l001.db");
    assert!(
        line.starts_with(
            "l001.db: failed: database is locked: another process holds the database's lock"
        ) && line.contains("--lock-wait"),
        "{run:?}"
    );
    assert!(
        failure_block(&run, "failed:", "l001.db").contains("database is locked"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("5 databases: 4 migrated, 0 already up to date, 1 failed;"),
        "{run:?}"
    );
    drop(lock);
    assert!(fs::read(&files[1]).unwrap() == before, "l001.db changed");
    for (i, file) in files.iter().enumerate() {
        assert_eq!(whole(file, &shapes), if i == 1 { 0 } else { LATEST });
    }
    let run = migrate_in(dir.path(), &["up", "--each", "*.db", "--jobs", "3"]).ok();
    assert!(
        run.stdout
            .contains("5 databases: 1 migrated, 4 already up to date, 0 failed;"),
        "{run:?}"
    );
    assert_eq!(whole(&files[1], &shapes), LATEST);

    // A longer timeout: the locked one waits while the others are done, and is migrated
    // once the lock goes (about a second later, after the others' lines).
    let dir = tempfile::tempdir().unwrap();
    let files = new_files(dir.path(), "w", 5);
    let lock = Locked::hold(&files[3]);
    let start = Instant::now();
    let mut running = Running::start(command_in(
        dir.path(),
        &[
            "up",
            "--each",
            "*.db",
            "--jobs",
            "3",
            "--lock-timeout",
            "60",
        ],
    ));
    assert!(running.wait_for_lines(4), "the others were not migrated");
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1).saturating_sub(start.elapsed()));
        drop(lock);
    });
    // Still waiting: the four lines are the others'.
    assert!(
        running.seen.iter().all(|l| !l.starts_with("w003.db")),
        "{:?}",
        running.seen
    );
    release.join().unwrap();
    let run = running.finish().ok();
    assert!(
        run.line_of("w003.db")
            .starts_with("w003.db: applied 3 migrations (1 to 3)"),
        "{run:?}"
    );
    for file in &files {
        assert_eq!(whole(file, &shapes), LATEST);
    }
}

/// SIGKILL in the middle of a fan-out, at a different moment each round: every file is
/// whole afterwards (its history 1 to k, its schema exactly that of 1 to k), and a rerun
/// finishes them all.
#[test]
fn killed_in_the_middle_every_file_is_whole_and_a_rerun_finishes() {
    let shapes = shapes();
    for (round, after_lines) in [1, 30, 80].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let files = new_files(dir.path(), "k", 200);
        let delay = Duration::from_micros(random_below(20_000));
        let mut running = Running::start(command_in(
            dir.path(),
            &["up", "--each", "*.db", "--jobs", "4"],
        ));
        let what = format!("round {round}: killed {delay:?} after {after_lines} lines");
        assert!(running.wait_for_lines(after_lines), "{what}");
        std::thread::sleep(delay);
        running.kill();
        let run = running.finish();
        assert_eq!(run.code, -1, "{what}: not killed: {run:?}");
        // `status` reads every file first, as left (a journal of a transaction cut short
        // included): none is unreadable or in need of attention.
        let status = migrate_in(dir.path(), &["status", "--each", "*.db", "--jobs", "4"]).ok();
        let mut by_version = [0usize; 4];
        for file in &files {
            by_version[usize::try_from(whole(file, &shapes)).unwrap()] += 1;
        }
        assert!(
            by_version[3] >= after_lines && by_version[3] < files.len(),
            "{what}: {by_version:?} at versions 0 to 3"
        );
        let expected = format!(
            "200 databases: {} up to date, {} behind, 0 need attention, 0 could not be read",
            by_version[3],
            200 - by_version[3]
        );
        assert!(status.stdout.contains(&expected), "{what}: {status:?}");
        let rerun = migrate_in(dir.path(), &["up", "--each", "*.db", "--jobs", "4"]).ok();
        for file in &files {
            assert_eq!(whole(file, &shapes), LATEST, "{what}: {rerun:?}");
        }
    }
}

/// Ctrl-C (SIGINT) during `--jobs 1` over many files: no new database is started, the one
/// in flight finishes, exit 130, the summary says how many were not started (those are
/// untouched), every file is whole; a rerun finishes.
#[test]
fn ctrl_c_stops_starting_new_databases() {
    let shapes = shapes();
    let dir = tempfile::tempdir().unwrap();
    let files = new_files(dir.path(), "c", 300);
    let mut running = Running::start(command_in(
        dir.path(),
        &["up", "--each", "*.db", "--jobs", "1"],
    ));
    assert!(running.wait_for_lines(3));
    let kill = Command::new("kill")
        .args(["-INT", &running.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    let run = running.finish().code(130);
    assert!(
        run.stderr.contains("stopping: no new database is started"),
        "{run:?}"
    );
    let summary = run
        .stdout
        .lines()
        .find(|l| l.starts_with("300 databases: "))
        .unwrap_or_else(|| panic!("no summary: {run:?}"));
    // "300 databases: M migrated, 0 already up to date, 0 failed, N not started; ..."
    let numbers: Vec<usize> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| !w.is_empty())
        .map(|w| w.parse().unwrap())
        .collect();
    let (migrated, not_started) = (numbers[1], numbers[4]);
    assert!(
        summary.contains(&format!(
            "{migrated} migrated, 0 already up to date, 0 failed, {not_started} not started;"
        )) && migrated >= 3
            && not_started > 0
            && migrated + not_started == 300,
        "{run:?}"
    );
    assert!(
        run.stdout.contains(&format!(
            "stopped by Ctrl-C: {not_started} databases not started; run the same command again"
        )),
        "{run:?}"
    );
    let mut untouched = 0;
    for file in &files {
        match whole(file, &shapes) {
            LATEST => {}
            0 => {
                assert!(fs::read(file).unwrap().is_empty(), "{}", file.display());
                untouched += 1;
            }
            k => panic!("{}: at version {k} after Ctrl-C", file.display()),
        }
    }
    assert_eq!(untouched, not_started, "{run:?}");

    let rerun = migrate_in(dir.path(), &["up", "--each", "*.db", "--jobs", "2"]).ok();
    assert!(
        rerun.stdout.contains(&format!(
            "300 databases: {not_started} migrated, {migrated} already up to date, 0 failed;"
        )),
        "{rerun:?}"
    );
    for file in &files {
        assert_eq!(whole(file, &shapes), LATEST);
    }
}

/// The command line's mistakes: exit 2, a message that says what to do, nothing written.
#[test]
fn usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let files = new_files(dir.path(), "u", 2);
    let usage = |args: &[&str], expected: &[&str]| {
        let run = migrate_in(dir.path(), args).code(2);
        for text in expected {
            assert!(run.stderr.contains(text), "{args:?}: {text:?} in {run:?}");
        }
        assert!(run.stdout.is_empty(), "{args:?}: {run:?}");
    };
    usage(
        &["up", "--each", "nothing/*.db"],
        &["--each \"nothing/*.db\" matches no file; check the pattern"],
    );
    usage(
        &["up", "--each", "*.db", "--database", "other.db"],
        &["--each names the databases to migrate, and --database names one more: drop --database"],
    );
    usage(
        &["status", "--database", "other.db", "--each", "*.db"],
        &["drop --database"],
    );
    // The options of a fan-out without one: clap names the options they need.
    let needs_each = "<--each <FILE_PATTERN>...|--each-schema <SCHEMA_PATTERN>|--each-from <FILE>>";
    usage(&["up", "--jobs", "2"], &["--jobs", needs_each]);
    usage(
        &["status", "--jobs", "2", "--database", "u000.db"],
        &["--jobs", needs_each],
    );
    usage(
        &["up", "--fail-fast", "--database", "u000.db"],
        &["--fail-fast", needs_each],
    );
    usage(
        &["up", "--format", "json", "--database", "u000.db"],
        &["--format", needs_each],
    );
    usage(
        &["up", "--each", "*.db", "--jobs", "0"],
        &["invalid value '0' for '--jobs <N>'"],
    );
    usage(
        &["up", "--each", "postgres://someone:s3cret@127.0.0.1/db"],
        &["--each takes SQLite files", "--each-schema", "--each-from"],
    );
    usage(
        &["up", "--each-schema", "tenant_*", "--database", "u000.db"],
        &[
            "--each-schema selects PostgreSQL schemas",
            "--each 'PATTERN'",
        ],
    );
    usage(
        &["up", "--each-schema", "tenant_*"],
        &["--each-schema needs the PostgreSQL database"],
    );
    fs::write(
        dir.path().join("list.txt"),
        "# the tenants\nu000.db\n\nmysql://db.example.com/app\n",
    )
    .unwrap();
    usage(
        &["up", "--each-from", "list.txt"],
        &[
            "--each-from list.txt, line 4: ",
            "mysql://db.example.com/app",
        ],
    );
    usage(
        &["up", "--each-from", "missing.txt"],
        &["--each-from missing.txt: cannot open it"],
    );
    fs::write(dir.path().join("empty.txt"), "# none yet\n\n").unwrap();
    usage(&["up", "--each-from", "empty.txt"], &["lists no database"]);
    // The password never shows.
    let run = migrate_in(
        dir.path(),
        &["up", "--each", "postgres://someone:s3cret@127.0.0.1/db"],
    );
    assert!(!run.stderr.contains("s3cret"), "{run:?}");
    // Nothing was written, nor created.
    for file in &files {
        assert!(fs::read(file).unwrap().is_empty(), "{}", name(file));
    }
    assert!(!dir.path().join("other.db").exists());

    // DATABASE_URL in the environment is no --database: ignored with --each.
    let run = command_in(dir.path(), &["up", "--each", "*.db"])
        .env("DATABASE_URL", "other.db")
        .output()
        .unwrap();
    let run = Run::from_output(&run).ok();
    assert!(run.stdout.contains("2 databases: 2 migrated"), "{run:?}");
    assert!(!dir.path().join("other.db").exists());
    // --each-from with the paths listed (a comment, a blank line) works too.
    fs::write(
        dir.path().join("list.txt"),
        "# the tenants\nu000.db\n\nu001.db\n",
    )
    .unwrap();
    let run = migrate_in(
        dir.path(),
        &["status", "--each-from", "list.txt", "--check"],
    )
    .ok();
    assert!(run.stdout.contains("2 databases: 2 up to date"), "{run:?}");
}

/// Runs the shell command `shell` in `dir` on a terminal of its own (`script`, from
/// util-linux), plain output, no `DATABASE_URL`.
fn on_a_terminal(dir: &Path, shell: &str) -> std::process::Output {
    Command::new("script")
        .args(["-qec", shell, "/dev/null"])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// On a terminal (under `script`), a progress bar on stderr (`N/M databases`) instead of
/// a line per database; failures still shown, and the summary.
#[test]
fn on_a_terminal_a_progress_bar_instead_of_lines() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("NOTE: the terminal test did not run: `script` (util-linux) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let files = new_files(dir.path(), "b", 20);
    fs::write(dir.path().join("notes.db"), "not a database").unwrap();
    let shell = format!(
        "'{}' up --each '*.db' --jobs 2",
        env!("CARGO_BIN_EXE_migrate")
    );
    let output = on_a_terminal(dir.path(), &shell);
    let run = Run::from_output(&output).code(1);
    assert!(run.stdout.contains("/21 databases"), "{run:?}");
    assert!(!run.stdout.contains("applied 3 migrations"), "{run:?}");
    assert!(
        run.stdout
            .contains("notes.db: failed: notes.db is not a SQLite database"),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("21 databases: 20 migrated, 0 already up to date, 1 failed;"),
        "{run:?}"
    );
    for file in &files {
        assert_eq!(version(file), LATEST);
    }
}

/// Waits until the first of `files` has been written to: the run is under way, its
/// Ctrl-C handler installed.
fn wait_until_written(path: &Path) {
    let start = Instant::now();
    while fs::metadata(path).map_or(0, |m| m.len()) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `kill -INT PID` (the shell's Ctrl-C, to one process).
fn interrupt(pid: u32) -> bool {
    Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill")
        .success()
}

/// Ctrl-C with `--format json`: the document says the run was stopped and how many
/// databases were not started.
#[test]
fn ctrl_c_with_format_json_says_stopped() {
    let shapes = shapes();
    let dir = tempfile::tempdir().unwrap();
    let files = new_files(dir.path(), "j", 300);
    let running = Running::start(command_in(
        dir.path(),
        &["up", "--each", "*.db", "--jobs", "1", "--format", "json"],
    ));
    wait_until_written(&files[0]);
    assert!(interrupt(running.pid()));
    let run = running.finish().code(130);
    let doc = json(&run);
    assert_eq!(doc["stopped"], true, "{doc}");
    assert_eq!(doc["failed"], 0, "{doc}");
    let migrated = doc["migrated"].as_u64().unwrap();
    let not_started = doc["not_started"].as_u64().unwrap();
    assert!(
        migrated >= 1 && not_started > 0 && migrated + not_started == 300,
        "{doc}"
    );
    let done = files
        .iter()
        .filter(|file| whole(file, &shapes) == LATEST)
        .count();
    assert_eq!(done as u64, migrated, "{doc}");
}

/// A second Ctrl-C ends the process at once, with migrations in flight: each is rolled
/// back whole, every file is whole, and a rerun finishes them.
#[test]
fn a_second_ctrl_c_exits_at_once_and_leaves_every_file_whole() {
    let shapes = shapes();
    let dir = tempfile::tempdir().unwrap();
    let files = new_files(dir.path(), "s", 300);
    let running = Running::start(command_in(
        dir.path(),
        &["up", "--each", "*.db", "--jobs", "4"],
    ));
    wait_until_written(&files[0]);
    assert!(interrupt(running.pid()));
    // Apart, so that the two signals are not merged into one.
    std::thread::sleep(Duration::from_millis(5));
    // The process may already have ended after the first.
    interrupt(running.pid());
    let run = running.finish().code(130);
    assert!(run.stderr.contains("stopping"), "{run:?}");
    for file in &files {
        whole(file, &shapes);
    }
    migrate_in(dir.path(), &["up", "--each", "*.db", "--jobs", "4"]).ok();
    for file in &files {
        assert_eq!(whole(file, &shapes), LATEST);
    }
}

/// A database the command refuses to open says why on its line and in the list, not the
/// generic advice about reaching a database: a file that does not exist (`status` of a
/// path named), a URL that opens it read-only (`up` from a list).
#[test]
fn a_database_that_cannot_be_opened_says_why() {
    let dir = tempfile::tempdir().unwrap();
    at_version(dir.path(), "here.db", LATEST);
    let run = migrate_in(dir.path(), &["status", "--each", "here.db", "gone.db"]).code(1);
    let expected = "the database gone.db does not exist; check the path (`up` creates it)";
    assert_eq!(
        run.line_of("gone.db"),
        format!("gone.db: could not be read: {expected}"),
        "{run:?}"
    );
    assert_eq!(
        failure_block(&run, "could not be read:", "gone.db"),
        format!("  gone.db: {expected}"),
        "{run:?}"
    );
    assert!(!dir.path().join("gone.db").exists());

    at_version(dir.path(), "new.db", 0);
    fs::write(
        dir.path().join("list.txt"),
        "sqlite://new.db?mode=ro\nhere.db\n",
    )
    .unwrap();
    let run = migrate_in(
        dir.path(),
        &["up", "--each-from", "list.txt", "--format", "json"],
    )
    .code(1);
    let doc = json(&run);
    assert_eq!(
        doc["failures"][0]["target"], "sqlite://new.db?mode=ro",
        "{doc}"
    );
    assert_eq!(
        doc["failures"][0]["error"],
        "the database URL opens new.db read-only (mode=ro), and `up` writes to it; drop \
         `?mode=ro` to migrate (`status` and `history` work read-only)",
        "{doc}"
    );
    assert_eq!(doc["up_to_date"], 1, "{doc}");
    assert!(fs::read(dir.path().join("new.db")).unwrap().is_empty());
}

/// On a terminal with standard output sent to a file: the bar on the terminal, and a
/// line per database in the file, so that a log keeps every database.
#[test]
fn on_a_terminal_with_output_to_a_file_the_file_gets_a_line_per_database() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("NOTE: the terminal test did not run: `script` (util-linux) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    new_files(dir.path(), "f", 5);
    let shell = format!(
        "'{}' up --each '*.db' --jobs 2 > log.txt",
        env!("CARGO_BIN_EXE_migrate")
    );
    let output = on_a_terminal(dir.path(), &shell);
    Run::from_output(&output).ok();
    let log = fs::read_to_string(dir.path().join("log.txt")).unwrap();
    for i in 0..5 {
        let line = format!("f{i:03}.db: applied 3 migrations (1 to 3)");
        assert!(log.contains(&line), "no {line:?} in {log}");
    }
    assert!(log.contains("5 databases: 5 migrated"), "{log}");
}

/// `status --each` with `--tag` and `--category` judges only the migrations they select,
/// as for one database (the `migrate_tagged` binary: 1 and 2 of category `schema`, 3 and
/// 4 tagged `slow`).
#[test]
fn status_each_judges_only_the_migrations_a_filter_selects() {
    let dir = tempfile::tempdir().unwrap();
    let tagged = |args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_migrate_tagged"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        Run::from_output(&output)
    };
    for name in ["a.db", "b.db"] {
        tagged(&["--database", name, "up", "--to", "3"]).ok();
    }
    let schema = tagged(&[
        "status",
        "--each",
        "*.db",
        "--category",
        "schema",
        "--check",
    ])
    .ok();
    assert!(
        schema.stdout.contains("2 databases: 2 up to date"),
        "{schema:?}"
    );
    let slow = tagged(&["status", "--each", "*.db", "--tag", "slow", "--check"]).code(3);
    assert!(
        slow.stdout.contains("2 databases: 0 up to date, 2 behind"),
        "{slow:?}"
    );
    assert!(
        slow.stdout.contains("a.db: at version 3, 1 pending (4)"),
        "{slow:?}"
    );
    let everything = tagged(&["status", "--each", "*.db", "--check"]).code(3);
    assert!(
        everything.stdout.contains("2 pending (4, 5)"),
        "{everything:?}"
    );
}

/// `up --each --parallel N` over SQLite files is refused once, before any file is
/// opened, naming `--parallel` and why: SQLite has one writer.
#[test]
fn parallel_over_sqlite_files_is_refused_once_before_any_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let files = new_files(dir.path(), "p", 3);
    let before: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();
    let run = migrate_in(dir.path(), &["up", "--each", "*.db", "--parallel", "2"]).code(1);
    assert_eq!(
        run.stderr
            .matches("independent migrations cannot run at once")
            .count(),
        1,
        "{run:?}"
    );
    assert!(
        run.stderr.contains("one connection write at a time"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("--each already migrates several files at once (--jobs N)"),
        "{run:?}"
    );
    assert!(run.stderr.contains("drop --parallel"), "{run:?}");
    let after: Vec<Vec<u8>> = files.iter().map(|f| fs::read(f).unwrap()).collect();
    assert_eq!(before, after);
}

/// `--each 'DIR/*'` leaves out SQLite's own files beside a database (`-wal`, `-shm`,
/// `-journal`): they match the pattern but are not databases.
#[test]
fn a_pattern_leaves_out_the_files_sqlite_keeps_beside_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("t");
    fs::create_dir(&sub).unwrap();
    at_version(&sub, "a.db", 1);
    for companion in ["a.db-wal", "a.db-shm"] {
        fs::write(sub.join(companion), "").unwrap();
    }
    let run = migrate_in(dir.path(), &["up", "--each", "t/*"]).ok();
    assert!(run.stdout.contains("1 database: 1 migrated"), "{run:?}");
    assert!(!run.stdout.contains("-wal"), "{run:?}");
    assert_eq!(version(&sub.join("a.db")), LATEST);
}

/// A database named twice (by two patterns, or twice in a list) is taken once, and
/// counted once.
#[test]
fn a_database_named_twice_is_taken_once() {
    let dir = tempfile::tempdir().unwrap();
    new_files(dir.path(), "d", 3);
    let run = migrate_in(dir.path(), &["up", "--each", "*.db", "d001.db", "d*.db"]).ok();
    assert!(run.stdout.contains("3 databases: 3 migrated"), "{run:?}");
    for name in ["d000.db", "d001.db", "d002.db"] {
        assert_eq!(
            run.stdout.matches(&format!("{name}: ")).count(),
            1,
            "{run:?}"
        );
    }
    fs::write(
        dir.path().join("list.txt"),
        "d000.db\nd001.db\n\n# again\nd000.db\n",
    )
    .unwrap();
    let run = migrate_in(dir.path(), &["status", "--each-from", "list.txt"]).ok();
    assert!(run.stdout.contains("2 databases: 2 up to date"), "{run:?}");
    assert_eq!(run.stdout.matches("d000.db: ").count(), 1, "{run:?}");
}
