//! Errors in the command line's words: the advice names commands and flags
//! (`migrate accept-changes`, `up --allow-out-of-order`, `--lock-wait`), where
//! `migrate_core::Error`'s own messages name the API's methods; a migration stopped by the
//! database (read-only, disk full, locked, a PostgreSQL server out of reach or a
//! statement past its `lock_timeout`) leads with the database's cause, as the backend
//! diagnoses it; files are shown relative to the crate.

use std::error::Error as StdError;

use migrate_core::{Direction, Error};

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
    let message = match core {
        Error::DuplicateVersion {
            set,
            version,
            first_type,
            first_file,
            first_line,
            second_type,
            second_file,
            second_line,
        } => format!(
            "migration version {version}{} is used twice, by `{first_type}` ({}:{first_line}) \
             and `{second_type}` ({}:{second_line}); give one of them a version no other \
             migration has",
            if set.is_empty() {
                String::new()
            } else {
                format!(" in set {set:?}")
            },
            relative(first_file),
            relative(second_file)
        ),
        Error::Irreversible {
            version,
            description,
            file,
            target,
        } => format!(
            "cannot migrate down to {target}: migration {version} {description:?} ({}) is \
             irreversible; use `down --to {version}` or a higher version, or restore from a \
             backup; nothing was written",
            relative(file)
        ),
        Error::OutOfOrder {
            version,
            description,
            file,
            highest_applied,
            needed_by,
            needed_by_declares,
        } => format!(
            "migration {version} {description:?} ({}) is pending but the database already has \
             migration {highest_applied} applied, and applied migration {needed_by} needs it \
             ({}); give it a version above {highest_applied}, {}or apply it anyway with \
             `migrate up --allow-out-of-order`; nothing was written",
            relative(file),
            migrate_core::__private::needed_by_reason(*needed_by, *needed_by_declares, *version),
            migrate_core::__private::declare_advice(*needed_by, *needed_by_declares),
        ),
        Error::Modified {
            version,
            description,
            file,
            recorded,
            current,
        } => format!(
            "migration {version} {description:?} ({}) was changed after it was applied \
             (checksum {recorded} when applied, {current} now); restore its applied version \
             and write the change as a new migration, or, if the change does not alter what \
             it does, record it with `migrate accept-changes` (`up --allow-modified` goes on \
             once without recording it); nothing was written",
            relative(file)
        ),
        Error::Incomplete {
            version,
            description,
            file,
            started_at,
            direction,
        } => format!(
            "migration {version} {description:?}{} runs outside a transaction and did not \
             finish migrating {direction} (started {started_at}); part of it may be in the \
             database: check by hand and finish or undo its changes, then run `migrate \
             clear-incomplete {version}` ({}), or wait if another process is running it now",
            in_file(file),
            after_clear(*direction)
        ),
        Error::FailedOutsideTransaction {
            version,
            description,
            file,
            direction,
            source,
        } => {
            return with_causes(
                format!(
                    "migration {version} {description:?} ({}) runs outside a transaction and \
                     failed partway while migrating {direction}: what it did before the \
                     failure stays in the database and the history marks it incomplete; check \
                     the database by hand, finish or undo its changes, then run `migrate \
                     clear-incomplete {version}` ({}) and run again",
                    relative(file),
                    after_clear(*direction)
                ),
                Some(source.as_ref()),
            );
        }
        Error::NotTransactional {
            version,
            description,
            file,
        } => format!(
            "migration {version} {description:?} ({}) runs outside a transaction \
             (`transaction = false`), so it cannot be part of `up --all-or-nothing` or a \
             `--dry-run`; apply the migrations before it, then run `up` without those flags",
            relative(file)
        ),
        Error::BaselineWithHistory {
            version,
            applied,
            highest,
        } => format!(
            "cannot baseline at version {version}: the database already has a migration \
             history ({applied} applied, the highest {highest}); a baseline only adopts a \
             database without one, and recording migrations as applied on top of a history \
             would hide whether they ran; apply the pending migrations with `migrate up` \
             instead; nothing was written"
        ),
        Error::WrongDirection {
            version,
            description,
            direction,
            target,
            ..
        } => {
            let (verb, other) = match direction {
                Direction::Down => ("revert", "down"),
                Direction::Up => ("apply", "up"),
            };
            format!(
                "going to version {target} would {verb} migration {version} {description:?}; \
                 use `{other} --to {target}` for that; nothing was written"
            )
        }
        Error::UnknownTarget { version, latest } => format!(
            "there is no migration {version} to migrate to; use `--to 0` (before the first \
             migration) or a version this program contains (the latest is {latest}; `migrate \
             status` lists them)"
        ),
        Error::LockTimeout {
            scope,
            waited,
            holder,
            ..
        } => format!(
            "another session holds the migration lock of {scope} and did not release it \
             within {waited:?} (--lock-wait): {holder}; let it finish (or end that \
             session), or wait longer with `--lock-wait` (e.g. `--lock-wait 5m`), then \
             run again; nothing was written"
        ),
        Error::ParallelUnsupported { reason } => format!(
            "independent migrations cannot run at once here: {}; drop --parallel; nothing \
             was written",
            reason.replace(
                "with Migrator::fan_out (`migrate up --each`)",
                "with `migrate up --each 'PATTERN'`"
            )
        ),
        Error::ForeignHistoryTable { table, problem } => format!(
            "the table {table:?} exists but is not a migrate history table: {problem}; it \
             belongs to something else, so keep the history in another table with \
             `--history-table NAME`; nothing was written"
        ),
        Error::MigrationFailed {
            version,
            description,
            file,
            direction,
            batch,
            source,
        } => {
            return with_causes(
                format!(
                    "migration {version} {description:?} ({}) failed while migrating \
                     {direction} and was rolled back{}; fix it and run again",
                    relative(file),
                    after_failure(*batch)
                ),
                Some(source.as_ref()),
            );
        }
        Error::MigrationPanicked {
            version,
            description,
            file,
            direction,
            batch,
            message,
        } => format!(
            "migration {version} {description:?} ({}) panicked while migrating {direction}: \
             {message}; it was rolled back{}; fix it and run again",
            relative(file),
            after_failure(*batch)
        ),
        Error::EnvironmentRequired { migrations } => {
            let example = migrations
                .first()
                .and_then(|(_, _, _, environments)| environments.first())
                .copied()
                .unwrap_or("dev");
            format!(
                "{} limited to environments, and no environment was given, so whether {} \
                 should run is unknown; name this database's environment with `--environment \
                 NAME` or the MIGRATE_ENVIRONMENT variable (e.g. `--environment {example}`; in \
                 an environment not listed, the migration is recorded as skipped), then run \
                 again; nothing was written",
                environment_list(migrations),
                if migrations.len() == 1 { "it" } else { "they" }
            )
        }
        Error::ConditionFailed {
            version,
            description,
            file,
            condition,
            source,
        } => {
            let advice = if wrote(source.as_ref()) {
                "a condition only reads the database (it runs read-only): move the write \
                 into the migration's `up`, or into a migration before it"
            } else {
                "fix the condition, or what it reads"
            };
            let cause = source.to_string();
            let mut lines = vec![
                cause.clone(),
                format!(
                    "  the condition `{condition}` of migration {version} {description:?} ({}) \
                     failed with that, so the migration neither ran nor was recorded as \
                     skipped; {advice}, then run again",
                    relative(file)
                ),
            ];
            // Deeper causes, but not SQLite's code restating the message.
            let mut next = source.source();
            while let Some(deeper) = next {
                let text = deeper.to_string();
                if !text.contains(&cause) {
                    lines.push(format!("  caused by: {text}"));
                }
                next = deeper.source();
            }
            return lines;
        }
        other => return with_causes(other.to_string(), other.source()),
    };
    vec![message]
}

/// `migration 3 "Seed demo note" (environments "dev", "test") is`, or several: `migrations
/// 3 "Seed demo note" (environments "dev"), 4 "Seed users" (environments "test") are`.
fn environment_list(
    migrations: &[(u64, &'static str, &'static str, &'static [&'static str])],
) -> String {
    let listed: Vec<String> = migrations
        .iter()
        .map(|(version, description, file, environments)| {
            let names: Vec<String> = environments.iter().map(|e| format!("{e:?}")).collect();
            format!(
                "{version} {description:?} ({}; environments {})",
                relative(file),
                names.join(", ")
            )
        })
        .collect();
    if listed.len() == 1 {
        format!("migration {} is", listed[0])
    } else {
        format!("migrations {} are", listed.join(", "))
    }
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
/// itself: SQLite's message and what to check first, then which migration it was.
fn database_cause_first(error: &Error) -> Option<Vec<String>> {
    match error {
        Error::MigrationFailed {
            version,
            description,
            file,
            direction,
            batch,
            source,
        } => {
            let (message, hint) = cause(source.as_ref())?;
            Some(vec![
                format!("{message}: {hint}"),
                format!(
                    "  migration {version} {description:?} ({}) could not finish migrating \
                     {direction} because of that and was rolled back{}; run again once it is \
                     fixed",
                    relative(file),
                    after_failure(*batch)
                ),
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

fn in_file(file: &str) -> String {
    if file.is_empty() {
        String::new()
    } else {
        format!(" ({})", relative(file))
    }
}

fn after_clear(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "it is then pending, and the next `up` applies it again",
        Direction::Down => {
            "it is then applied, as before its down, and the next `down` reverts it again"
        }
    }
}

fn after_failure(batch: bool) -> &'static str {
    if batch {
        " with the whole `--all-or-nothing` batch, so none of its migrations is applied"
    } else {
        "; migrations before it stay applied"
    }
}

#[cfg(test)]
mod tests {
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
            migrations: vec![(3, "Seed a demo note", "src/m3.rs", &["dev", "test"])],
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
                (3, "Seed a demo note", "src/m3.rs", &["dev"]),
                (4, "Seed users", "src/m4.rs", &["test"]),
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
            version: 2,
            description: "Index notes for the flag",
            file: "src/migrations/m0002_index.rs",
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
}
