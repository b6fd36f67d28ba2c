//! Bad input on real files: each case ends in a clear `migrate_sqlite::Error` that names
//! what matters (the path, the migration, the table) and carries SQLite's own message in
//! its source chain, and writes nothing beyond the migrations that committed before it
//! (compared byte for byte, or schema and history).
//!
//! Two cases also get a message of their own, tested beside the test that the refusal
//! writes nothing: a file that is not SQLite is refused at `Sqlite::open`, naming the
//! file, and a `migrate_history` table of another shape is refused before any migration
//! runs, naming the table and pointing to `Sqlite::history_table`.
//!
//! How each test fails when the promise breaks is noted on it. Checked on a scratch copy
//! of the workspace: with `Sqlite::begin` opening no transaction, the disk-full test
//! finds the half-imported `archive` table and the history-shape test finds the file
//! changed; without `Sqlite::open`'s header read or the column check of the history
//! table, the two message tests fail.

use migrate_test_support as support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use migrate_sqlite::rusqlite::{Connection, OpenFlags};
use migrate_sqlite::{
    BoxError, Db, Error, Migration, Migrator, RegisteredMigration, Sqlite, migration,
};
use support::{applied, chain, snapshot, with};

#[migration(version = 701, description = "Create accounts", irreversible)]
struct CreateAccounts;

impl Migration for CreateAccounts {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    }
}

#[migration(version = 702, description = "Create invoices", irreversible)]
struct CreateInvoices;

impl Migration for CreateInvoices {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)")
    }
}

/// Inserts about 2 MB: more than a database capped at a few pages can hold.
#[migration(version = 703, description = "Import the archive", irreversible)]
struct ImportArchive;

impl Migration for ImportArchive {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE archive (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")?;
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) \
             INSERT INTO archive (id, body) SELECT i, zeroblob(1000) FROM n",
        )
    }
}

#[migration(version = 704, description = "Create payments", irreversible)]
struct CreatePayments;

impl Migration for CreatePayments {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE payments (id INTEGER PRIMARY KEY)")
    }
}

fn temp_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    (dir, path)
}

/// Every file under `dir` with its bytes, sorted by name: a refusal must leave it equal.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = if path.is_file() {
                std::fs::read(&path).unwrap()
            } else {
                b"<directory>".to_vec()
            };
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Opens `path` and runs every migration of `migrator`: the error of whichever fails.
fn open_and_migrate(path: &Path, migrator: &Migrator) -> Error {
    match Sqlite::open(path) {
        Err(error) => error,
        Ok(mut db) => match migrator.to_latest(&mut db) {
            Err(error) => error,
            Ok(report) => panic!("{} migrated: {report:?}", path.display()),
        },
    }
}

/// Breaks if `Sqlite::open` created missing directories, or dropped the path or SQLite's
/// message from the error.
#[test]
fn a_path_in_a_missing_directory_is_refused_naming_the_path_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let path = missing.join("app.db");
    let error = open_and_migrate(&path, &with(&[CreateAccounts::get_migration()]));
    let text = chain(&error);
    assert!(matches!(error, Error::Database { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "the message names the path: {text}"
    );
    assert!(
        text.contains("unable to open database file"),
        "SQLite's message: {text}"
    );
    assert!(!missing.exists(), "no directory was created");
    assert!(files(dir.path()).is_empty());
}

/// Breaks if a directory were accepted as a database, or the error lost the path or
/// SQLite's message.
#[test]
fn a_directory_instead_of_a_file_is_refused_naming_the_path_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    std::fs::create_dir(&path).unwrap();
    let before = files(dir.path());
    let error = open_and_migrate(&path, &with(&[CreateAccounts::get_migration()]));
    let text = chain(&error);
    assert!(matches!(error, Error::Database { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "the message names the path: {text}"
    );
    assert!(
        text.contains("unable to open database file"),
        "SQLite's message: {text}"
    );
    assert_eq!(files(dir.path()), before);
    assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
}

/// Not SQLite: text, and random bytes (xorshift64*, fixed seed).
fn not_sqlite_files() -> Vec<(&'static str, Vec<u8>)> {
    let mut state: u64 = 0x0BAD_F11E;
    let random: Vec<u8> = (0..8192)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes()[7]
        })
        .collect();
    let text = "name,email\nada,ada@example.com\ngrace,grace@example.com\n"
        .repeat(100)
        .into_bytes();
    vec![("random bytes", random), ("text", text)]
}

/// The run is refused with SQLite's message and
/// the file is left byte for byte. Breaks if anything wrote to the file or beside it (a
/// history table, a journal), or if the run succeeded.
#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_byte_for_byte() {
    for (kind, bytes) in not_sqlite_files() {
        let (dir, path) = temp_dir();
        std::fs::write(&path, &bytes).unwrap();
        let before = files(dir.path());
        let error = open_and_migrate(&path, &with(&[CreateAccounts::get_migration()]));
        let text = chain(&error);
        assert!(
            text.contains("file is not a database"),
            "{kind}: SQLite's message: {text}"
        );
        assert_eq!(files(dir.path()), before, "{kind}: the file is untouched");
    }
}

/// And on top: `Sqlite::open` reads the header, so the error names the file and says it
/// is not a SQLite database, without the generic advice about reachability and write
/// locks.
#[test]
fn a_file_that_is_not_sqlite_is_refused_naming_the_file() {
    for (kind, bytes) in not_sqlite_files() {
        let (dir, path) = temp_dir();
        std::fs::write(&path, &bytes).unwrap();
        let before = files(dir.path());
        let error = open_and_migrate(&path, &with(&[CreateAccounts::get_migration()]));
        let text = chain(&error);
        assert!(
            text.contains(&path.display().to_string()),
            "{kind}: names the file: {text}"
        );
        assert!(
            text.contains("not a SQLite database"),
            "{kind}: says what is wrong: {text}"
        );
        assert!(
            !error.to_string().contains("write lock"),
            "{kind}: does not send the user after a lock: {text}"
        );
        assert!(
            text.contains("file is not a database"),
            "{kind}: SQLite's message: {text}"
        );
        assert_eq!(files(dir.path()), before, "{kind}: the file is untouched");
    }
}

/// A database opened read-only (the tests run as root, so `chmod` would not stop
/// writes: the connection is opened with `SQLITE_OPEN_READ_ONLY` and handed over with
/// `Sqlite::from_connection`). The run fails naming the first migration it could not
/// apply, and the file is unchanged. Two cases: a database with 701 applied (702 fails
/// in its own SQL), and one never migrated (701 fails creating the history table).
/// Breaks if the error lost the migration or SQLite's message, or anything were written.
#[test]
fn a_read_only_database_fails_naming_the_migration_and_is_left_unchanged() {
    let migrator = with(&[
        CreateAccounts::get_migration(),
        CreateInvoices::get_migration(),
    ]);
    let cases: [(&str, &[&'static RegisteredMigration], &str); 2] = [
        (
            "701 applied",
            &[CreateAccounts::get_migration()],
            "migration 702 \"Create invoices\" (tests/tests/sqlite/bad_input.rs",
        ),
        (
            "never migrated",
            &[],
            "migration 701 \"Create accounts\" (tests/tests/sqlite/bad_input.rs",
        ),
    ];
    for (case, already, names) in cases {
        let (dir, path) = temp_dir();
        let mut setup = Sqlite::open(&path).unwrap();
        setup
            .connection()
            .execute_batch("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)")
            .unwrap();
        with(already).to_latest(&mut setup).unwrap();
        drop(setup);
        let before = files(dir.path());
        let history_before = applied(&path, &migrator);

        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let mut db = Sqlite::from_connection(conn).unwrap();
        let error = migrator.to_latest(&mut db).unwrap_err();
        drop(db);
        let text = chain(&error);
        assert!(
            error.to_string().contains(names),
            "{case}: names the migration: {text}"
        );
        assert!(
            text.contains("attempt to write a readonly database"),
            "{case}: SQLite's message: {text}"
        );
        assert_eq!(files(dir.path()), before, "{case}: nothing written");
        assert_eq!(applied(&path, &migrator), history_before, "{case}");
    }
}

/// Disk full, simulated with `PRAGMA max_page_count`: the migration that does not fit
/// fails with SQLITE_FULL and is rolled back whole, the ones before it stay, and the
/// error names it. Breaks if the failed migration left its table or a history row, or
/// took 701 and 702 with it, or if the error lost its name or SQLite's message.
#[test]
fn a_full_disk_rolls_back_the_migration_that_does_not_fit_and_names_it() {
    let (_dir, path) = temp_dir();
    let migrator = with(&[
        CreateAccounts::get_migration(),
        CreateInvoices::get_migration(),
        ImportArchive::get_migration(),
        CreatePayments::get_migration(),
    ]);
    let mut db = Sqlite::open(&path).unwrap();
    // 701, 702 and the history table need a handful of 4 KiB pages; 703's 2 MB do not fit.
    let cap: i64 = db
        .connection()
        .query_row("PRAGMA max_page_count = 16", [], |row| row.get(0))
        .unwrap();
    assert_eq!(cap, 16);
    let error = migrator.to_latest(&mut db).unwrap_err();
    drop(db);
    let text = chain(&error);
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 703, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("migration 703 \"Import the archive\" (tests/tests/sqlite/bad_input.rs"),
        "names the migration: {text}"
    );
    assert!(
        text.contains("database or disk is full"),
        "SQLite's message: {text}"
    );
    let schema = snapshot(&path);
    assert!(schema.iter().any(|row| row.starts_with("table accounts ")));
    assert!(schema.iter().any(|row| row.starts_with("table invoices ")));
    assert!(
        !schema.iter().any(|row| row.starts_with("table archive ")),
        "703 is rolled back whole: {schema:?}"
    );
    assert_eq!(applied(&path, &migrator), [701, 702], "704 never ran");

    // With room again (a new connection has no cap), the rerun applies the rest.
    migrator
        .to_latest(&mut Sqlite::open(&path).unwrap())
        .unwrap();
    assert_eq!(applied(&path, &migrator), [701, 702, 703, 704]);
}

static SHAPE_PROBE_RAN: AtomicBool = AtomicBool::new(false);

/// Used only by the clear-message test below: shows whether migration code ran at all.
#[migration(version = 705, description = "Probe the history check", irreversible)]
struct ShapeProbe;

impl Migration for ShapeProbe {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        SHAPE_PROBE_RAN.store(true, Ordering::SeqCst);
        db.execute("CREATE TABLE probed (id INTEGER)")
    }
}

/// The history table's columns as this version of the library creates it: (name,
/// declared type, NOT NULL, default, position in the primary key). Read from a real run
/// so these tests follow the history's shape as it evolves.
fn history_columns() -> Vec<(String, String, bool, Option<String>, i64)> {
    let (_dir, path) = temp_dir();
    with(&[CreateAccounts::get_migration()])
        .to_latest(&mut Sqlite::open(&path).unwrap())
        .unwrap();
    let conn = Connection::open(&path).unwrap();
    conn.prepare(
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('migrate_history')",
    )
    .unwrap()
    .query_map([], |row| {
        Ok((
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Tables named `migrate_history` that are not a migration history: (what, its SQL,
/// SQLite's message when the library does not check the shape itself).
fn foreign_history_tables() -> Vec<(&'static str, String, &'static str)> {
    let columns = history_columns();
    let mut key: Vec<_> = columns.iter().filter(|c| c.4 > 0).collect();
    key.sort_by_key(|c| c.4);
    let key: Vec<String> = key.iter().map(|c| format!("\"{}\"", c.0)).collect();
    let definitions: Vec<String> = columns
        .iter()
        .map(|(name, ty, not_null, default, _)| {
            let mut definition = format!("\"{name}\" {ty}");
            if *not_null {
                definition.push_str(" NOT NULL");
            }
            if let Some(default) = default {
                definition.push_str(&format!(" DEFAULT {default}"));
            }
            definition
        })
        .collect();
    let names: Vec<String> = columns.iter().map(|c| format!("\"{}\"", c.0)).collect();
    vec![
        (
            "a user table with other columns",
            "CREATE TABLE migrate_history (id INTEGER PRIMARY KEY, event TEXT NOT NULL);
             INSERT INTO migrate_history (event) VALUES ('login'), ('logout');"
                .to_owned(),
            "no such column",
        ),
        (
            "the history's columns plus a required one",
            format!(
                "CREATE TABLE migrate_history ({}, shape_extra TEXT NOT NULL, PRIMARY KEY ({}))",
                definitions.join(", "),
                key.join(", ")
            ),
            "NOT NULL constraint failed: migrate_history.shape_extra",
        ),
        (
            "the history's columns, all text, holding text",
            format!(
                "CREATE TABLE migrate_history ({});
                 INSERT INTO migrate_history VALUES ({});",
                names
                    .iter()
                    .map(|name| format!("{name} TEXT"))
                    .collect::<Vec<_>>()
                    .join(", "),
                vec!["'not a value'"; names.len()].join(", ")
            ),
            "Invalid column type Text",
        ),
    ]
}

fn with_foreign_history_table(sql: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = temp_dir();
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    (dir, path)
}

/// The run is refused and the file is left byte
/// for byte. Breaks if the run went ahead into the user's table (`CREATE TABLE IF NOT
/// EXISTS` keeps it), or if a failed history insert left the migration's changes behind.
#[test]
fn a_history_table_of_another_shape_is_refused_and_nothing_is_written() {
    for (what, sql, sqlite_message) in foreign_history_tables() {
        let (dir, path) = with_foreign_history_table(&sql);
        let before = files(dir.path());
        let error = open_and_migrate(&path, &with(&[CreateAccounts::get_migration()]));
        let text = chain(&error);
        // SQLite's message, or the library's own from its check of the table's columns
        // (asserted strictly by the test below).
        assert!(
            text.contains(sqlite_message) || text.contains("not a migrat"),
            "{what}: the cause: {text}"
        );
        assert_eq!(files(dir.path()), before, "{what}: nothing written");
    }
}

/// And on top: refused before any migration runs (the table's columns are checked once
/// per run, before the first migration), with an error that says the table
/// `migrate_history` exists but is not a migrate history table and how to get out
/// (`Sqlite::history_table`), without the generic advice about reachability and write
/// locks: a table with other columns, one with the history's columns plus a required
/// one, and one with text in the history's columns.
#[test]
fn a_history_table_of_another_shape_is_refused_with_a_clear_message() {
    for (what, sql, _) in foreign_history_tables() {
        let (dir, path) = with_foreign_history_table(&sql);
        let before = files(dir.path());
        SHAPE_PROBE_RAN.store(false, Ordering::SeqCst);
        let error = open_and_migrate(&path, &with(&[ShapeProbe::get_migration()]));
        let text = chain(&error);
        assert!(
            !SHAPE_PROBE_RAN.load(Ordering::SeqCst),
            "{what}: refused before migration code runs: {text}"
        );
        assert!(
            !matches!(error, Error::MigrationFailed { .. }),
            "{what}: the migration is not to blame: {error:?}"
        );
        assert!(
            text.contains("migrate_history"),
            "{what}: names the table: {text}"
        );
        assert!(
            text.contains("not a migrat"),
            "{what}: says what is wrong: {text}"
        );
        assert!(
            text.contains("history_table"),
            "{what}: says how to keep the history elsewhere: {text}"
        );
        assert!(
            !error.to_string().contains("write lock"),
            "{what}: does not send the user after a lock: {text}"
        );
        assert_eq!(files(dir.path()), before, "{what}: nothing written");
    }
}
