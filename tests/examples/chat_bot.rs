//! The chat bot example: migrates a local SQLite file (or a PostgreSQL database) to the
//! latest version (or to `--to VERSION`) and prints the status of every migration.
//!
//! ```text
//! cargo run --example chat_bot                      # migrates ./chat_bot.db
//! cargo run --example chat_bot -- other.db --to 1   # down (or up) to version 1
//! cargo run --example chat_bot -- postgres://postgres@127.0.0.1/test
//! ```

use std::error::Error as _;
use std::process::ExitCode;

use migrate_postgres::Postgres;
use migrate_sqlite::{Backend, Direction, Migrator, Sqlite, State};

fn main() -> ExitCode {
    let mut path = String::from("chat_bot.db");
    let mut target = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--to" => match args.next().map(|v| v.parse::<u64>()) {
                Some(Ok(version)) => target = Some(version),
                _ => return usage("--to needs a version number, e.g. --to 2"),
            },
            "-h" | "--help" => {
                println!(
                    "usage: chat_bot [DATABASE] [--to VERSION]  (a SQLite file, chat_bot.db by default, or a postgres:// URL)"
                );
                return ExitCode::SUCCESS;
            }
            other if other.starts_with('-') => return usage(&format!("unknown option {other}")),
            other => path = other.to_owned(),
        }
    }
    match run(&path, target) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("error: {message}\nusage: chat_bot [DATABASE] [--to VERSION]");
    ExitCode::from(2)
}

fn run(path: &str, target: Option<u64>) -> Result<(), migrate_sqlite::Error> {
    // The chat bot's migrations live in the migrate-tests library; referring to it keeps
    // the linker from dropping them.
    migrate_tests::chat_bot::link();

    // The same migrations on either backend: a postgres:// URL, or a SQLite file.
    let mut db: Box<dyn Backend> =
        if path.starts_with("postgres://") || path.starts_with("postgresql://") {
            Box::new(Postgres::connect(path)?)
        } else {
            Box::new(Sqlite::open(path)?)
        };
    let db = &mut *db;
    let migrator = Migrator::discovered()?;
    let report = match target {
        Some(version) => migrator.to_version(db, version)?,
        None => migrator.to_latest(db)?,
    };
    if report.is_empty() {
        println!("{path}: nothing to do, the database is up to date");
    }
    for step in &report.steps {
        let verb = match step.direction {
            Direction::Up => "applied",
            Direction::Down => "reverted",
        };
        println!(
            "{verb} {:>3} {} ({:.1} ms)",
            step.version,
            step.description,
            step.duration.as_secs_f64() * 1e3
        );
    }

    println!(
        "\n{:>7}  {:<32} {:<8} {:<25} duration",
        "version", "description", "state", "applied at"
    );
    for row in migrator.status(db)? {
        let (state, at, duration) = match &row.state {
            State::Applied {
                applied_at,
                duration,
            } => (
                "applied",
                applied_at.as_str(),
                format!("{:.1} ms", duration.as_secs_f64() * 1e3),
            ),
            State::Pending => ("pending", "", String::new()),
            State::Modified { applied_at, .. } => ("modified", applied_at.as_str(), String::new()),
            State::Incomplete { started_at } => ("incomplete", started_at.as_str(), String::new()),
            State::Unknown { applied_at } => ("unknown", applied_at.as_str(), String::new()),
            _ => ("other", "", String::new()),
        };
        println!(
            "{:>7}  {:<32} {state:<8} {at:<25} {duration}",
            row.version, row.description
        );
    }
    Ok(())
}
