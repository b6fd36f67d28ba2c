//! The fan-out benchmark binary (issue 13): five migrations, applied to many SQLite files
//! or PostgreSQL schemas, by `Migrator::fan_out()` with `JOBS` workers or by a plain loop
//! over the same API. Each command prints `ns=`, the time from before the first target is
//! opened to after the last is closed.
//!
//! - `sqlite-fanout DIR COUNT JOBS`: `fan_out().jobs(JOBS).run(..)` over the files
//!   `DIR/tenant00001.db` .. (`Sqlite::open` creates them), `to_latest` on each.
//! - `sqlite-loop DIR COUNT`: a `for` loop over the same files: `Sqlite::open`, then
//!   `to_latest`.
//! - `pg-setup URL PREFIX COUNT`: creates the schemas `PREFIX0001` .. (not timed: the
//!   driver runs it before the measured command).
//! - `pg-fanout URL PREFIX COUNT JOBS`: `fan_out().jobs(JOBS).run(..)` over the schemas,
//!   each target a connection of its own whose history and `search_path` are its schema.
//! - `pg-loop URL PREFIX COUNT`: a `for` loop over the same schemas.
//!
//! The migrations are written for both backends (the same SQL runs on SQLite and on
//! PostgreSQL): two tables with an index each, then a third table.

use std::path::{Path, PathBuf};
use std::time::Instant;

use migrate_postgres::Postgres;
use migrate_sqlite::fan_out::{Event, Summary};
use migrate_sqlite::{BoxError, Db, Error, Migration, Migrator, Sqlite, migration};

/// How many migrations each target gets.
const MIGRATIONS: usize = 5;

#[migration(version = 1, description = "Create users", irreversible)]
pub struct CreateUsers;
impl Migration for CreateUsers {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT)")
    }
}

#[migration(version = 2, description = "Index users by email", irreversible)]
pub struct IndexUsersEmail;
impl Migration for IndexUsersEmail {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE UNIQUE INDEX users_email ON users (email)")
    }
}

#[migration(version = 3, description = "Create notes", irreversible)]
pub struct CreateNotes;
impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), body TEXT)",
        )
    }
}

#[migration(version = 4, description = "Index notes by user", irreversible)]
pub struct IndexNotesUser;
impl Migration for IndexNotesUser {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE INDEX notes_user ON notes (user_id)")
    }
}

#[migration(version = 5, description = "Create tags", irreversible)]
pub struct CreateTags;
impl Migration for CreateTags {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
    }
}

/// The SQLite files of the run: `DIR/tenant00001.db` ..
fn files(dir: &str, count: usize) -> Vec<PathBuf> {
    (1..=count)
        .map(|i| Path::new(dir).join(format!("tenant{i:05}.db")))
        .collect()
}

/// The PostgreSQL schemas of the run: `PREFIX0001` ..
fn schemas(prefix: &str, count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("{prefix}{i:04}")).collect()
}

/// A connection whose history is in `schema` and whose `search_path` is `schema`, so the
/// migrations' tables go there too.
fn connect(url: &str, schema: &str) -> Result<Postgres, Error> {
    let mut db = Postgres::connect(url)?.schema(schema);
    db.connection()
        .batch_execute(&format!("SET search_path TO {schema}"))
        .map_err(|source| Error::database("set the search_path", Box::new(source)))?;
    Ok(db)
}

/// Every target succeeded, each with all the migrations applied.
fn check_fan_out<T: std::fmt::Debug>(
    summary: &Summary<T>,
    count: usize,
    steps: usize,
) {
    assert!(summary.is_success(), "failed: {:?}", summary.failed);
    assert_eq!(summary.succeeded, count);
    assert_eq!(steps, count * MIGRATIONS);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    let number = |i: usize| -> usize {
        arg(i)
            .parse()
            .unwrap_or_else(|_| panic!("a number, not {:?}", arg(i)))
    };
    let migrator = Migrator::discovered().unwrap();
    assert_eq!(migrator.migrations().len(), MIGRATIONS);
    match arg(0) {
        "sqlite-fanout" => {
            let (count, jobs) = (number(2), number(3));
            let targets = files(arg(1), count);
            let mut steps = 0;
            let start = Instant::now();
            let summary = migrator.fan_out().jobs(jobs).run(
                targets,
                |path| Sqlite::open(path),
                |migrator, db| migrator.to_latest(db),
                |event| {
                    if let Event::Finished(outcome) = event {
                        steps += outcome.committed.len();
                    }
                },
            );
            let elapsed = start.elapsed();
            check_fan_out(&summary, count, steps);
            println!("ns={}", elapsed.as_nanos());
        }
        "sqlite-loop" => {
            let count = number(2);
            let targets = files(arg(1), count);
            let start = Instant::now();
            for path in &targets {
                let mut db = Sqlite::open(path).unwrap();
                let report = migrator.to_latest(&mut db).unwrap();
                assert_eq!(report.steps.len(), MIGRATIONS);
            }
            println!("ns={}", start.elapsed().as_nanos());
        }
        "pg-setup" => {
            let sql: String = schemas(arg(2), number(3))
                .iter()
                .map(|schema| format!("CREATE SCHEMA {schema};\n"))
                .collect();
            let mut client = migrate_postgres::postgres::Client::connect(
                arg(1),
                migrate_postgres::postgres::NoTls,
            )
            .unwrap();
            client.batch_execute(&sql).unwrap();
        }
        "pg-fanout" => {
            let (url, count, jobs) = (arg(1), number(3), number(4));
            let targets = schemas(arg(2), count);
            let mut steps = 0;
            let start = Instant::now();
            let summary = migrator.fan_out().jobs(jobs).run(
                targets,
                |schema| connect(url, schema),
                |migrator, db| migrator.to_latest(db),
                |event| {
                    if let Event::Finished(outcome) = event {
                        steps += outcome.committed.len();
                    }
                },
            );
            let elapsed = start.elapsed();
            check_fan_out(&summary, count, steps);
            println!("ns={}", elapsed.as_nanos());
        }
        "pg-loop" => {
            let (url, count) = (arg(1), number(3));
            let targets = schemas(arg(2), count);
            let start = Instant::now();
            for schema in &targets {
                let mut db = connect(url, schema).unwrap();
                let report = migrator.to_latest(&mut db).unwrap();
                assert_eq!(report.steps.len(), MIGRATIONS);
            }
            println!("ns={}", start.elapsed().as_nanos());
        }
        other => panic!("unknown command {other:?}"),
    }
}
