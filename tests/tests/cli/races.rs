//! The command line's `up` and `down` racing each other as real processes (the chat
//! bot's `migrate` binary, migrations 1, 2 and 3). `up` never reverts and `down` never
//! applies: that is decided under the write lock, on the history read there. Before
//! the fix, `up --to 2` racing `up` reverted migration 3 in 26 of 300 rounds, and
//! `down --to 2` racing `down --to 0` applied 1 and 2 in 53 of 300.

use migrate_test_support as support;

use std::path::Path;
use std::process::{Child, Command, Stdio};

fn migrate(db: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .arg("--database")
        .arg(db)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a run; its exit code and stderr.
fn finish(child: Child) -> (i32, String) {
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn applied(db: &Path) -> Vec<i64> {
    if !support::has_table(db, "migrate_history") {
        return Vec::new();
    }
    support::query_column(db, "SELECT version FROM migrate_history ORDER BY version")
}

fn rounds() -> usize {
    std::env::var("MIGRATE_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

/// Each run either succeeds or is refused pointing at the other command; neither ever
/// moves the database the wrong way, so the end state is the one of the wider run.
fn race(setup: &[&str], first: &[&str], second: &[&str], end: &[i64], other_command: &str) {
    let mut refusals = 0;
    for round in 0..rounds() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("race.db");
        if !setup.is_empty() {
            let (code, stderr) = finish(migrate(&db, setup));
            assert_eq!(code, 0, "setup: {stderr}");
        }
        let (a, b) = (migrate(&db, first), migrate(&db, second));
        for (args, (code, stderr)) in [(first, finish(a)), (second, finish(b))] {
            match code {
                0 => {}
                1 => {
                    assert!(
                        stderr.contains(other_command),
                        "round {round}: `{}` refused without pointing to `{other_command}`: \
                         {stderr}",
                        args.join(" ")
                    );
                    refusals += 1;
                }
                _ => panic!(
                    "round {round}: `{}` exited {code}: {stderr}",
                    args.join(" ")
                ),
            }
        }
        assert_eq!(
            applied(&db),
            end,
            "round {round}: `{}` racing `{}` moved the database the wrong way",
            first.join(" "),
            second.join(" ")
        );
    }
    eprintln!(
        "`{}` racing `{}`: {} rounds, {refusals} refusals, never the wrong way",
        first.join(" "),
        second.join(" "),
        rounds()
    );
}

#[test]
fn up_to_2_racing_up_never_reverts_3() {
    race(
        &["up", "--to", "1"],
        &["up", "--to", "2"],
        &["up"],
        &[1, 2, 3],
        "down --to 2",
    );
}

#[test]
fn down_to_2_racing_down_to_0_never_applies() {
    race(
        &["up"],
        &["down", "--to", "2"],
        &["down", "--to", "0"],
        &[],
        "up --to 2",
    );
}
