//! A program that contains no migrations is told so, in words that name the linking rule
//! and the line to add, by every way in: `Migrator::discovered()`,
//! `testing::check_migrations`, and the command line's `up` and `status --check`.
//!
//! This test binary is such a program: it defines no migration and names no crate that
//! does (not even `migrate_tests`, whose chat bot migrations it would link), which is
//! what a binary whose migrations live in a library it never names looks like.
//! `tests/tests/build/getting_started.rs` builds the user's cases as real crates.

use migrate_test_support as support;

use std::process::{Command, Output};

use migrate_sqlite::{Error, Migrator};

/// What every refusal must say: the linking rule, and the line for each case.
fn assert_names_the_rule(text: &str) {
    for expected in [
        "no migrations found in this program",
        "compiled and linked",
        "`mod migrations;`",
        "`use my_lib as _;`",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
}

#[test]
fn discovery_finds_none_and_says_what_to_add() {
    let error = Migrator::discovered().unwrap_err();
    assert!(matches!(error, Error::NoMigrations { .. }), "{error:#?}");
    assert_names_the_rule(&error.to_string());
    // What `main` returning the error prints (`Error: {:?}`) is the same message.
    assert_names_the_rule(&format!("{error:?}"));
    // An explicitly empty manager is still allowed.
    assert!(Migrator::new().migrations().is_empty());
}

#[test]
fn check_migrations_with_none_fails_and_says_what_to_add() {
    let panic = std::panic::catch_unwind(|| {
        migrate_sqlite::testing::check_migrations(&Migrator::new());
    })
    .expect_err("check_migrations passed with no migrations");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(
        message.starts_with("check_migrations has nothing to check: "),
        "{message}"
    );
    assert_names_the_rule(message);
}

/// The command line, run as a process of its own with no migrations either
/// (`src/bin/migrate_empty.rs`), so that its stderr can be read.
fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrate_empty"))
        .args(args)
        .output()
        .expect("run the command")
}

/// `up` on a fresh database used to print "nothing to do", and `status --check` to
/// exit 0 with an empty table: both now fail, naming the rule, and create no database.
#[test]
fn the_command_line_refuses_to_run_with_none() {
    let db = support::TestDb::named("app.db");
    let path = db.path.to_str().expect("a UTF-8 path");
    for args in [
        ["--database", path, "up"].as_slice(),
        &["--database", path, "status", "--check"],
    ] {
        let output = cli(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            !String::from_utf8_lossy(&output.stdout).contains("nothing to do"),
            "{args:?}"
        );
        assert_names_the_rule(&stderr);
        assert!(!db.path.exists(), "{args:?} created the database");
    }
}
