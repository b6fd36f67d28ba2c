//! Scratch schemas (`migrate_postgres::scratch`) of a process killed before it could
//! drop them: the next scratch schema's creation drops them.

use migrate_test_support as support;
use migrate_test_support::pg;

use std::io::Read as _;
use std::process::Stdio;
use std::time::{Duration, Instant};

use migrate_postgres::postgres::{Client, NoTls};
use migrate_postgres::{
    BoxError, Db, Migration, PostgresExt, Reversible, migration, scratch::SCRATCH_PREFIX,
};

#[migration(
    set = "scratch",
    version = 1,
    description = "Waits in its scratch schema"
)]
struct WaitsInScratch;

impl Migration for WaitsInScratch {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE waits (id INT)")?;
        let schema: String = db
            .postgres()?
            .query_one("SELECT current_schema()", &[])?
            .get(0);
        // Where the parent reads it (a child's stdout reaches it only at the end).
        // Written whole, then renamed: the parent never reads half a name.
        if let Some(file) = std::env::var_os("SCRATCH_NAME_FILE") {
            let file = std::path::PathBuf::from(file);
            std::fs::write(file.with_extension("part"), schema)?;
            std::fs::rename(file.with_extension("part"), file)?;
        }
        // Killed in here by the parent.
        std::thread::sleep(Duration::from_secs(60));
        Ok(())
    }
}

impl Reversible for WaitsInScratch {
    fn down(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("DROP TABLE waits")
    }
}

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
    let mut child = support::child_entry("scratch::scratch_child")
        .env("SCRATCH_URL", pg::server())
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

#[test]
#[ignore = "child process entry, run by a_killed_checks_scratch_schema_is_dropped_by_the_next_check"]
fn scratch_child() {
    let url = support::child_env(
        "SCRATCH_URL",
        "a_killed_checks_scratch_schema_is_dropped_by_the_next_check",
    );
    migrate_postgres::testing::check_migrations(
        &support::with(&[WaitsInScratch::get_migration()]),
        url.to_str().unwrap(),
    );
}
