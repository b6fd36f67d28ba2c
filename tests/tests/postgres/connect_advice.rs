//! A PostgreSQL connection that fails gets PostgreSQL's advice, never SQLite's: through
//! the library (`Postgres::connect`, the error's message as `main` prints it) and
//! through the `migrate` command line (the `migrate_pg` binary of this package).
//!
//! - a closed port (nothing listens on 127.0.0.1:1), which needs no server: the server
//!   cannot be reached, check that it runs and listens on that host and port;
//! - with the test server (skipped without one, see `pg/mod.rs`): a user the server does
//!   not know (the login refused: user, password, pg_hba.conf) and a database that does
//!   not exist (create it, or correct the name).
//!
//! SQLite's advice ("writable", "write lock") has nothing to say about a server.

use migrate_test_support::pg;

use std::process::Command;

use migrate_postgres::Postgres;
use migrate_postgres::postgres::Config;

/// What SQLite's advice says, which a PostgreSQL connection error must not.
const SQLITE_ADVICE: &[&str] = &["writable", "write lock"];

/// The message of `Postgres::connect(url)`'s error, as `main` returning it prints it
/// (the message, then its causes).
fn library_error(url: &str) -> String {
    let error = Postgres::connect(url)
        .err()
        .unwrap_or_else(|| panic!("{url} connected"));
    format!("{error:?}")
}

/// `migrate_pg --database URL status`: its exit code and standard error.
fn command_error(url: &str) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_migrate_pg"))
        .args(["--database", url, "status"])
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run migrate_pg");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[track_caller]
fn assert_postgres_advice(text: &str, expected: &[&str]) {
    for advice in SQLITE_ADVICE {
        assert!(
            !text.contains(advice),
            "SQLite's advice {advice:?} in:\n{text}"
        );
    }
    for expected in expected {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    assert!(!text.contains("s3cret"), "the password is shown:\n{text}");
}

/// Nothing listens on port 1: the error names host and port and says the server cannot
/// be reached, what to check; no server needed.
#[test]
fn a_refused_connection_says_the_server_cannot_be_reached() {
    let url = "postgres://someone:s3cret@127.0.0.1:1/app?connect_timeout=5";
    let expected = [
        "127.0.0.1:1",
        "database app, user someone",
        "the PostgreSQL server cannot be reached",
        "runs and listens on that host and port",
    ];
    assert_postgres_advice(&library_error(url), &expected);
    let (code, stderr) = command_error(url);
    assert_eq!(code, Some(1), "{stderr}");
    assert_postgres_advice(
        &stderr,
        &["127.0.0.1:1", "the PostgreSQL server cannot be reached"],
    );
}

/// The test server's URL with `user` and `dbname` replaced.
fn test_server_as(user: &str, dbname: &str) -> String {
    let mut config: Config = pg::server().parse().expect("the test server's string");
    config.user(user).dbname(dbname);
    let host = match config.get_hosts().first() {
        Some(migrate_postgres::postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("postgres://{user}:s3cret@{host}:{port}/{dbname}")
}

/// The server answers but refuses the session: an unknown user is a login the server
/// refuses (user, password, pg_hba.conf); a database that does not exist is named, with
/// how to create it.
#[test]
fn a_refused_login_or_a_missing_database_says_what_to_check_on_the_server() {
    if !pg::available() {
        return;
    }
    let dbname = pg::server()
        .parse::<Config>()
        .ok()
        .and_then(|c| c.get_dbname().map(str::to_owned))
        .unwrap_or_else(|| "test".to_owned());
    let url = test_server_as("no_such_user_here", &dbname);
    assert_postgres_advice(
        &library_error(&url),
        &["user no_such_user_here", "refused the login", "pg_hba.conf"],
    );

    let url = test_server_as("postgres", "no_such_database_here");
    assert_postgres_advice(
        &library_error(&url),
        &[
            "database no_such_database_here",
            "does not exist",
            "createdb",
        ],
    );
    let (code, stderr) = command_error(&url);
    assert_eq!(code, Some(1), "{stderr}");
    assert_postgres_advice(&stderr, &["does not exist", "createdb"]);
}
