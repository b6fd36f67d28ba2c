//! The child processes of the tests that run SQLite migrations in several processes at
//! once or kill one in the middle, with the migrations of those tests (included from
//! their folders, so that parent and child run the same ones), reached through
//! `CARGO_BIN_EXE_sqlite_child`:
//!
//! - `sqlite_child crash DB` (`sqlite::crash`): prints `ready`, migrates `DB` to the
//!   latest migration, prints `done`;
//! - `sqlite_child concurrency DB` (`runner::concurrency`): migrates `DB`, prints
//!   `applied=N`;
//! - `sqlite_child concurrency_conditions DB GO` (`runner::concurrency_conditions`):
//!   prints `ready`, waits for the file `GO`, migrates, prints `ran=N skipped=M`;
//! - `sqlite_child concurrency_processes DB GO` (`runner::concurrency_processes`):
//!   prints `ready`, waits for the file `GO`, migrates, prints
//!   `applied=N elapsed_us=T`;
//! - `sqlite_child races latest|redo DB [GO]` (`runner::races`): with `GO`, prints
//!   `ready` and waits for the file `GO`; then `latest` migrates the two transactional
//!   migrations and prints `applied=N`, `redo` reverts and applies the last migration.
//!
//! Their versions do not overlap, so their migrations live in one registry here.

#[path = "../../tests/sqlite/crash/migrations.rs"]
mod crash;

#[path = "../../tests/runner/concurrency/migrations.rs"]
mod concurrency;

#[path = "../../tests/runner/concurrency_conditions/migrations.rs"]
mod concurrency_conditions;

#[path = "../../tests/runner/concurrency_processes/migrations.rs"]
mod concurrency_processes;

#[path = "../../tests/runner/races/migrations.rs"]
mod races;

use std::path::Path;
use std::time::Instant;

use migrate_sqlite::{Migrator, Sqlite};
use migrate_test_support::ready_then_wait_for;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["crash", db] => {
            // The parent starts its clock when it reads this line.
            println!("ready");
            let mut db = Sqlite::open(db).expect("child: open");
            crash::migrator()
                .to_latest(&mut db)
                .expect("child: migrate");
            println!("done");
        }
        ["concurrency", db] => {
            let applied = concurrency::migrate(Path::new(db)).expect("child run failed");
            println!("applied={applied}");
        }
        ["concurrency_conditions", db, go] => {
            ready_then_wait_for(Path::new(go));
            let mut db = Sqlite::open(db).expect("child: open");
            let migrator = Migrator::new()
                .register_migrations([
                    concurrency_conditions::CreateLedger::get_migration(),
                    concurrency_conditions::WhenFlagged::get_migration(),
                ])
                .unwrap();
            let report = migrator.to_latest(&mut db).expect("child: migrate");
            let skipped = report.steps.iter().filter(|s| s.skipped.is_some()).count();
            println!("ran={} skipped={skipped}", report.steps.len() - skipped);
        }
        ["concurrency_processes", db, go] => {
            ready_then_wait_for(Path::new(go));
            let start = Instant::now();
            let mut db = Sqlite::open(db).expect("child: open");
            let migrator = Migrator::new()
                .register_migrations(concurrency_processes::all())
                .unwrap();
            let report = migrator.to_latest(&mut db).expect("child: migrate");
            println!(
                "applied={} elapsed_us={}",
                report.steps.len(),
                start.elapsed().as_micros()
            );
        }
        ["races", command, db, go @ ..] if go.len() <= 1 => {
            if let [go] = go {
                ready_then_wait_for(Path::new(go));
            }
            let mut sqlite = Sqlite::open(db).expect("child: open");
            match *command {
                "latest" => {
                    // The two migrations that run in a transaction: what 8 processes
                    // race on.
                    let report = Migrator::new()
                        .register_migrations([
                            races::CreateLedger::get_migration(),
                            races::AddNote::get_migration(),
                        ])
                        .unwrap()
                        .to_latest(&mut sqlite)
                        .expect("child: migrate");
                    println!("applied={}", report.steps.len());
                }
                "redo" => {
                    races::all().redo(&mut sqlite).expect("child: redo");
                }
                other => panic!("unknown child command {other}"),
            }
        }
        other => panic!("usage: see src/bin/sqlite_child.rs; not {other:?}"),
    }
}
