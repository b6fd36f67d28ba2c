//! Guards on the work a run does, counted in statements through SQLite's trace hook (never
//! in seconds): the start-up check reads the history once whatever the number of
//! migrations, and applying N migrations issues a fixed number of statements each, and
//! reads a fixed number of schema entries each however many tables the database has.

use std::sync::Mutex;

use migrate_sqlite::rusqlite::trace::{TraceEvent, TraceEventCodes};
use migrate_sqlite::{BoxError, Db, Migration, Migrator, RegisteredMigration, Sqlite, migration};

macro_rules! table_migrations {
    ($($name:ident = $version:literal),* $(,)?) => {
        $(
            #[migration(version = $version, description = "Create a table", irreversible)]
            struct $name;

            impl Migration for $name {
                fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                    db.execute(&format!("CREATE TABLE t_{} (id INTEGER PRIMARY KEY, v TEXT)", $version))
                }
            }
        )*
        const ALL: &[fn() -> &'static RegisteredMigration] = &[$($name::get_migration),*];
    };
}

table_migrations!(
    T301 = 301,
    T302 = 302,
    T303 = 303,
    T304 = 304,
    T305 = 305,
    T306 = 306,
    T307 = 307,
    T308 = 308,
    T309 = 309,
    T310 = 310,
    T311 = 311,
    T312 = 312,
    T313 = 313,
    T314 = 314,
    T315 = 315,
    T316 = 316,
    T317 = 317,
    T318 = 318,
    T319 = 319,
    T320 = 320,
    T321 = 321,
    T322 = 322,
    T323 = 323,
    T324 = 324,
    T325 = 325,
    T326 = 326,
    T327 = 327,
    T328 = 328,
    T329 = 329,
    T330 = 330,
    T331 = 331,
    T332 = 332,
    T333 = 333,
    T334 = 334,
    T335 = 335,
    T336 = 336,
    T337 = 337,
    T338 = 338,
    T339 = 339,
    T340 = 340,
);

/// What SQLite reported: the text of each statement started, and the rows produced.
#[derive(Default)]
struct Work {
    statements: Vec<String>,
    rows: usize,
}

static WORK: Mutex<Work> = Mutex::new(Work {
    statements: Vec::new(),
    rows: 0,
});

/// Held by each test: the trace hook and its log are global to this binary.
static SERIAL: Mutex<()> = Mutex::new(());

fn trace(event: TraceEvent<'_>) {
    let mut work = WORK.lock().unwrap();
    match event {
        TraceEvent::Stmt(_, sql) => work.statements.push(sql.to_owned()),
        TraceEvent::Row(_) => work.rows += 1,
        _ => {}
    }
}

/// The work `f` makes SQLite do on a traced connection to the file at `path`, with the
/// fingerprint fast start on or off.
fn traced(path: &std::path::Path, fast_start: bool, f: impl FnOnce(&mut Sqlite)) -> Work {
    let mut conn = migrate_sqlite::rusqlite::Connection::open(path).unwrap();
    conn.trace_v2(
        TraceEventCodes::SQLITE_TRACE_STMT | TraceEventCodes::SQLITE_TRACE_ROW,
        Some(trace),
    )
    .unwrap();
    let mut db = Sqlite::from_connection(conn)
        .unwrap()
        .fast_start(fast_start);
    *WORK.lock().unwrap() = Work::default();
    f(&mut db);
    std::mem::take(&mut *WORK.lock().unwrap())
}

fn migrator(n: usize) -> Migrator {
    Migrator::new()
        .register_migrations(ALL[..n].iter().map(|get| get()))
        .unwrap()
}

#[test]
fn statement_counts_are_constant_at_start_up_and_linear_when_applying() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let mut apply = Vec::new();
    let mut startup = Vec::new();
    let mut rows = Vec::new();
    for n in [10, 20, 40] {
        let path = dir.path().join(format!("n{n}.db"));
        let migrator = migrator(n);
        let applied = traced(&path, true, |db| {
            assert_eq!(migrator.to_latest(db).unwrap().steps.len(), n);
        });
        apply.push(applied.statements.len());

        // The fast start (opt-in): two header fields, no schema load, no history read.
        let fast = traced(&path, true, |db| {
            assert!(migrator.to_latest(db).unwrap().is_empty());
        });
        assert_eq!(
            fast.statements,
            ["PRAGMA user_version", "PRAGMA schema_version"],
            "n = {n}"
        );

        // The default start-up check: one narrow read of the history, of one set.
        let check = traced(&path, false, |db| {
            assert!(migrator.to_latest(db).unwrap().is_empty());
        });
        let history_reads: Vec<&String> = check
            .statements
            .iter()
            .filter(|sql| sql.contains("FROM \"migrate_history\""))
            .collect();
        assert_eq!(history_reads.len(), 1, "{:#?}", check.statements);
        assert!(
            history_reads[0].starts_with("SELECT version, checksum, complete FROM")
                && history_reads[0].contains("WHERE migration_set = "),
            "the narrow read: {history_reads:?}"
        );
        startup.push(check.statements.len());
        rows.push((n, check.rows));
    }
    assert_eq!(
        startup,
        [2, 2, 2],
        "start-up: PRAGMA data_version and one history read"
    );
    // Rows read at start-up: a fixed number plus a fixed number per applied migration (the
    // trace hook reports each history row the same number of times); a per-migration
    // query or a quadratic step would break the straight line.
    let per_row = (rows[1].1 - rows[0].1) / (rows[1].0 - rows[0].0);
    assert_eq!(
        rows[2].1 - rows[1].1,
        per_row * (rows[2].0 - rows[1].0),
        "rows: {rows:?}"
    );
    assert!(per_row <= 2, "row events per history row: {rows:?}");
    // Applying is a + b*n: the same number of statements per migration at every size.
    let per_migration = (apply[1] - apply[0]) / 10;
    assert_eq!(
        apply[2] - apply[1],
        per_migration * 20,
        "apply counts {apply:?}"
    );
    // BEGIN IMMEDIATE, PRAGMA data_version, then for the foreign-key check (the bundled
    // SQLite enforces foreign keys) PRAGMA schema_version (the previous check's schema
    // still holds) and SAVEPOINT, the migration, the entries it added to the schema and
    // PRAGMA schema_version (for the next step; the new table has no foreign key, so
    // nothing more: no foreign_key_check), the history row, COMMIT; with the fast start
    // on (as here), PRAGMA schema_version, PRAGMA user_version = .. and its record.
    assert!(
        per_migration <= 12,
        "statements per migration: {per_migration}"
    );
}

/// The rows SQLite produces while applying the first `n` migrations, one transaction
/// each, to a database that already has `tables` tables (a tenth of them referring to
/// another), with foreign keys enforced (the bundled SQLite's default).
fn rows_applying(dir: &std::path::Path, tables: usize, n: usize) -> usize {
    let path = dir.join(format!("k{tables}-n{n}.db"));
    let conn = migrate_sqlite::rusqlite::Connection::open(&path).unwrap();
    let mut sql = String::from("BEGIN;");
    for i in 0..tables {
        let refers = if i % 10 == 9 {
            format!(", parent INTEGER REFERENCES old_{} (id)", i - 1)
        } else {
            String::new()
        };
        sql.push_str(&format!(
            "CREATE TABLE old_{i} (id INTEGER PRIMARY KEY, v TEXT UNIQUE{refers});"
        ));
    }
    sql.push_str("COMMIT;");
    conn.execute_batch(&sql).unwrap();
    drop(conn);
    let migrator = migrator(n);
    let work = traced(&path, false, |db| {
        assert_eq!(migrator.to_latest(db).unwrap().steps.len(), n);
    });
    work.rows
}

#[test]
fn schema_rows_read_per_migration_do_not_grow_with_the_tables_there_are() {
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    // Ten more migrations, after the first (which reads the schema whole, once): the rows
    // they add, with 50 tables there and with 400.
    let per_ten: Vec<usize> = [50, 400]
        .into_iter()
        .map(|tables| rows_applying(dir.path(), tables, 12) - rows_applying(dir.path(), tables, 2))
        .collect();
    assert!(
        per_ten[1] <= per_ten[0] + 10,
        "rows for ten more migrations, with 50 tables and with 400: {per_ten:?}"
    );
}
