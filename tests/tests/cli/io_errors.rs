//! The `migrate` command when the file system or another process stops it: a read-only
//! database file, a read-only folder, a full disk, a file size limit, a lock held by
//! another process. Each test runs the chat bot's real `migrate` binary on a real file
//! and checks the exit code, that the first line of stderr states the cause and what to
//! do with the command line's own commands and flags, that nothing was written (the
//! database's schema, history and data as before), and that once the cause is gone a
//! plain rerun succeeds.
//!
//! Root ignores permission bits: run as root, the read-only tests run the binary as the
//! unprivileged user 65534 through util-linux's `setpriv`. The full disk is a small
//! tmpfs in a mount namespace of its own (`unshare`), where the system allows one.

// Unix permission bits, `sh`, `ulimit` and mount namespaces.
#![cfg(unix)]

use migrate_test_support as support;

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use migrate_sqlite::rusqlite::Connection;
use support::snapshot;

/// What a run of the command did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

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

    /// The first line of stderr, without its `error: `.
    #[track_caller]
    fn first_line(&self) -> &str {
        let line = self.stderr.lines().next().unwrap_or_default();
        line.strip_prefix("error: ")
            .unwrap_or_else(|| panic!("stderr does not start with `error: `: {self:?}"))
    }
}

/// The chat bot's `migrate` binary, which cargo builds for this package's tests.
fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_migrate"))
}

/// `program ARGS` run in this package's folder, without the environment that would
/// change what the command does.
fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR");
    command
}

fn run(mut command: Command) -> Run {
    Run::from_output(command.output().expect("run the command"))
}

/// `migrate --database DB ARGS`, as this process's user.
fn migrate(db: &Path, args: &[&str]) -> Run {
    let mut command = command(binary());
    command.arg("--database").arg(db).args(args);
    run(command)
}

/// The chat bot's migrations applied up to 2, and 3 pending, in `dir/chat.db`.
fn database_at_2(dir: &Path) -> PathBuf {
    let db = dir.join("chat.db");
    migrate(&db, &["up", "--to", "2"]).ok();
    db
}

/// Everything a failed run must leave as it was: schema, history and data.
fn contents(db: &Path) -> (Vec<String>, i64) {
    let users = Connection::open(db)
        .unwrap()
        .query_row("SELECT count(*) FROM chat_users", [], |row| row.get(0))
        .unwrap();
    (snapshot(db), users)
}

/// The files of `dir`, sorted: a journal left behind would be a half-written database.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `status` shows 1 and 2 applied and 3 pending, or all three applied.
#[track_caller]
fn expect_applied(db: &Path, count: usize) {
    let run = migrate(db, &["status"]).ok();
    let applied = run
        .stdout
        .lines()
        .skip(1)
        .filter(|l| l.split_whitespace().any(|w| w == "applied"))
        .count();
    assert_eq!(applied, count, "{run:?}");
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

// ---------------------------------------------------------------------------------------
// Read-only file and folder.
// ---------------------------------------------------------------------------------------

/// Whether this process runs as root, whom permission bits do not stop.
fn running_as_root() -> bool {
    let output = Command::new("id").arg("-u").output().expect("run `id -u`");
    String::from_utf8_lossy(&output.stdout).trim() == "0"
}

/// `migrate --database DB ARGS` as a user that permission bits stop: this process's
/// user, or, when that is root, the unprivileged user 65534 (`nobody`).
fn migrate_unprivileged(db: &Path, args: &[&str]) -> Run {
    let mut command = if running_as_root() {
        let setpriv = Command::new("setpriv").arg("--version").output();
        assert!(
            setpriv.is_ok_and(|o| o.status.success()),
            "these tests run as root, whom permission bits do not stop: they need \
             util-linux's `setpriv` to run the command as an unprivileged user"
        );
        let mut command = command("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(binary());
        command
    } else {
        command(binary())
    };
    command.arg("--database").arg(db).args(args);
    run(command)
}

/// A temporary folder that the unprivileged user can enter (a fresh temporary folder is
/// its owner's alone), with the chat bot's database at version 2.
fn shared_database() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o777);
    let db = database_at_2(dir.path());
    set_mode(&db, 0o666);
    (dir, db)
}

/// A database file the user cannot write, in a folder they can: `up` fails with the
/// cause first, writes nothing, and succeeds once the file is writable.
#[test]
fn a_read_only_database_file() {
    let (dir, db) = shared_database();
    set_mode(&db, 0o444);
    let before = fs::read(&db).unwrap();
    let contents_before = contents(&db);

    let run = migrate_unprivileged(&db, &["up"]).code(1);
    let first = run.first_line();
    assert!(
        first.starts_with("attempt to write a readonly database: the database file is read-only")
            && first.contains("make it writable")
            && first.contains("`migrate status`"),
        "{run:?}"
    );
    assert_eq!(fs::read(&db).unwrap(), before, "{run:?}");
    assert_eq!(contents(&db), contents_before);
    assert_eq!(files(dir.path()), ["chat.db"], "{run:?}");
    // It only reads: as the message says.
    migrate_unprivileged(&db, &["status"]).ok();

    set_mode(&db, 0o666);
    migrate_unprivileged(&db, &["up"]).ok();
    expect_applied(&db, 3);
}

/// A writable database file in a folder the user cannot write, where SQLite cannot create
/// its journal: `up` fails with the folder named as the cause, writes nothing, and
/// succeeds once the folder is writable. A database that does not exist yet cannot be
/// created there either, and says so first.
#[test]
fn a_read_only_folder() {
    let (dir, db) = shared_database();
    set_mode(dir.path(), 0o555);
    let before = fs::read(&db).unwrap();
    let contents_before = contents(&db);

    let run = migrate_unprivileged(&db, &["up"]).code(1);
    let first = run.first_line();
    assert!(
        first.starts_with(
            "attempt to write a readonly database: the database's folder is read-only"
        ) && first.contains("make the folder writable")
            && first.contains("`migrate status`"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("migration 3 \"Add metadata to chat_users\""),
        "{run:?}"
    );
    assert_eq!(fs::read(&db).unwrap(), before, "{run:?}");
    assert_eq!(contents(&db), contents_before);
    assert_eq!(files(dir.path()), ["chat.db"], "{run:?}");

    let new = dir.path().join("new.db");
    let run = migrate_unprivileged(&new, &["up"]).code(1);
    assert!(
        run.first_line()
            .starts_with("unable to open database file: ")
            && run.first_line().contains(
                "SQLite cannot open the file; check the path and that its folder exists and \
                 is writable"
            ),
        "{run:?}"
    );
    assert_eq!(files(dir.path()), ["chat.db"], "{run:?}");

    set_mode(dir.path(), 0o777);
    migrate_unprivileged(&db, &["up"]).ok();
    expect_applied(&db, 3);
}

/// `sqlite://...?mode=ro`: the command refuses to migrate before opening the file for
/// writing, names the parameter to drop, and the file stays byte for byte the same.
#[test]
fn a_read_only_url_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_at_2(dir.path());
    let before = fs::read(&db).unwrap();
    let url = format!("sqlite://{}?mode=ro", db.display());
    for args in [&["up"][..], &["down", "--to", "0"], &["redo"]] {
        let mut command = command(binary());
        command.args(["--database", &url]).args(args);
        let run = run(command).code(2);
        assert!(
            run.first_line().contains("read-only (mode=ro)")
                && run.first_line().contains("drop `?mode=ro`"),
            "{run:?}"
        );
    }
    assert_eq!(fs::read(&db).unwrap(), before);
    assert_eq!(files(dir.path()), ["chat.db"]);
}

// ---------------------------------------------------------------------------------------
// A full disk, and a file size limit.
// ---------------------------------------------------------------------------------------

/// The chat bot's database at version 2 with 3000 users, so that migration 3, which
/// rewrites every user's row, needs far more than 34 KiB more of disk (some 400 KiB of
/// journal, and about 50 KiB more of file). Returns the database and its size.
fn database_with_users(dir: &Path) -> (PathBuf, u64) {
    let db = database_at_2(dir);
    Connection::open(&db)
        .unwrap()
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO chat_users (username, display_name)
             SELECT 'user' || i, printf('%.100c', 'x') FROM n;",
        )
        .unwrap();
    let size = fs::metadata(&db).unwrap().len();
    (db, size)
}

/// After a run stopped by the disk: nothing left half-written, a rerun without the limit
/// applies migration 3.
#[track_caller]
fn unchanged_then_rerun(db: &Path, before: &(Vec<String>, i64), run: &Run) {
    assert_eq!(
        files(db.parent().unwrap()),
        ["chat.db"],
        "a journal was left behind: {run:?}"
    );
    assert_eq!(&contents(db), before, "{run:?}");
    expect_applied(db, 2);
    migrate(db, &["up"]).ok();
    expect_applied(db, 3);
}

/// Whether this system lets a process mount a tmpfs in a mount namespace of its own.
fn can_mount_tmpfs(dir: &Path) -> bool {
    Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c"])
        .arg("mount -t tmpfs -o size=64k tmpfs \"$1\"")
        .arg("sh")
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// A disk that fills up: migration 3 runs on a tmpfs with room for the database and
/// little more. SQLite reports SQLITE_FULL; the first line says the disk is full and to
/// free space, migration 3 is rolled back, and a rerun with room succeeds.
#[test]
fn a_full_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("disk");
    fs::create_dir(&mount).unwrap();
    if !can_mount_tmpfs(&mount) {
        eprintln!(
            "skipped: this system does not let a test mount a tmpfs in a namespace of its \
             own (`unshare --user --map-root-user --mount`); \
             a_file_size_limit_stops_the_write covers the refused write"
        );
        return;
    }
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let (db, size) = database_with_users(&out);
    let before = contents(&db);
    // Room for the file and 32 KiB, where migration 3 needs some 400 KiB of journal.
    let room = size.div_ceil(4096) * 4096 + 32 * 1024;
    let script = r#"
        mount -t tmpfs -o "size=$ROOM" tmpfs "$DISK" || exit 97
        cp "$OUT/chat.db" "$DISK/chat.db" || exit 98
        "$MIGRATE" --database "$DISK/chat.db" up
        code=$?
        rm "$OUT/chat.db" && cp "$DISK"/chat.db* "$OUT"/ || exit 99
        exit $code
    "#;
    let mut command = command("unshare");
    command
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .env("ROOM", room.to_string())
        .env("DISK", &mount)
        .env("OUT", &out)
        .env("MIGRATE", binary());
    let run = run(command).code(1);
    let first = run.first_line();
    assert!(
        first.starts_with("database or disk is full: the disk is full; free some space"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("migration 3 \"Add metadata to chat_users\"")
            && run.stderr.contains("rolled back"),
        "{run:?}"
    );
    unchanged_then_rerun(&db, &before, &run);
}

/// A file size limit (`ulimit -f`) stops SQLite's write partway: the system refuses the
/// rest with EFBIG, which SQLite reports as a write error (SQLITE_IOERR_WRITE; a limit
/// reached in the middle of a page gives the same, as SQLite writes the rest and gets
/// the refusal). The first line says the file system refused to write and what to do;
/// nothing is half-written; a rerun without the limit succeeds.
#[test]
fn a_file_size_limit_stops_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let (db, size) = database_with_users(dir.path());
    let before = contents(&db);
    // In 512-byte blocks, as POSIX sh counts them: the file and 33.5 KiB, not a whole
    // number of pages, where migration 3 grows the file by more.
    let blocks = size.div_ceil(512) + 67;
    let mut command = command("sh");
    command
        .args([
            "-c",
            r#"trap "" XFSZ; ulimit -f "$BLOCKS" && exec "$MIGRATE" --database "$DB" up"#,
        ])
        .env("BLOCKS", blocks.to_string())
        .env("DB", &db)
        .env("MIGRATE", binary());
    let run = run(command).code(1);
    let first = run.first_line();
    assert!(
        first.starts_with("disk I/O error: the file system refused to write to the database")
            && first.contains("free some space or raise the limit"),
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("migration 3 \"Add metadata to chat_users\""),
        "{run:?}"
    );
    unchanged_then_rerun(&db, &before, &run);
}

// ---------------------------------------------------------------------------------------
// A lock held by another process.
// ---------------------------------------------------------------------------------------

/// A child process (`src/bin/sqlite_lock_holder.rs`) holding `BEGIN {mode}` on the database until the file `release`
/// exists; `ready` exists once it holds it.
struct Holder {
    child: Child,
    release: PathBuf,
}

impl Holder {
    fn start(db: &Path, mode: &str, dir: &Path) -> Holder {
        let ready = dir.join(format!("{mode}.ready"));
        let release = dir.join(format!("{mode}.release"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_sqlite_lock_holder"))
            .arg(db)
            .arg(mode)
            .env("MIGRATE_TEST_LOCK_READY", &ready)
            .env("MIGRATE_TEST_LOCK_RELEASE", &release)
            .stdout(Stdio::null())
            .spawn()
            .expect("start the process that holds the lock");
        let start = Instant::now();
        while !ready.exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the process that holds the lock exited first: {status}");
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "the process never took the lock"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Holder { child, release }
    }

    /// Lets the lock go and waits for the process to end.
    fn release(mut self) {
        fs::write(&self.release, "").unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the process that held the lock failed");
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        // On a failed assertion: the child stops waiting.
        let _ = fs::write(&self.release, "");
        let _ = self.child.wait();
    }
}

/// Another process holds the database's lock, exclusive (no one reads) or immediate
/// (no one writes): with `--lock-timeout 0.5s` `up` gives up long before the default
/// minute, says another process holds the lock and names `--lock-timeout`, and writes
/// nothing. With a timeout longer than the other process holds it, `up` waits and
/// applies the migration.
#[test]
fn a_lock_held_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_at_2(dir.path());
    let before = fs::read(&db).unwrap();
    let contents_before = contents(&db);
    for mode in ["EXCLUSIVE", "IMMEDIATE"] {
        let holder = Holder::start(&db, mode, dir.path());
        let start = Instant::now();
        let run = migrate(&db, &["--lock-timeout", "0.5s", "up"]).code(1);
        let waited = start.elapsed();
        holder.release();
        let first = run.first_line();
        assert!(
            first.starts_with("database is locked: another process holds the database's lock")
                && first.contains("pass `--lock-wait` to wait longer"),
            "{mode}: {run:?}"
        );
        // Generous: the default would wait a minute.
        assert!(
            waited < Duration::from_secs(40),
            "{mode}: `up --lock-timeout 0.5s` took {waited:?}"
        );
        assert_eq!(fs::read(&db).unwrap(), before, "{mode}: {run:?}");
        assert_eq!(contents(&db), contents_before, "{mode}");
    }

    // The flag after the command works too; the lock goes while `up` waits for it.
    let holder = Holder::start(&db, "EXCLUSIVE", dir.path());
    let mut command = command(binary());
    command
        .arg("--database")
        .arg(&db)
        .args(["up", "--lock-timeout", "2m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    holder.release();
    let run = Run::from_output(child.wait_with_output().unwrap()).ok();
    assert!(run.stdout.contains("done: 1 migration"), "{run:?}");
    expect_applied(&db, 3);
}

/// `--lock-timeout` takes seconds or a number with its unit, and refuses anything else
/// as a usage error (exit 2) that says what to write, before opening the database.
#[test]
fn lock_timeout_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("chat.db");
    for junk in [
        "",
        "abc",
        "-1",
        "1h",
        "1.5.2",
        "0.0001s",
        "30 s",
        "9999999999",
    ] {
        let run = migrate(&db, &[&format!("--lock-timeout={junk}"), "up"]).code(2);
        assert!(
            run.first_line().contains("--lock-wait") && run.first_line().contains("500ms, 2s, 5m"),
            "{junk:?}: {run:?}"
        );
    }
    assert!(files(dir.path()).is_empty());
    for good in ["0", "2.5", "500ms", "2s", "1m"] {
        migrate(&db, &["--lock-timeout", good, "status"]).code(1);
    }
    migrate(&db, &["up", "--lock-timeout", "10s"]).ok();
    let run = run({
        let mut command = command(binary());
        command.arg("--help");
        command
    })
    .ok();
    assert!(run.stdout.contains("--lock-wait <DURATION>"), "{run:?}");
}
