//! The `migrate` command on PostgreSQL, run as a process: the `migrate_pg` binary of this
//! package (its migrations run on PostgreSQL), against a schema of each test's own, the
//! database given as a `postgres://` URL whose `options` set the `search_path`. The
//! tests that need a server skip without one (see `migrate_test_support::pg`).

use migrate_test_support::pg;

use crate::run::{Run, command};
use std::time::{Duration, Instant};

use migrate_postgres::postgres::Config;

/// `migrate_pg ARGS`, without `DATABASE_URL` from the environment.
fn migrate(args: &[&str]) -> Run {
    command(
        env!("CARGO_BIN_EXE_migrate_pg"),
        &std::env::temp_dir(),
        args,
    )
}

/// `migrate_pg --database URL ARGS`.
fn on(url: &str, args: &[&str]) -> Run {
    let mut all = vec!["--database", url];
    all.extend_from_slice(args);
    migrate(&all)
}

/// The test server as a `postgres://` URL (the helper's is `key=value`), with
/// `password` when given, whose `search_path` is `schema`: the migrations' tables land
/// there, and so does the history.
fn url(schema: &str, password: Option<&str>) -> String {
    pg::server_url(password, &format!("?options=-c%20search_path%3D{schema}"))
}

fn states(status: &Run) -> Vec<(u64, String)> {
    status
        .stdout
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let version = words.next()?.parse().ok()?;
            let state = line
                .split_whitespace()
                .find(|w| ["applied", "pending", "modified", "incomplete", "unknown"].contains(w))?
                .to_owned();
            Some((version, state))
        })
        .collect()
}

#[test]
fn up_status_down_and_dry_run_on_a_schema() {
    let Some(mut schema) = pg::TestSchema::new("cli_life") else {
        return;
    };
    let url = url(&schema.name, None);

    let status = on(&url, &["status"]).ok();
    assert_eq!(
        states(&status),
        [(1, "pending".to_owned()), (2, "pending".to_owned())],
        "exactly this binary's migrations: {status:?}"
    );
    on(&url, &["status", "--check"]).code(3);

    let dry = on(&url, &["up", "--dry-run"]).ok();
    assert!(
        dry.stdout.contains("rolled back; nothing was kept"),
        "{dry:?}"
    );
    assert!(!schema.has_table("notes"), "a dry run kept its table");
    assert_eq!(
        schema.versions(),
        Vec::<i64>::new(),
        "a dry run kept history"
    );
    on(&url, &["status", "--check"]).code(3);

    let up = on(&url, &["up"]).ok();
    assert!(up.stdout.contains("done: 2 migrations"), "{up:?}");
    assert!(schema.has_table("notes"));
    assert_eq!(schema.versions(), [1, 2]);
    let status = on(&url, &["status", "--check"]).ok();
    assert_eq!(
        states(&status),
        [(1, "applied".to_owned()), (2, "applied".to_owned())]
    );
    let again = on(&url, &["up"]).ok();
    assert!(again.stdout.contains("nothing to do"), "{again:?}");

    // The document: the schema after each step, built in a scratch schema that is
    // dropped afterwards.
    let history = on(&url, &["history"]).ok();
    assert!(
        history.stdout.contains("column notes.tags text[] NOT NULL"),
        "{history:?}"
    );
    assert!(!history.stdout.contains("migrate_scratch_"), "{history:?}");
    let left: i64 = schema
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'migrate\\_scratch\\_%'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "history left its scratch schema behind");

    let down = on(&url, &["down", "--to", "0"]).ok();
    assert!(down.stdout.contains("reverted"), "{down:?}");
    assert!(!schema.has_table("notes"));
    assert_eq!(schema.versions(), Vec::<i64>::new());
    on(&url, &["status", "--check"]).code(3);
}

/// `--schema` keeps the history in another schema; the migrations still run on the
/// URL's `search_path`.
#[test]
fn schema_flag_places_the_history() {
    let Some(mut tables) = pg::TestSchema::new("cli_tables") else {
        return;
    };
    let Some(mut history) = pg::TestSchema::new("cli_hist") else {
        return;
    };
    let url = url(&tables.name, None);
    on(&url, &["--schema", &history.name, "up"]).ok();
    assert!(tables.has_table("notes"));
    assert!(!tables.has_table("migrate_history"));
    assert_eq!(history.versions(), [1, 2]);
    // Without --schema, the history of the URL's schema is empty: all pending.
    on(&url, &["status", "--check"]).code(3);
    on(&url, &["--schema", &history.name, "status", "--check"]).ok();
}

/// An unreachable server fails within the connect timeout, naming host and port and
/// never the password.
#[test]
fn an_unreachable_server_fails_naming_host_and_port() {
    for args in [&["status"][..], &["up"], &["up", "--dry-run"], &["history"]] {
        let started = Instant::now();
        let run = on("postgres://someone:s3cret@127.0.0.1:1/db", args);
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "took {:?}",
            started.elapsed()
        );
        assert_ne!(run.code, 0, "{run:?}");
        assert!(run.stderr.contains("127.0.0.1:1"), "{run:?}");
        assert!(run.stderr.contains("cannot be reached"), "{run:?}");
        assert!(
            !run.stderr.contains("s3cret") && !run.stdout.contains("s3cret"),
            "{run:?}"
        );
    }
}

/// A URL that asks for TLS fails at once (the host below does not answer), saying the
/// command has no TLS and what to write in the URL instead; exit 1, as any database that
/// cannot be opened.
#[test]
fn a_url_asking_for_tls_is_refused_at_once_saying_what_to_do() {
    for mode in ["require", "verify-ca", "verify-full"] {
        for args in [&["status"][..], &["history"]] {
            let url = format!("postgres://someone:s3cret@192.0.2.1/db?sslmode={mode}");
            let started = Instant::now();
            let run = on(&url, args).code(1);
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "took {:?}",
                started.elapsed()
            );
            assert!(
                run.stderr
                    .contains(&format!("the URL asks for TLS (sslmode={mode})")),
                "{run:?}"
            );
            assert!(run.stderr.contains("does not support"), "{run:?}");
            assert!(run.stderr.contains("sslmode=prefer"), "{run:?}");
            assert!(!run.stderr.contains("from_client"), "{run:?}");
            assert!(!run.stderr.contains("SQLite"), "{run:?}");
            assert!(!run.stderr.contains("s3cret"), "{run:?}");
        }
    }
}

/// A password in the URL shows nowhere: not in a run's output, not in an error.
#[test]
fn the_password_is_never_printed() {
    let Some(schema) = pg::TestSchema::new("cli_password") else {
        return;
    };
    let url = url(&schema.name, Some("s3cret"));
    // Not `history`: its scratch schema would race the count of them in
    // `up_status_down_and_dry_run_on_a_schema`, which runs it.
    for args in [&["up"][..], &["status"], &["down", "--to", "0"]] {
        let run = on(&url, args).ok();
        assert!(
            !run.stdout.contains("s3cret") && !run.stderr.contains("s3cret"),
            "{run:?}"
        );
    }
    let missing = url.replace(&format!("/{}?", pg_dbname()), "/migrate_no_such_database?");
    let run = on(&missing, &["status"]).code(1);
    assert!(run.stderr.contains("does not exist"), "{run:?}");
    assert!(run.stderr.contains("create it"), "{run:?}");
    assert!(!run.stderr.contains("s3cret"), "{run:?}");
}

fn pg_dbname() -> String {
    let config: Config = pg::server().parse().expect("the test server's string");
    config.get_dbname().unwrap_or("postgres").to_owned()
}

/// The migration lock's key for a history table in `schema` (FNV-1a, as
/// migrate-postgres computes it: a test that holds the same lock as a runner would).
fn lock_key(schema: &str) -> i64 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in [schema, "migrate_history", ""].join("\0").bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    i64::from(hash & 0x7fff_ffff)
}

/// Another session holds the migration lock: `--lock-timeout 0.5s` gives up after about
/// that long, naming the holder's pid and the flag, and writes nothing.
#[test]
fn lock_timeout_names_the_holder() {
    let Some(mut schema) = pg::TestSchema::new("cli_lock") else {
        return;
    };
    let url = url(&schema.name, None);
    let mut holder = schema.client();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    holder
        .execute(
            "SELECT pg_advisory_lock($1, $2::bigint::int)",
            &[&0x6d69_6772_i32, &lock_key(&schema.name)],
        )
        .unwrap();
    let started = Instant::now();
    let run = on(&url, &["--lock-timeout", "0.5s", "up"]).code(1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        run.stderr.contains(&format!("session pid {pid}")),
        "{run:?}"
    );
    assert!(run.stderr.contains("--lock-wait"), "{run:?}");
    assert!(!run.stderr.contains("Postgres::lock_wait"), "{run:?}");
    assert!(!schema.has_table("notes"));
    assert_eq!(schema.versions(), Vec::<i64>::new());
    drop(holder);
    on(&url, &["up"]).ok();
}

/// A migration whose statement waits past its `lock_timeout` (10 s) for a table lock
/// another session holds is rolled back; the error leads with that cause and the
/// holder, then names the migration.
#[test]
fn a_migration_stopped_by_lock_timeout_names_the_holder() {
    let Some(mut schema) = pg::TestSchema::new("cli_table_lock") else {
        return;
    };
    let url = url(&schema.name, None);
    on(&url, &["up", "--to", "1"]).ok();
    let mut holder = schema.client();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let mut tx = holder.transaction().unwrap();
    tx.batch_execute("LOCK TABLE notes IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let run = on(&url, &["up"]).code(1);
    let first = run.stderr.lines().next().unwrap_or_default().to_owned();
    assert!(first.contains("lock_timeout"), "{run:?}");
    assert!(first.contains(&format!("session pid {pid}")), "{run:?}");
    assert!(first.contains("run the same command again"), "{run:?}");
    assert!(
        run.stderr.contains("migration 2 \"Add tags to notes\""),
        "{run:?}"
    );
    assert!(!run.stderr.contains("Postgres::lock_timeout"), "{run:?}");
    tx.rollback().unwrap();
    drop(holder);
    assert_eq!(schema.versions(), [1]);
}

/// Through a PgBouncer in transaction mode, `--lock lease` migrates, with the lease row
/// beside the history and given back at the end.
#[test]
fn lease_lock_through_pgbouncer() {
    let Some(mut schema) = pg::TestSchema::new("cli_lease") else {
        return;
    };
    let Some(bouncer) = pg::PgBouncer::start(&schema.name) else {
        return;
    };
    let config: Config = pg::server().parse().expect("the test server's string");
    let url = format!(
        "postgres://{}@127.0.0.1:{}/{}",
        config.get_user().unwrap_or("postgres"),
        bouncer.port,
        config.get_dbname().unwrap_or("postgres")
    );
    on(&url, &["--lock", "lease", "--schema", &schema.name, "up"]).ok();
    assert_eq!(schema.versions(), [1, 2]);
    let leases = format!("SELECT count(*) FROM {}.migrate_history_lock", schema.name);
    let leases: i64 = schema.admin().query_one(&leases, &[]).unwrap().get(0);
    assert_eq!(leases, 0, "the lease was given back");
}
