//! The PostgreSQL backend when its process dies or its session is ended: a migrating
//! process killed (SIGKILL) at random moments, the server ending the session
//! mid-migration, the lock holder killed while another runner waits. Afterwards the
//! schema and the history agree, the lock is free, and a rerun finishes.

use migrate_test_support::pg;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use migrate_postgres::{Error, Migrator, Postgres};

use pg::TestSchema;

mod migrations;

use migrations::{C1, C2, SLEEPER_PID, Sleeps, slow};

/// Every version in the history has its table and rows, and no table is there without
/// its history row: the migration and its row committed together or not at all. Read in
/// one snapshot: a killed process's last COMMIT may still land while this looks.
fn assert_consistent(schema: &mut TestSchema, round: u32) {
    let name = schema.name.clone();
    let mut tx = schema
        .admin()
        .build_transaction()
        .isolation_level(migrate_postgres::postgres::IsolationLevel::RepeatableRead)
        .start()
        .unwrap();
    let history: bool = tx
        .query_one(
            "SELECT to_regclass(quote_ident($1) || '.migrate_history') IS NOT NULL",
            &[&name],
        )
        .unwrap()
        .get(0);
    let versions: Vec<i64> = if history {
        tx.query(
            &format!("SELECT version FROM {name}.migrate_history ORDER BY version"),
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
    } else {
        Vec::new()
    };
    let tables: Vec<String> = tx
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1 \
             AND table_name LIKE 'c\\_%' ORDER BY 1",
            &[&name],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    tx.commit().unwrap();
    let expected: Vec<String> = versions.iter().map(|v| format!("c_{v}")).collect();
    assert_eq!(
        tables, expected,
        "round {round}: tables and history {versions:?} disagree"
    );
}

fn spawn_child(entry: &str, url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_postgres_child"))
        .arg(entry)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_migrating_process_killed_at_random_moments_leaves_history_and_schema_agreeing() {
    if !pg::available() {
        return;
    }
    // A fixed pseudo-random sequence of moments: the same rounds on every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut killed_partway = 0;
    for round in 0..16 {
        let mut schema = TestSchema::new("kill").unwrap();
        let mut child = spawn_child("crash", &schema.url());
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = 30 + (seed >> 33) % 400;
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_consistent(&mut schema, round);
        if (1..6).contains(&schema.versions().len()) {
            killed_partway += 1;
        }
        // The server let the dead session's lock go: a rerun takes it and finishes.
        let mut db = Postgres::connect(&schema.url())
            .unwrap()
            .lock_wait(Duration::from_secs(20));
        slow().to_latest(&mut db).unwrap();
        assert_eq!(schema.versions(), [1, 2, 3, 4, 5, 6], "round {round}");
        assert_consistent(&mut schema, round);
    }
    assert!(
        killed_partway >= 4,
        "only {killed_partway} kills landed mid-run"
    );
}

#[test]
fn the_server_ending_the_session_mid_migration_leaves_nothing_of_it() {
    let Some(mut schema) = TestSchema::new("terminated") else {
        return;
    };
    SLEEPER_PID.store(0, Ordering::SeqCst);
    let url = schema.url();
    let runner = std::thread::spawn(move || {
        let mut db = Postgres::connect(&url)?;
        Migrator::for_set("crash")
            .register_migrations([Sleeps::get_migration()])?
            .to_latest(&mut db)
            .map(drop)
    });
    let started = Instant::now();
    while SLEEPER_PID.load(Ordering::SeqCst) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    let pid = SLEEPER_PID.load(Ordering::SeqCst);
    schema
        .admin()
        .execute("SELECT pg_terminate_backend($1)", &[&pid])
        .unwrap();
    let error: Error = runner.join().unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            Error::MigrationFailed {
                migration: migrate_core::MigrationRef { version: 20, .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        !schema.has_table("slept"),
        "its table went with its transaction"
    );
    assert_eq!(schema.versions(), Vec::<i64>::new());
    // The lock went with the session: another runner takes it at once.
    let mut db = Postgres::connect(&schema.url())
        .unwrap()
        .lock_wait(Duration::ZERO);
    let migrator = Migrator::for_set("crash")
        .register_migrations([C1::get_migration()])
        .unwrap();
    migrator.to_latest(&mut db).unwrap();
}

#[test]
fn a_runner_waiting_for_a_killed_holder_takes_over() {
    let Some(mut schema) = TestSchema::new("holder_killed") else {
        return;
    };
    let mut holder = spawn_child("crash_sleeping", &schema.url());
    // Wait until the child is inside its migration, holding the lock.
    let started = Instant::now();
    loop {
        let holding: i64 = schema
            .admin()
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
                &[],
            )
            .unwrap()
            .get(0);
        if holding > 0 && schema.has_table_in_progress() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the child never took the lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = schema.url();
    let waiter = std::thread::spawn(move || {
        let mut db = Postgres::connect(&url)?.lock_wait(Duration::from_secs(60));
        Migrator::for_set("crash")
            .register_migrations([C1::get_migration(), C2::get_migration()])?
            .to_latest(&mut db)
            .map(|report| report.steps.len())
    });
    std::thread::sleep(Duration::from_millis(300));
    holder.kill().unwrap();
    holder.wait().unwrap();
    let killed = Instant::now();
    let applied = waiter.join().unwrap().unwrap();
    // The holder died inside a 30 s statement: the server checks the client during it
    // (client_connection_check_interval) and ends the session long before.
    assert!(
        killed.elapsed() < Duration::from_secs(20),
        "took over {:?} after the kill",
        killed.elapsed()
    );
    assert_eq!(applied, 2, "applied once the holder died");
    assert_eq!(schema.versions(), [1, 2]);
}

#[test]
fn a_read_only_server_is_refused_before_anything_runs() {
    let Some(mut schema) = TestSchema::new("read_only") else {
        return;
    };
    let url = format!(
        "{} options='-c search_path={} -c default_transaction_read_only=on'",
        pg::server(),
        schema.name
    );
    let mut db = Postgres::connect(&url).unwrap();
    let error = slow().to_latest(&mut db).unwrap_err();
    let text = format!("{error:?}");
    assert!(text.contains("read-only"), "says why: {text}");
    assert!(text.contains("primary"), "says what to do: {text}");
    assert_eq!(schema.versions(), Vec::<i64>::new());
    assert!(!schema.has_table("c_1"));

    // With a history table there already, the same, before migration 2's code runs.
    let first = Migrator::for_set("crash")
        .register_migrations([C1::get_migration()])
        .unwrap();
    first
        .to_latest(&mut Postgres::connect(&schema.url()).unwrap())
        .unwrap();
    let error = slow().to_latest(&mut db).unwrap_err();
    assert!(
        !matches!(error, Error::MigrationFailed { .. }),
        "refused before any migration runs: {error:?}"
    );
    assert!(format!("{error:?}").contains("read-only"), "{error:?}");
    assert_eq!(schema.versions(), [1]);
}
