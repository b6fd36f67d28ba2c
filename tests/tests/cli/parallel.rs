//! `migrate up --parallel N` as a process: on PostgreSQL (the `migrate_pg` binary,
//! against a schema of the test's own; see `pg`), refused on a SQLite file (the chat
//! bot's `migrate` binary) with nothing written, and the options it cannot go with
//! refused as usage errors (exit 2) before any database is opened.

use migrate_test_support as support;
use migrate_test_support::pg;

use std::path::Path;
use std::process::Command;

use migrate_postgres::postgres::Config;
use migrate_postgres::postgres::config::Host;
use support::Run;

/// `BINARY ARGS` in a temporary directory, without `DATABASE_URL` from the environment.
fn run(binary: &str, args: &[&str]) -> Run {
    let output = Command::new(binary)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the migrate command");
    Run::from_output(&output)
}

/// The chat bot's `migrate --database FILE ARGS` (SQLite).
fn on_file(file: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--database", file.to_str().expect("a UTF-8 temporary path")];
    all.extend_from_slice(args);
    run(env!("CARGO_BIN_EXE_migrate"), &all)
}

/// The test server as a `postgres://` URL whose `search_path` is `schema`.
fn url(schema: &str) -> String {
    let config: Config = pg::server().parse().expect("the test server's string");
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let dbname = config.get_dbname().unwrap_or("postgres");
    format!("postgres://{user}@{host}:{port}/{dbname}?options=-c%20search_path%3D{schema}")
}

/// `migrate_pg --database URL ARGS` (PostgreSQL).
fn on_postgres(url: &str, args: &[&str]) -> Run {
    let mut all = vec!["--database", url];
    all.extend_from_slice(args);
    run(env!("CARGO_BIN_EXE_migrate_pg"), &all)
}

/// `migrate_pg`'s two migrations declare no `after`: each needs the one before, so the
/// run is one at a time with the option on, and its result is the same.
#[test]
fn up_with_parallel_applies_on_postgres() {
    let Some(mut schema) = pg::TestSchema::new("cli_parallel") else {
        return;
    };
    let url = url(&schema.name);
    let up = on_postgres(&url, &["up", "--parallel", "3"]).ok();
    assert!(up.stdout.contains("done: 2 migrations"), "{up:?}");
    assert!(schema.has_table("notes"));
    assert_eq!(schema.versions(), [1, 2]);
    let again = on_postgres(&url, &["up", "--parallel", "3"]).ok();
    assert!(again.stdout.contains("nothing to do"), "{again:?}");
    assert_eq!(schema.versions(), [1, 2]);
}

#[test]
fn up_with_parallel_on_a_sqlite_file_is_refused_and_writes_nothing() {
    let db = support::TestDb::named("parallel.db");
    on_file(&db.path, &["up", "--to", "1"]).ok();
    let before = db.bytes();
    let refused = on_file(&db.path, &["up", "--parallel", "2"]).code(1);
    assert!(refused.stderr.contains("--parallel"), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("SQLite lets one connection write at a time"),
        "{refused:?}"
    );
    assert!(
        refused.stderr.contains("nothing was written"),
        "{refused:?}"
    );
    // The advice names the command line's option, not the library's function.
    assert!(refused.stderr.contains("migrate up --each"), "{refused:?}");
    assert!(!refused.stderr.contains("Migrator::fan_out"), "{refused:?}");
    assert_eq!(db.bytes(), before, "the file changed");
    let status = on_file(&db.path, &["status"]).ok();
    assert_eq!(
        status.stdout.matches("pending").count(),
        2,
        "still only 1 applied: {status:?}"
    );

    // On a file that does not exist yet, none is created.
    let fresh = support::TestDb::named("fresh.db");
    on_file(&fresh.path, &["up", "--parallel", "2"]).code(1);
    assert!(!fresh.path.exists(), "the refusal created the file");
}

#[test]
fn parallel_with_options_it_cannot_go_with_is_a_usage_error() {
    let db = support::TestDb::named("usage.db");
    for args in [
        &["up", "--parallel", "2", "--all-or-nothing"][..],
        &["up", "--parallel", "2", "--dry-run"],
        &["up", "--parallel", "0"],
        &["up", "--parallel", "65"],
        &["up", "--parallel", "many"],
    ] {
        let usage = on_file(&db.path, args).code(2);
        assert!(usage.stderr.contains("--parallel"), "{args:?}: {usage:?}");
        assert!(!db.path.exists(), "{args:?} opened the database");
    }
}

/// `up --each-from LIST --parallel 2` over SQLite files: refused once, before any is
/// opened; one that exists is left as it was, and one that does not is not created.
#[test]
fn up_each_with_parallel_refuses_every_sqlite_file_and_creates_none() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("existing.db");
    let missing = dir.path().join("missing.db");
    on_file(&existing, &["up", "--to", "1"]).ok();
    let before = std::fs::read(&existing).unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!("{}\n{}\n", existing.display(), missing.display()),
    )
    .unwrap();
    let refused = run(
        env!("CARGO_BIN_EXE_migrate"),
        &[
            "up",
            "--each-from",
            list.to_str().unwrap(),
            "--parallel",
            "2",
        ],
    )
    .code(1);
    let all = format!("{}{}", refused.stdout, refused.stderr);
    assert_eq!(
        all.matches("SQLite lets one connection write at a time")
            .count(),
        1,
        "once, before any file: {refused:?}"
    );
    assert!(all.contains("--each already migrates"), "{refused:?}");
    assert!(all.contains("drop --parallel"), "{refused:?}");
    assert_eq!(
        std::fs::read(&existing).unwrap(),
        before,
        "the file changed"
    );
    assert!(
        !missing.exists(),
        "the refusal created {}",
        missing.display()
    );
}
