//! Conditional migrations on the command line, run as a process: the `migrate_conditional`
//! binary of this package (four SQLite migrations: a plain one, one whose condition fails
//! while `MIGRATE_TEST_FLAG_SERVICE_DOWN` is set, one for the `dev` and `test`
//! environments, one that runs only where the table `feature_flags` exists).
//! `--environment` and `MIGRATE_ENVIRONMENT`, the refusal without either, skipped steps in
//! `up`, `down`, dry runs, `status` and `history`, and a skipped migration applied once its
//! condition turns true.

use migrate_test_support as support;

use std::path::{Path, PathBuf};
use std::process::Command;

use migrate_sqlite::rusqlite::Connection;
use support::Run;

/// `migrate_conditional --database DB ARGS` in this package's folder, plain output, with
/// `env` set and neither `DATABASE_URL` nor `MIGRATE_ENVIRONMENT` unless `env` sets them.
fn on_with(db: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_migrate_conditional"));
    command
        .arg("--database")
        .arg(db)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .env_remove("MIGRATE_ENVIRONMENT")
        .env_remove("MIGRATE_TEST_FLAG_SERVICE_DOWN")
        .env("NO_COLOR", "1");
    for (name, value) in env {
        command.env(name, value);
    }
    Run::from_output(&command.output().expect("run the migrate command"))
}

fn on(db: &Path, args: &[&str]) -> Run {
    on_with(db, &[], args)
}

fn new_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("conditional.db");
    (dir, db)
}

/// The history's rows: version and the checksum column (which marks skipped rows).
fn history(db: &Path) -> Vec<(i64, String)> {
    let connection = Connection::open(db).unwrap();
    let Ok(mut statement) =
        connection.prepare("SELECT version, checksum FROM migrate_history ORDER BY version")
    else {
        return Vec::new();
    };
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The status table's line of `version`.
fn status_line(status: &Run, version: u64) -> &str {
    status
        .stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some(&version.to_string()))
        .unwrap_or_else(|| panic!("no line of {version}: {status:?}"))
}

const NOT_IN_PRODUCTION: &str = r#"environment "production" is not one of "dev", "test""#;

#[test]
fn without_an_environment_a_run_that_would_apply_an_environment_limited_migration_is_refused() {
    let (_dir, db) = new_db();
    let run = on(&db, &["up"]).code(1);
    let first = run.stderr.lines().next().unwrap_or_default();
    for part in [
        r#"error: migration 3 "Seed a demo note" (tests/src/bin/migrate_conditional.rs; environments "dev", "test") is limited to environments"#,
        "`--environment NAME` or the MIGRATE_ENVIRONMENT variable",
        "nothing was written",
    ] {
        assert!(first.contains(part), "{part:?} in {run:?}");
    }
    assert!(!run.stderr.contains("Migrator::environment"), "{run:?}");
    assert_eq!(history(&db), [], "the refusal wrote nothing");
    // A dry run asks the same.
    on(&db, &["up", "--dry-run"]).code(1);
    // Up to the migration before it, no environment is needed.
    on(&db, &["up", "--to", "2"]).ok();
    assert_eq!(history(&db).len(), 2);
}

#[test]
fn an_environment_name_is_checked_like_a_tag() {
    let (_dir, db) = new_db();
    for name in ["Production", "my env", ""] {
        let run = on(&db, &["up", "--environment", name]).code(2);
        assert!(
            run.stderr
                .contains("lowercase letters, digits, `-`, `_` and `.`")
                || run.stderr.contains("must not be empty"),
            "{name:?}: {run:?}"
        );
        let run = on_with(&db, &[("MIGRATE_ENVIRONMENT", name)], &["status"]).code(2);
        assert!(run.stderr.contains("--environment"), "{name:?}: {run:?}");
    }
    assert!(!db.exists(), "a usage error opens nothing");
}

#[test]
fn skipped_migrations_are_shown_by_up_status_and_history() {
    let (_dir, db) = new_db();
    let run = on(&db, &["up", "--environment", "production"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("applied     1 Create notes"),
        "{run:?}"
    );
    assert!(
        lines[1].starts_with("applied     2 Create settings"),
        "{run:?}"
    );
    assert_eq!(
        lines[2],
        format!(r#"skipped     3 "Seed a demo note": {NOT_IN_PRODUCTION}"#)
    );
    assert_eq!(
        lines[3],
        r#"skipped     4 "Index notes for the flag": no feature_flags table"#
    );
    assert!(
        lines[4].starts_with("done: 4 migrations (2 of them skipped: no code ran) in "),
        "{run:?}"
    );
    let rows = history(&db);
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows[2].1.starts_with("skipped:"), "{rows:?}");

    // status: the state and a reason column; skipped counts as settled for --check.
    let status = on(&db, &["status", "--check"]).ok();
    let header = status.stdout.lines().next().unwrap();
    assert!(header.ends_with("duration  reason"), "{status:?}");
    assert!(
        status_line(&status, 3).contains("  skipped  ")
            && status_line(&status, 3).ends_with(NOT_IN_PRODUCTION),
        "{status:?}"
    );
    assert!(
        status_line(&status, 4).ends_with("no feature_flags table"),
        "{status:?}"
    );
    assert!(status_line(&status, 1).ends_with(" ms"), "{status:?}");

    // history builds the schema by running the migrations on a scratch database: it needs
    // the environment too.
    let refused = on(&db, &["history"]).code(1);
    assert!(
        refused.stderr.contains("`--environment NAME`"),
        "{refused:?}"
    );
    // history: marked in the table, and no schema for their sections.
    let doc = on(&db, &["history", "--environment", "production"]).ok();
    assert!(
        doc.stdout
            .contains("| 4 | Index notes for the flag | `tests/src/bin/migrate_conditional.rs` | skipped: no feature_flags table |"),
        "{doc:?}"
    );
    let section = doc
        .stdout
        .split("## 4 Index notes for the flag")
        .nth(1)
        .expect("a section of 4");
    assert!(
        section
            .contains("Skipped: no feature_flags table. Its code did not run: no schema change."),
        "{section}"
    );
    assert!(!section.contains("```"), "{section}");
    // Still false: nothing to do, the rows stay as they are.
    let again = on(&db, &["up", "--environment", "production"]).ok();
    assert!(again.stdout.contains("nothing to do"), "{again:?}");
    assert_eq!(history(&db), rows);
}

#[test]
fn migrate_environment_names_the_environment_and_the_flag_wins() {
    let (_dir, db) = new_db();
    let production = [("MIGRATE_ENVIRONMENT", "production")];
    let run = on_with(&db, &production, &["up"]).ok();
    assert!(
        run.stdout.contains(&format!(
            r#"skipped     3 "Seed a demo note": {NOT_IN_PRODUCTION}"#
        )),
        "{run:?}"
    );
    // The flag wins over the variable: still production, still skipped.
    let dev = [("MIGRATE_ENVIRONMENT", "dev")];
    let run = on_with(&db, &dev, &["up", "--environment", "production"]).ok();
    assert!(run.stdout.contains("nothing to do"), "{run:?}");
    // The variable alone: dev, where migration 3 runs.
    let run = on_with(&db, &dev, &["up"]).ok();
    assert!(
        run.stdout.starts_with("applied     3 Seed a demo note"),
        "{run:?}"
    );
    let notes: i64 = Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM notes", [], |row| row.get(0))
        .unwrap();
    assert_eq!(notes, 1);
}

#[test]
fn a_dry_run_says_what_it_would_skip_and_keeps_nothing() {
    let (_dir, db) = new_db();
    on(&db, &["up", "--to", "1"]).ok();
    let before = history(&db);
    let run = on(&db, &["up", "--dry-run", "--environment", "production"]).ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("would have applied     2 Create settings"),
        "{run:?}"
    );
    assert_eq!(
        lines[1],
        format!(r#"would skip             3 "Seed a demo note": {NOT_IN_PRODUCTION}"#)
    );
    assert_eq!(
        lines[2],
        r#"would skip             4 "Index notes for the flag": no feature_flags table"#
    );
    assert!(
        lines[3].starts_with("dry run: 3 migrations succeeded (2 of them would be skipped"),
        "{run:?}"
    );
    assert_eq!(history(&db), before, "a dry run keeps nothing");
}

#[test]
fn a_skipped_migration_is_applied_once_its_condition_is_true() {
    let (_dir, db) = new_db();
    on(&db, &["up", "--environment", "test"]).ok();
    let status = on(&db, &["status"]).ok();
    assert!(
        status_line(&status, 4).contains("  skipped  "),
        "{status:?}"
    );

    Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE feature_flags (name TEXT)")
        .unwrap();
    // `status` does not evaluate conditions: still skipped until a run decides again.
    let status = on(&db, &["status"]).ok();
    assert!(
        status_line(&status, 4).contains("  skipped  "),
        "{status:?}"
    );
    let run = on(&db, &["up", "--environment", "test"]).ok();
    assert!(
        run.stdout
            .starts_with("applied     4 Index notes for the flag"),
        "{run:?}"
    );
    let status = on(&db, &["status"]).ok();
    assert!(
        status_line(&status, 4).contains("  applied  "),
        "{status:?}"
    );
    assert!(
        !status.stdout.contains("reason"),
        "no skipped row, no column: {status:?}"
    );
}

#[test]
fn down_past_skipped_migrations_removes_their_rows_and_steps_count_applied_ones() {
    let (_dir, db) = new_db();
    on(&db, &["up", "--environment", "production"]).ok();
    let rehearsal = on(&db, &["down", "--to", "0", "--dry-run"]).ok();
    let lines: Vec<&str> = rehearsal.stdout.lines().collect();
    assert_eq!(
        lines[0],
        r#"would remove the skipped row of 4 "Index notes for the flag" (it had been skipped: no feature_flags table)"#
    );
    assert!(
        lines[4].starts_with(
            "dry run: 4 migrations succeeded (2 of them skipped ones whose rows would be removed"
        ),
        "{rehearsal:?}"
    );
    // One step: the last applied migration (2), and the skipped rows above it on the way.
    let run = on(
        &db,
        &["down", "--steps", "1", "--environment", "production"],
    )
    .ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        r#"removed the skipped row of 4 "Index notes for the flag" (it had been skipped: no feature_flags table)"#
    );
    assert_eq!(
        lines[1],
        format!(
            r#"removed the skipped row of 3 "Seed a demo note" (it had been skipped: {NOT_IN_PRODUCTION})"#
        )
    );
    assert!(
        lines[2].starts_with("reverted    2 Create settings"),
        "{run:?}"
    );
    assert!(
        lines[3].starts_with("done: 3 migrations (2 of them skipped ones whose rows were removed"),
        "{run:?}"
    );
    let versions: Vec<i64> = history(&db).into_iter().map(|(v, _)| v).collect();
    assert_eq!(versions, [1]);
}

#[test]
fn a_failing_condition_names_the_migration_and_its_condition() {
    let (_dir, db) = new_db();
    let run = on_with(
        &db,
        &[("MIGRATE_TEST_FLAG_SERVICE_DOWN", "1")],
        &["up", "--environment", "dev"],
    )
    .code(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[0], "error: the flag service is down", "{run:?}");
    assert!(
        lines[1].contains(
            r#"the condition `flag_service_up` of migration 2 "Create settings" (tests/src/bin/migrate_conditional.rs) failed"#
        ) && lines[1].contains("neither ran nor was recorded as skipped"),
        "{run:?}"
    );
    // Migration 1 ran before it, in its own transaction; 2 has no row.
    let versions: Vec<i64> = history(&db).into_iter().map(|(v, _)| v).collect();
    assert_eq!(versions, [1]);
}
