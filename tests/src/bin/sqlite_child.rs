//! The child processes of the tests that run SQLite migrations in several processes at
//! once or kill one in the middle, with the migrations of those tests (included from
//! their folders), reached through `CARGO_BIN_EXE_sqlite_child`:
//!
//! - `sqlite_child crash DB` (`sqlite::crash`): prints `ready`, migrates `DB` to the
//!   latest migration, prints `done`.

#[path = "../../tests/sqlite/crash/migrations.rs"]
mod crash;

use migrate_sqlite::Sqlite;

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
        other => panic!("usage: sqlite_child crash DB; not {other:?}"),
    }
}
