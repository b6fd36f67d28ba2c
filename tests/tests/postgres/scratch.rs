//! Scratch schemas (`migrate_postgres::scratch`) of a process killed before it could
//! drop them: the next scratch schema's creation drops them.

use migrate_test_support as support;
use migrate_test_support::pg;

use std::io::Read as _;
use std::process::Command;
use std::process::Stdio;
use std::time::{Duration, Instant};

use migrate_postgres::postgres::{Client, NoTls};
use migrate_postgres::{BoxError, Db, Migration, Reversible, migration, scratch::SCRATCH_PREFIX};

#[migration(set = "scratch", version = 2, description = "Create notes")]
struct CreateNotes;

impl Migration for CreateNotes {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE notes (id BIGINT)")
    }
}

impl Reversible for CreateNotes {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE notes")
    }
}

fn schema_exists(admin: &mut Client, name: &str) -> bool {
    admin
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
            &[&name],
        )
        .map(|row| row.get::<_, i64>(0) == 1)
        .unwrap()
}

/// A check killed (SIGKILL) while its migration runs leaves its scratch schema; the next
/// check, in another process, drops it before making its own.
#[test]
fn a_killed_checks_scratch_schema_is_dropped_by_the_next_check() {
    if !pg::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scratch");
    let mut child = Command::new(env!("CARGO_BIN_EXE_postgres_child"))
        .arg("scratch")
        .arg(pg::server())
        .env("SCRATCH_NAME_FILE", &file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let name = loop {
        if let Ok(name) = std::fs::read_to_string(&file) {
            break name;
        }
        if child.try_wait().unwrap().is_some() {
            let mut stderr = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
            panic!("the child ended before its migration ran: {stderr}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the child's migration never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(name.starts_with(SCRATCH_PREFIX), "{name}");
    child.kill().unwrap();
    child.wait().unwrap();

    // The server ends the killed process's sessions; its schema stays.
    let pid: i32 = name[SCRATCH_PREFIX.len()..]
        .split('_')
        .next()
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no session pid in {name}"));
    let mut admin = Client::connect(&pg::server(), NoTls).unwrap();
    let killed = Instant::now();
    while admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
            &[&pid],
        )
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        assert!(
            killed.elapsed() < Duration::from_secs(20),
            "the session {pid} outlived its process"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(schema_exists(&mut admin, &name), "left behind by the kill");

    let checked = migrate_postgres::testing::check_migrations(
        &support::with(&[CreateNotes::get_migration()]),
        &pg::server(),
    );
    assert_eq!(checked.reverted, [2]);
    assert!(
        !schema_exists(&mut admin, &name),
        "the next check dropped {name}"
    );
}
