//! The child processes of the PostgreSQL tests that run migrations in several processes
//! at once or kill one in the middle, with the migrations of those tests (included from
//! their folders, so that parent and child run the same ones), reached through
//! `CARGO_BIN_EXE_postgres_child`. The first argument names the test module's child,
//! the second is the connection string:
//!
//! - `backend_race URL` (`postgres::backend`): migrates, prints `applied N`;
//! - `crash URL` (`postgres::crash`): migrates the slow migrations;
//! - `crash_sleeping URL` (`postgres::crash`): runs the migration that sleeps in its
//!   transaction, holding the lock, until it is killed;
//! - `scratch URL` (`postgres::scratch`): a `check_migrations` whose migration waits in
//!   its scratch schema until it is killed;
//! - `parallel_race URL GO LOCK N` (`postgres::parallel_races`): prints `ready`, waits for
//!   the file `GO`, runs the ledger set N at once (with the lease lock when `LOCK` is
//!   `lease`, else the advisory lock), prints `applied=N`;
//! - `parallel_kill URL` (`postgres::parallel_races`): prints `ready`, runs the ledger set
//!   3 at once, to be killed partway.
//!
//! The modules' migrations are in sets of their own (`backend`'s in the default set), so
//! they live in one registry here.

#[path = "../../tests/postgres/backend/migrations.rs"]
mod backend;

#[path = "../../tests/postgres/crash/migrations.rs"]
mod crash;

#[path = "../../tests/postgres/scratch/migrations.rs"]
mod scratch;

#[path = "../../tests/postgres/parallel_races/migrations.rs"]
mod parallel_races;

use std::path::Path;

use migrate_postgres::{Lock, Migrator, Postgres};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let connect = |url: &str| Postgres::connect(url).expect("child: connect");
    match args.as_slice() {
        ["backend_race", url] => {
            let report = Migrator::new()
                .register_migrations([
                    backend::CreateChatUsers::get_migration(),
                    backend::AddIsSpammer::get_migration(),
                ])
                .unwrap()
                .to_latest(&mut connect(url))
                .unwrap();
            println!("applied {}", report.steps.len());
        }
        ["crash", url] => {
            crash::slow().to_latest(&mut connect(url)).unwrap();
        }
        ["crash_sleeping", url] => {
            let _ = Migrator::for_set("crash")
                .register_migrations([crash::Sleeps::get_migration()])
                .unwrap()
                .to_latest(&mut connect(url));
        }
        ["scratch", url] => {
            migrate_postgres::testing::check_migrations(
                &migrate_test_support::with(&[scratch::WaitsInScratch::get_migration()]),
                url,
            );
        }
        ["parallel_race", url, go, lock, at_once] => {
            let mut db = connect(url);
            if *lock == "lease" {
                db = db.lock(Lock::LEASE);
            }
            migrate_test_support::ready_then_wait_for(Path::new(go));
            let report = parallel_races::ledger_set()
                .parallel(at_once.parse().expect("a number"))
                .to_latest(&mut db)
                .expect("child: migrate");
            println!("applied={}", report.steps.len());
        }
        ["parallel_kill", url] => {
            let mut db = connect(url);
            println!("ready");
            parallel_races::ledger_set()
                .parallel(3)
                .to_latest(&mut db)
                .expect("child: migrate");
        }
        other => panic!("usage: see src/bin/postgres_child.rs; not {other:?}"),
    }
}
