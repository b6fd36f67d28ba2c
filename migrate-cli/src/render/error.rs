//! Errors in the command line's words: core's fact ([`Error::fact`]), its files relative to
//! their crate, then the [`Remedy`] worded for commands and flags (`migrate
//! accept-changes`, `migrate up --allow-out-of-order`, `--lock-wait`) where core's own
//! message names the API's methods. A migration stopped by the database (read-only, disk
//! full, locked, a PostgreSQL server out of reach or a statement past its `lock_timeout`)
//! leads with the database's cause, as the backend diagnoses it.

use std::borrow::Cow;
use std::error::Error as StdError;

use migrate_core::{Direction, Error, Remedy};

use crate::failure::CliMessage;
use crate::open::{cause, wrote};
use crate::render::path::relative;

/// The lines to print for `error`: the message, then its causes (`caused by: ...`).
pub(crate) fn render(error: &(dyn StdError + 'static)) -> Vec<String> {
    let Some(core) = error.downcast_ref::<Error>() else {
        return with_causes(error.to_string(), error.source());
    };
    if let Error::Database { source, .. } = core
        && let Some(own) = source.downcast_ref::<CliMessage>()
    {
        return with_causes(own.to_string(), own.source());
    }
    if let Some(lines) = database_cause_first(core) {
        return lines;
    }
    if let Error::ConditionFailed { source, .. } = core {
        return condition_failed(core, source.as_ref());
    }
    let mut fact = fact(core);
    if let Error::ParallelUnsupported { .. } = core {
        fact = fact.replace(
            "with Migrator::fan_out (`migrate up --each`)",
            "with `migrate up --each 'PATTERN'`",
        );
    }
    with_causes(format!("{fact}; {}", words(&core.remedy())), core.source())
}

/// Core's fact about `error`, each file relative to its crate.
fn fact(error: &Error) -> String {
    error
        .fact_with_files(&|file| Cow::Owned(relative(file)))
        .to_string()
}

/// `remedy` in the command line's words: the commands and flags to use. Every wording
/// names at least one, in backticks (tested against the command's own definition).
pub(crate) fn words(remedy: &Remedy) -> String {
    match remedy {
        Remedy::LinkMigrations => "add `mod migrations;` or `use my_lib as _;` to the main.rs \
             of this command's binary, or write the first migration with `migrate new \
             create_users` (see docs/errors.md)"
            .to_owned(),
        Remedy::ChangeVersion => "give one of them a version no other migration has (`migrate \
             status` lists the versions)"
            .to_owned(),
        Remedy::FixDependency { dependency } => format!(
            "correct the version in `after`, or link the crate that defines migration \
             {dependency} into this command (`migrate status` lists the versions it has)"
        ),
        Remedy::DropLaterDependency { dependency } => format!(
            "remove {dependency} from `after = [..]`, or give the migration a version above \
             {dependency} (`migrate status` lists the versions)"
        ),
        Remedy::NameEnvironment { example } => format!(
            "name this database's environment with `--environment NAME` or the \
             MIGRATE_ENVIRONMENT variable (e.g. `--environment {example}`; in an environment \
             not listed, the migration is recorded as skipped), then run again"
        ),
        Remedy::FixCondition => {
            "fix the condition, or what it reads, then run `migrate up` again".to_owned()
        }
        Remedy::RunTheBuildThatApplied => "run the build that applied it, or link the crate \
             that defines it into this command (`migrate status` lists such versions as \
             unknown)"
            .to_owned(),
        Remedy::ChooseKnownTarget { latest } => format!(
            "use `--to 0` (before the first migration) or a version this program contains \
             (the latest is {latest}; `migrate status` lists them)"
        ),
        Remedy::DownNoFurtherThan { version } => format!(
            "use `migrate down --to {version}` or a higher version, or restore from a backup"
        ),
        Remedy::AllowOutOfOrder {
            highest_applied,
            could_declare,
        } => {
            let declare = could_declare.map_or(String::new(), |needed_by| {
                format!(
                    "list what migration {needed_by} needs with `after = [..]` in its \
                     attribute if it does not need this one, "
                )
            });
            format!(
                "give it a version above {highest_applied}, {declare}or apply it anyway with \
                 `migrate up --allow-out-of-order`"
            )
        }
        Remedy::AcceptChanges => "restore its applied version and write the change as a new \
             migration, or, if the change does not alter what it does, record it with \
             `migrate accept-changes` (`migrate up --allow-modified` goes on once without \
             recording it)"
            .to_owned(),
        Remedy::ClearIncomplete {
            version,
            direction,
            or_wait,
        } => format!(
            "check by hand and finish or undo its changes, then run `migrate clear-incomplete \
             {version}` ({}){}",
            after_clear(*direction),
            if *or_wait {
                ", or wait if another process is running it now"
            } else {
                ""
            }
        ),
        Remedy::UseSet { set } => format!("run the command for that set with `--set {set}`"),
        Remedy::RunOnItsOwn => "apply the migrations before it, then run `migrate up` without \
             `--all-or-nothing` and `--dry-run`"
            .to_owned(),
        Remedy::ApplyPending => "apply the pending migrations with `migrate up` instead".to_owned(),
        Remedy::OtherDirection { direction, target } => {
            let other = match direction {
                Direction::Down => "down",
                Direction::Up => "up",
            };
            format!("use `migrate {other} --to {target}` for that")
        }
        Remedy::FixMigration => "fix it and run `migrate up` again".to_owned(),
        Remedy::RepairByHand { version, direction } => format!(
            "check the database by hand, finish or undo its changes, then run `migrate \
             clear-incomplete {version}` ({}) and run again",
            after_clear(*direction)
        ),
        Remedy::CheckPath => "check that the path names the right file (`--database`)".to_owned(),
        Remedy::OtherHistoryTable => {
            "keep the history in another table with `--history-table NAME`".to_owned()
        }
        Remedy::RepairHistoryRow => "correct or delete it by hand, then run again \
             (`migrate status` reads the history)"
            .to_owned(),
        Remedy::WaitForLock { .. } => "let it finish (or end that session), or wait longer \
             with `--lock-wait` (e.g. `--lock-wait 5m`), then run again"
            .to_owned(),
        Remedy::RunSequentially => "drop --parallel (run `migrate up` without it)".to_owned(),
        Remedy::CheckConnection { advice } => {
            format!("{advice} (`--database` names the server)")
        }
        Remedy::CheckDatabase => "check that the database `--database` names is reachable and \
             writable and that no other process holds its write lock for too long (`--lock-wait` \
             waits longer), then run again"
            .to_owned(),
        // A remedy added to core after this wording: core's words, which name the API.
        other => other.to_string(),
    }
}

/// The condition's error leads, then the migration, its file and the condition.
fn condition_failed(error: &Error, source: &(dyn StdError + 'static)) -> Vec<String> {
    let advice = if wrote(source) {
        "a condition only reads the database (it runs read-only): move the write into the \
         migration's `up`, or into a migration before it, then run again"
            .to_owned()
    } else {
        words(&error.remedy())
    };
    let cause = source.to_string();
    let mut lines = vec![cause.clone(), format!("  {}; {advice}", fact(error))];
    // Deeper causes, but not SQLite's code restating the message.
    let mut next = source.source();
    while let Some(deeper) = next {
        let text = deeper.to_string();
        if !text.contains(&cause) {
            lines.push(format!("  caused by: {text}"));
        }
        next = deeper.source();
    }
    lines
}

fn with_causes(message: String, mut source: Option<&(dyn StdError + 'static)>) -> Vec<String> {
    let mut lines = vec![message];
    while let Some(cause) = source {
        lines.push(format!("  caused by: {cause}"));
        source = cause.source();
    }
    lines
}

/// A migration that failed, or a step that could not run, because of the database
/// itself: the database's message and what to check first, then which migration it was.
fn database_cause_first(error: &Error) -> Option<Vec<String>> {
    match error {
        Error::MigrationFailed { source, .. } => {
            let (message, hint) = cause(source.as_ref())?;
            Some(vec![
                format!("{message}: {hint}"),
                format!("  {}; run again once that is fixed", fact(error)),
            ])
        }
        Error::Database { action, source } | Error::Connect { action, source, .. } => {
            let (message, hint) = cause(source.as_ref())?;
            Some(vec![
                format!("{message}: {hint}"),
                format!("  while trying to {action}; nothing was written"),
            ])
        }
        _ => None,
    }
}

/// What `migrate clear-incomplete` makes of a mark left while migrating `direction`.
fn after_clear(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "it is then pending, and the next `migrate up` applies it again",
        Direction::Down => {
            "it is then applied, as before its down, and the next run down reverts it again"
        }
    }
}

#[cfg(test)]
mod tests {
    use migrate_core::{EnvironmentLimited, MigrationRef};

    use super::*;

    /// The command's own message about a database is shown as it is, with its causes,
    /// not under the generic advice about reaching a database.
    #[test]
    fn a_message_of_the_command_line_is_shown_as_it_is() {
        let error = Error::database(
            "open the database",
            Box::new(CliMessage(
                "the database a.db does not exist; check the path".into(),
            )),
        );
        assert_eq!(
            render(&error),
            ["the database a.db does not exist; check the path"]
        );
        let error = Error::database(
            "open the database",
            Box::new(CliMessage(Box::new(Error::database(
                "read",
                "disk on fire".into(),
            )))),
        );
        let lines = render(&error);
        assert!(lines[0].starts_with("could not read; "), "{lines:?}");
        assert_eq!(lines[1], "  caused by: disk on fire");
    }

    /// The command line names its flag and variable, not the API's method.
    #[test]
    fn an_environment_is_asked_for_with_the_flag() {
        let one = render(&Error::EnvironmentRequired {
            migrations: vec![EnvironmentLimited {
                migration: MigrationRef::new(3, "Seed a demo note", "src/m3.rs"),
                environments: &["dev", "test"],
            }],
        });
        assert_eq!(one.len(), 1, "{one:?}");
        assert!(
            one[0].starts_with(
                "migration 3 \"Seed a demo note\" (src/m3.rs; environments \"dev\", \"test\") \
                 is limited to environments"
            ),
            "{one:?}"
        );
        for part in [
            "`--environment NAME`",
            "MIGRATE_ENVIRONMENT",
            "`--environment dev`",
            "nothing was written",
        ] {
            assert!(one[0].contains(part), "{part}: {one:?}");
        }
        assert!(!one[0].contains("Migrator::environment"), "{one:?}");
        let two = render(&Error::EnvironmentRequired {
            migrations: vec![
                EnvironmentLimited {
                    migration: MigrationRef::new(3, "Seed a demo note", "src/m3.rs"),
                    environments: &["dev"],
                },
                EnvironmentLimited {
                    migration: MigrationRef::new(4, "Seed users", "src/m4.rs"),
                    environments: &["test"],
                },
            ],
        });
        assert!(
            two[0].starts_with(
                "migrations 3 \"Seed a demo note\" (src/m3.rs; environments \"dev\"), 4 \
                 \"Seed users\" (src/m4.rs; environments \"test\") are limited"
            ),
            "{two:?}"
        );
    }

    /// The condition's error leads, then the migration, its file and the condition.
    #[test]
    fn a_failed_condition_leads_with_its_cause() {
        let failed = |source: migrate_core::BoxError| Error::ConditionFailed {
            migration: MigrationRef::new(
                2,
                "Index notes for the flag",
                "src/migrations/m0002_index.rs",
            ),
            condition: "checks::flags_exist",
            source,
        };
        let lines = render(&failed("the flag service is down".into()));
        assert_eq!(lines[0], "the flag service is down", "{lines:?}");
        for part in [
            "the condition `checks::flags_exist` of migration 2 \"Index notes for the flag\" \
             (src/migrations/m0002_index.rs)",
            "neither ran nor was recorded as skipped",
            "fix the condition",
        ] {
            assert!(lines[1].contains(part), "{part}: {lines:?}");
        }
    }

    /// Every remedy core has is worded for the command line, and each wording names
    /// commands and flags that this command has: each backticked `migrate ...` parses
    /// with the command's own definition, each backticked `--flag` parses on `status`
    /// or `up`.
    #[test]
    fn every_remedy_names_a_real_command_or_flag() {
        let command = crate::commands::command();
        for remedy in migrate_core::testing::remedies() {
            let text = words(&remedy);
            assert_ne!(
                text,
                remedy.to_string(),
                "{remedy:?} has no wording of its own"
            );
            let spans: Vec<&str> = text.split('`').skip(1).step_by(2).collect();
            let mut named = 0;
            for span in spans {
                let span = span.replace("NAME", "dev");
                let argv: Vec<&str> = span.split_whitespace().collect();
                if argv.first() == Some(&"migrate") {
                    let parsed = command.clone().try_get_matches_from(&argv);
                    assert!(
                        parsed.is_ok(),
                        "{remedy:?}: `{span}` does not parse: {parsed:?}"
                    );
                    named += 1;
                } else if argv.first().is_some_and(|arg| arg.starts_with("--")) {
                    // A flag named alone may take a value: `--database` stands for
                    // `--database VALUE`.
                    let parses = ["status", "up"].iter().any(|sub| {
                        [None, Some("x"), Some("5m")].iter().any(|value| {
                            let mut with = vec!["migrate", sub];
                            with.extend(&argv);
                            with.extend(value);
                            command.clone().try_get_matches_from(with).is_ok()
                        })
                    });
                    assert!(parses, "{remedy:?}: `{span}` is no flag of this command");
                    named += 1;
                }
            }
            assert!(named > 0, "{remedy:?} names no command or flag: {text}");
        }
    }

    /// Core's words for the API are not what the command line says.
    #[test]
    fn the_command_line_does_not_name_the_api() {
        for remedy in migrate_core::testing::remedies() {
            let text = words(&remedy);
            assert!(!text.contains("Migrator::"), "{remedy:?}: {text}");
        }
    }
}
