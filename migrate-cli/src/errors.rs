//! Errors in the command line's words: the advice names commands and flags
//! (`migrate accept-changes`, `up --allow-out-of-order`, `--lock-timeout`), where
//! `migrate_core::Error`'s own messages name the API's methods; a migration stopped by the
//! database (read-only, disk full, locked, a PostgreSQL server out of reach or a
//! statement past its `lock_timeout`) leads with the database's cause; files are shown
//! relative to the crate.

use std::error::Error as StdError;
use std::path::Path;

use migrate_core::{Direction, Error};
#[cfg(feature = "sqlite")]
use migrate_sqlite::rusqlite::{self, ErrorCode};

/// A message of the command line's own about one database of a fan-out (a file that does
/// not exist, a URL that opens it read-only for `up`), carried as the source of an
/// [`Error::Database`]: shown as it is, without that error's advice about reaching a
/// database, which would mislead.
#[derive(Debug)]
pub struct Own(pub migrate_core::BoxError);

impl std::fmt::Display for Own {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for Own {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// The lines to print for `error`: the message, then its causes (`caused by: ...`).
pub fn render(error: &(dyn StdError + 'static)) -> Vec<String> {
    let Some(core) = error.downcast_ref::<Error>() else {
        return with_causes(error.to_string(), error.source());
    };
    if let Error::Database { source, .. } = core
        && let Some(own) = source.downcast_ref::<Own>()
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
             within {waited:?} (--lock-timeout): {holder}; let it finish (or end that \
             session), or wait longer with `--lock-timeout` (e.g. `--lock-timeout 5m`), then \
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

/// Whether `error`'s chain is the database refusing a write because the connection is
/// read-only, as it is while a condition runs.
fn wrote(error: &(dyn StdError + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        #[cfg(feature = "sqlite")]
        if let Some(rusqlite::Error::SqliteFailure(failure, _)) =
            error.downcast_ref::<rusqlite::Error>()
            && failure.code == ErrorCode::ReadOnly
        {
            return true;
        }
        #[cfg(feature = "postgres")]
        if let Some(error) = error.downcast_ref::<migrate_postgres::postgres::Error>()
            && error.code()
                == Some(&migrate_postgres::postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION)
        {
            return true;
        }
        next = error.source();
    }
    false
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

/// The database's message and advice, when the chain holds an error of the database
/// itself (or of reaching it) rather than of a migration's SQL.
fn cause(error: &(dyn StdError + 'static)) -> Option<(String, String)> {
    #[cfg(feature = "sqlite")]
    if let Some((message, hint)) = sqlite_cause(error) {
        return Some((message, hint.to_owned()));
    }
    #[cfg(feature = "postgres")]
    if let Some(found) = postgres_cause(error) {
        return Some(found);
    }
    let _ = error;
    None
}

/// PostgreSQL's message and advice: a statement stopped by its `lock_timeout`, a server
/// out of reach, a login or database refused.
#[cfg(feature = "postgres")]
fn postgres_cause(error: &(dyn StdError + 'static)) -> Option<(String, String)> {
    use migrate_postgres::postgres::error::SqlState;
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(timed_out) = error.downcast_ref::<migrate_postgres::LockTimedOut>() {
            let holders = timed_out
                .holders()
                .map_or_else(String::new, |holders| format!(" ({holders})"));
            return Some((
                format!(
                    "a statement waited longer than the migration's lock_timeout for a table \
                     lock that another session holds{holders}"
                ),
                "let that session finish, or end it (SELECT pg_terminate_backend(pid)), then \
                 run the same command again"
                    .to_owned(),
            ));
        }
        if let Some(tls) = error.downcast_ref::<migrate_postgres::TlsNotSupported>() {
            return Some((
                format!(
                    "the URL asks for TLS (sslmode={}), which the migrate command does not \
                     support yet",
                    tls.ssl_mode()
                ),
                "where the network may carry the connection unencrypted, use \
                 sslmode=prefer or sslmode=disable in the URL (--database or DATABASE_URL); \
                 otherwise reach the server through a TLS tunnel (stunnel, ssh -L) and give \
                 the URL of its local end"
                    .to_owned(),
            ));
        }
        if let Some(error) = error.downcast_ref::<migrate_postgres::postgres::Error>() {
            // The driver's message, then its causes (the system's "Connection refused").
            let mut message = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message = format!("{message}: {text}");
                }
                source = cause.source();
            }
            let hint = match error.code() {
                Some(code)
                    if *code == SqlState::INVALID_PASSWORD
                        || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
                {
                    "the server refused the login; check the user and password of the URL \
                     (--database or DATABASE_URL) and the server's pg_hba.conf"
                }
                Some(code) if *code == SqlState::INVALID_CATALOG_NAME => {
                    "the database does not exist; create it (createdb NAME) or correct the \
                     database name in the URL (--database or DATABASE_URL)"
                }
                Some(_) => return None,
                None if message.starts_with("error connecting") || message.contains("timeout") => {
                    "the PostgreSQL server cannot be reached; check that it runs and listens \
                     on the host and port of the URL (--database or DATABASE_URL), and that \
                     no firewall is in the way (a slow network may need a longer \
                     ?connect_timeout=SECONDS in the URL)"
                }
                None => return None,
            };
            return Some((message, hint.to_owned()));
        }
        next = error.source();
    }
    None
}

/// SQLite's message and advice, when the chain holds an error of the database itself
/// rather than of a migration's SQL.
#[cfg(feature = "sqlite")]
fn sqlite_cause(error: &(dyn StdError + 'static)) -> Option<(String, &'static str)> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(rusqlite::Error::SqliteFailure(failure, message)) =
            error.downcast_ref::<rusqlite::Error>()
        {
            let hint = match failure.code {
                ErrorCode::ReadOnly
                    if failure.extended_code == rusqlite::ffi::SQLITE_READONLY_DIRECTORY =>
                {
                    "the database's folder is read-only, and SQLite must create a journal \
                     file next to the database to change it; make the folder writable for \
                     the user running this (or move the database to a folder that is); \
                     `migrate status` and `migrate history` only read"
                }
                ErrorCode::ReadOnly => {
                    "the database file is read-only (its permissions, or a file system \
                     mounted read-only); make it writable for the user running this, and its \
                     folder too, as SQLite writes a journal next to it; `migrate status` and \
                     `migrate history` only read"
                }
                ErrorCode::DiskFull => "the disk is full; free some space on it",
                ErrorCode::SystemIoFailure
                    if failure.extended_code == rusqlite::ffi::SQLITE_IOERR_WRITE =>
                {
                    "the file system refused to write to the database: the disk is full, \
                     the file reached a size limit (`ulimit -f`), or the disk is failing; \
                     free some space or raise the limit"
                }
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                    "another process holds the database's lock and kept it past the lock \
                     timeout (60 s unless `--lock-timeout` says otherwise); wait for it to \
                     finish or stop it, or pass `--lock-timeout` to wait longer (e.g. \
                     `--lock-timeout 5m`)"
                }
                ErrorCode::CannotOpen => {
                    "SQLite cannot open the file; check the path and that its folder exists \
                     and is writable"
                }
                ErrorCode::PermissionDenied => "permission denied; check the file's permissions",
                ErrorCode::SystemIoFailure => {
                    "a disk input/output error; check the disk, its free space and the \
                     folder's permissions"
                }
                _ => return None,
            };
            let text = message
                .clone()
                .unwrap_or_else(|| failure.to_string().to_lowercase());
            return Some((text, hint));
        }
        next = error.source();
    }
    None
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

/// A migration's file as the user knows it: relative to its crate (the nearest folder
/// with a `Cargo.toml`, on the machine that built it), else from its `src` folder on,
/// else as compiled. `file!()` of a file the migrations folder compiles is absolute.
pub fn relative(file: &str) -> String {
    let path = Path::new(file);
    if !path.is_absolute() {
        return file.to_owned();
    }
    if let Some(root) = path
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("Cargo.toml").is_file())
        && let Ok(inside) = path.strip_prefix(root)
    {
        return inside.display().to_string();
    }
    let components: Vec<_> = path.components().collect();
    if let Some(src) = components.iter().rposition(|c| c.as_os_str() == "src") {
        return components[src..]
            .iter()
            .collect::<std::path::PathBuf>()
            .display()
            .to_string();
    }
    file.to_owned()
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;

    fn sqlite_error(code: i32, message: &str) -> migrate_core::BoxError {
        Box::new(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some(message.to_owned()),
        ))
    }

    /// The command's own message about a database is shown as it is, with its causes,
    /// not under the generic advice about reaching a database.
    #[test]
    fn an_own_message_is_shown_as_it_is() {
        let error = Error::database(
            "open the database",
            Box::new(Own(
                "the database a.db does not exist; check the path".into()
            )),
        );
        assert_eq!(
            render(&error),
            ["the database a.db does not exist; check the path"]
        );
        let error = Error::database(
            "open the database",
            Box::new(Own(Box::new(Error::database(
                "read",
                "disk on fire".into(),
            )))),
        );
        let lines = render(&error);
        assert!(lines[0].starts_with("could not read; "), "{lines:?}");
        assert_eq!(lines[1], "  caused by: disk on fire");
    }

    /// Read-only file or folder, disk full, a write refused, locked: SQLite's message,
    /// the cause and what to do come first, then the migration.
    #[test]
    fn the_database_cause_comes_first() {
        for (code, message, hint) in [
            (
                rusqlite::ffi::SQLITE_READONLY,
                "attempt to write a readonly database",
                "the database file is read-only",
            ),
            (
                rusqlite::ffi::SQLITE_READONLY_DIRECTORY,
                "attempt to write a readonly database",
                "the database's folder is read-only",
            ),
            (
                rusqlite::ffi::SQLITE_FULL,
                "database or disk is full",
                "the disk is full; free some space",
            ),
            (
                rusqlite::ffi::SQLITE_IOERR_WRITE,
                "disk I/O error",
                "the file system refused to write",
            ),
            (
                rusqlite::ffi::SQLITE_BUSY,
                "database is locked",
                "pass `--lock-timeout` to wait longer",
            ),
        ] {
            let error = Error::MigrationFailed {
                version: 3,
                description: "Add metadata",
                file: "src/migrations/m0003_add_metadata.rs",
                direction: Direction::Up,
                batch: false,
                source: sqlite_error(code, message),
            };
            let lines = render(&error);
            assert!(
                lines[0].starts_with(message) && lines[0].contains(hint),
                "{lines:?}"
            );
            assert!(
                lines[1].contains("migration 3 \"Add metadata\""),
                "{lines:?}"
            );
            assert!(!lines[0].contains("fix it"), "{lines:?}");

            let error = Error::Database {
                action: "take the write lock".to_owned(),
                source: sqlite_error(code, message),
            };
            let lines = render(&error);
            assert!(lines[0].starts_with(message), "{lines:?}");
            assert!(lines[1].contains("take the write lock"), "{lines:?}");
        }
        // A mistake in the migration's SQL is the migration's: it leads.
        let error = Error::MigrationFailed {
            version: 3,
            description: "Add metadata",
            file: "src/migrations/m0003_add_metadata.rs",
            direction: Direction::Up,
            batch: false,
            source: sqlite_error(rusqlite::ffi::SQLITE_ERROR, "no such table: x"),
        };
        assert!(render(&error)[0].starts_with("migration 3"));
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

    /// The condition's error leads, then the migration, its file and the condition; a write
    /// refused because the condition runs read-only says where the write belongs.
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
        let lines = render(&failed(sqlite_error(
            rusqlite::ffi::SQLITE_READONLY,
            "attempt to write a readonly database",
        )));
        assert_eq!(
            lines[0], "attempt to write a readonly database",
            "{lines:?}"
        );
        assert!(
            lines[1].contains("a condition only reads the database"),
            "{lines:?}"
        );
        assert!(!lines[0].contains("file is read-only"), "{lines:?}");
    }

    #[test]
    fn files_relative_to_their_crate() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        let file = dir.path().join("src/migrations/m0001_a.rs");
        assert_eq!(
            relative(file.to_str().unwrap()),
            "src/migrations/m0001_a.rs"
        );
        // Built on another machine: from `src` on.
        assert_eq!(
            relative("/nonexistent/home/ci/src/app/src/migrations/m0001_a.rs"),
            "src/migrations/m0001_a.rs"
        );
        assert_eq!(relative("src/m0001_a.rs"), "src/m0001_a.rs");
        assert_eq!(
            relative("/nonexistent/m0001_a.rs"),
            "/nonexistent/m0001_a.rs"
        );
    }
}
