//! The one error type of the core crate: the facts in fields, the way out as a
//! [`Remedy`] (`remedy`), worded here for the API.

mod remedy;

use std::borrow::Cow;

use crate::direction::Direction;
use crate::migration::BoxError;
use crate::registry::RegisteredMigration;

pub use remedy::Remedy;
pub(crate) use remedy::one_of_each;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// The migration an error is about: its version, description and file.
///
/// `Display` gives `migration 3 "Add email" (src/m3.rs)`, without the file when it is
/// unknown (a migration the history records but this program does not contain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationRef {
    /// The migration's version.
    pub version: u64,
    /// Its description (as the history recorded it, for one this program lacks).
    pub description: Cow<'static, str>,
    /// The file that defines it; `""` when this program does not contain it.
    pub file: &'static str,
}

impl MigrationRef {
    /// The migration `version` with `description`, defined in `file`.
    pub fn new(
        version: u64,
        description: impl Into<Cow<'static, str>>,
        file: &'static str,
    ) -> Self {
        MigrationRef {
            version,
            description: description.into(),
            file,
        }
    }
}

impl MigrationRef {
    /// The registered migration `m`.
    pub(crate) fn of(m: &RegisteredMigration) -> Self {
        MigrationRef::new(m.version(), m.description(), m.file())
    }
}

impl core::fmt::Display for MigrationRef {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "migration {} {:?}", self.version, self.description)?;
        if !self.file.is_empty() {
            write!(f, " ({})", self.file)?;
        }
        Ok(())
    }
}

/// A pending migration limited to environments, for [`Error::EnvironmentRequired`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentLimited {
    /// The migration.
    pub migration: MigrationRef,
    /// The environments it is limited to (`environments = [..]`).
    pub environments: &'static [&'static str],
}

/// Everything that can stop a migration run. Each variant names the migration it is
/// about (version, description, file); its message is the fact and one line of what to
/// do ([`Error::remedy`], in the API's words); when a run is refused before it starts,
/// nothing has been written. docs/errors.md has each message with what it means.
///
/// `Debug` prints the same message as `Display`, followed by its causes, so that a
/// `main` returning `Result<(), Error>` shows what to do (Rust prints `Error: {:?}`);
/// `{:#?}` prints the structured form, the variant and its fields.
#[non_exhaustive]
pub enum Error {
    /// Discovery found no migration (of the manager's set) in this program: the module or
    /// crate that defines them is not compiled, or not linked into it.
    NoMigrations {
        /// The set the manager works on; `""` for the default set.
        set: String,
        /// The sets that do have migrations in this program (`""` for the default set).
        sets: Vec<&'static str>,
    },

    /// Two registered migrations have the same version.
    DuplicateVersion {
        /// The set both migrations belong to; `""` for the default set.
        set: &'static str,
        /// The shared version.
        version: u64,
        /// The type of the first migration.
        first_type: &'static str,
        /// The file that defines the first migration.
        first_file: &'static str,
        /// The line of the first migration.
        first_line: u32,
        /// The type of the second migration.
        second_type: &'static str,
        /// The file that defines the second migration.
        second_file: &'static str,
        /// The line of the second migration.
        second_line: u32,
    },

    /// A migration's `after = [..]` names a version that no migration of its set in this
    /// program has.
    UnknownDependency {
        /// The set of the migration; `""` for the default set.
        set: &'static str,
        /// The migration with the dependency.
        migration: MigrationRef,
        /// The line of its struct.
        line: u32,
        /// The version it depends on.
        dependency: u64,
    },

    /// A migration's `after = [..]` names its own version or a later one. The attribute
    /// refuses this at compile time; discovery checks it again, so the migrations the
    /// planner orders never have a cycle.
    DependencyNotEarlier {
        /// The migration with the dependency.
        migration: MigrationRef,
        /// The line of its struct.
        line: u32,
        /// The version it depends on.
        dependency: u64,
    },

    /// A run would apply migrations limited to environments (`environments = [..]`), and
    /// the application named none.
    EnvironmentRequired {
        /// Each such pending migration, with its environments.
        migrations: Vec<EnvironmentLimited>,
    },

    /// A migration's condition (`when = ..`) returned an error or panicked; the
    /// migration neither ran nor was recorded.
    ConditionFailed {
        /// The migration.
        migration: MigrationRef,
        /// The predicate's path, as the attribute names it.
        condition: &'static str,
        /// What the condition returned (or the panic's message).
        source: BoxError,
    },

    /// The database records a migration this program does not contain.
    UnknownApplied {
        /// The lowest unknown version in the history, as the history recorded it (no
        /// file: the program does not contain it).
        migration: MigrationRef,
        /// Its type name as the history recorded it.
        type_name: String,
        /// How many other unknown versions the history holds.
        others: usize,
    },

    /// The requested target version is not a known migration.
    UnknownTarget {
        /// The requested version.
        version: u64,
        /// The latest known version, 0 when there is none.
        latest: u64,
    },

    /// Reaching the target would revert a migration that has no `down`.
    Irreversible {
        /// The irreversible migration.
        migration: MigrationRef,
        /// The requested target.
        target: u64,
    },

    /// A pending migration is older than one already applied, and an applied migration
    /// needs it: applying it now would run it after a migration that was written to run
    /// after it. A migration that declares its dependencies (`after = [..]`) and that no
    /// applied migration needs is applied out of order without this refusal.
    OutOfOrder {
        /// The pending migration.
        migration: MigrationRef,
        /// The highest version already applied.
        highest_applied: u64,
        /// The lowest applied version that needs the pending one.
        needed_by: u64,
        /// Whether that migration declares its dependencies (`after = [..]`, which then
        /// names this one); when it does not, it needs every earlier migration.
        needed_by_declares: bool,
    },

    /// The history records a migration as changed since it was applied: its source
    /// checksum differs from the recorded one.
    Modified {
        /// The migration.
        migration: MigrationRef,
        /// The checksum recorded when it was applied.
        recorded: String,
        /// The checksum of the source now.
        current: String,
    },

    /// A migration that runs outside a transaction (`transaction = false`) started and
    /// did not finish: it failed or its process died partway.
    Incomplete {
        /// The migration, its description as the history recorded it; no file when this
        /// program does not contain it.
        migration: MigrationRef,
        /// When it was started, in UTC.
        started_at: String,
        /// Whether it was being applied or reverted.
        direction: Direction,
    },

    /// A migration of another set was given to a manager.
    WrongSet {
        /// The migration.
        migration: MigrationRef,
        /// Its set.
        set: &'static str,
        /// The manager's set.
        expected: String,
    },

    /// An all-or-nothing run met a migration that cannot run inside a transaction.
    NotTransactional {
        /// The migration.
        migration: MigrationRef,
    },

    /// `baseline` was asked of a database that already has a history: it adopts only a
    /// database migrate has not migrated yet.
    BaselineWithHistory {
        /// The requested baseline version.
        version: u64,
        /// How many migrations the history holds.
        applied: usize,
        /// The highest applied version.
        highest: u64,
    },

    /// A run restricted to one direction would have to go the other way (see
    /// [`PlanOptions::only`](crate::planner::PlanOptions::only)), as decided under the write lock.
    WrongDirection {
        /// The migration the plan would move the other way.
        migration: MigrationRef,
        /// The direction the plan would run it in.
        direction: Direction,
        /// The target version of the run.
        target: u64,
    },

    /// A migration's `up` or `down` returned an error, or recording it failed; its
    /// transaction was rolled back.
    MigrationFailed {
        /// The failing migration.
        migration: MigrationRef,
        /// Whether it was being applied or reverted.
        direction: Direction,
        /// Whether it ran in an all-or-nothing batch, which was rolled back whole.
        batch: bool,
        /// What went wrong, for example SQLite's message.
        source: BoxError,
    },

    /// A migration that runs outside a transaction (`transaction = false`) failed: what it
    /// did before the failure stays, and the history marks it incomplete.
    FailedOutsideTransaction {
        /// The failing migration.
        migration: MigrationRef,
        /// Whether it was being applied or reverted.
        direction: Direction,
        /// What went wrong.
        source: BoxError,
    },

    /// A migration's `up` or `down` panicked; its transaction was rolled back.
    MigrationPanicked {
        /// The panicking migration.
        migration: MigrationRef,
        /// Whether it was being applied or reverted.
        direction: Direction,
        /// Whether it ran in an all-or-nothing batch, which was rolled back whole.
        batch: bool,
        /// The panic message.
        message: String,
    },

    /// The file is not a database of the backend's kind.
    NotADatabase {
        /// The file.
        path: String,
        /// The kind of database expected, e.g. `SQLite`.
        kind: &'static str,
        /// The backend's error.
        source: BoxError,
    },

    /// The history table exists but was not made by migrate (or by an incompatible
    /// version of it).
    ForeignHistoryTable {
        /// The table.
        table: String,
        /// What does not fit.
        problem: String,
    },

    /// The history table is migrate's, but a row holds a value migrate never writes
    /// there (a version stored as text): the row was edited by something else.
    UnreadableHistoryRow {
        /// The table.
        table: String,
        /// What does not fit.
        problem: String,
    },

    /// Another session held the migration lock for longer than this program waits for it
    /// (PostgreSQL's advisory lock; SQLite reports its busy timeout as [`Error::Database`]).
    LockTimeout {
        /// What the lock covers: the schema, history table and set.
        scope: String,
        /// How long this program waited.
        waited: core::time::Duration,
        /// Who holds it, as the database reports it (session id, application, client,
        /// since when, what it runs), or why that is unknown.
        holder: String,
        /// How to wait longer in the API (a method), as the backend says it.
        advice: &'static str,
    },

    /// Running independent migrations at once ([`Migrator::parallel`](crate::Migrator::parallel))
    /// is not possible with this backend or this run; nothing was written.
    ParallelUnsupported {
        /// Why: the backend has one writer, the run is one transaction, ...
        reason: String,
    },

    /// A database server could not be reached, refused the session, or was never asked
    /// because the connection settings cannot be used (`Postgres::connect`); nothing was
    /// written. The advice is the backend's, for what went wrong: the server out of
    /// reach, the login refused (user, password, `pg_hba.conf`), the database missing.
    Connect {
        /// What the backend was doing, naming the server (host, port, database, user;
        /// never a password).
        action: String,
        /// What to check, for this backend and this failure.
        advice: &'static str,
        /// The driver's error.
        source: BoxError,
    },

    /// The database could not do what the manager asked of it outside any migration's
    /// code (reading the history, taking the write lock).
    Database {
        /// What the manager was doing.
        action: String,
        /// The backend's error.
        source: BoxError,
    },
}

impl Error {
    /// What to do about this error, as data: [`Remedy`]'s `Display` words it for the API,
    /// a front end words it for its own commands.
    ///
    /// ```
    /// use migrate_core::{Error, Remedy};
    ///
    /// let error = Error::UnknownTarget { version: 9, latest: 3 };
    /// assert_eq!(error.remedy(), Remedy::ChooseKnownTarget { latest: 3 });
    /// ```
    pub fn remedy(&self) -> Remedy {
        match self {
            Error::NoMigrations { .. } => Remedy::LinkMigrations,
            Error::DuplicateVersion { .. } => Remedy::ChangeVersion,
            Error::UnknownDependency { dependency, .. } => Remedy::FixDependency {
                dependency: *dependency,
            },
            Error::DependencyNotEarlier { dependency, .. } => Remedy::DropLaterDependency {
                dependency: *dependency,
            },
            Error::EnvironmentRequired { migrations } => Remedy::NameEnvironment {
                example: migrations
                    .first()
                    .and_then(|m| m.environments.first())
                    .copied()
                    .unwrap_or("dev"),
            },
            Error::ConditionFailed { .. } => Remedy::FixCondition,
            Error::UnknownApplied { .. } => Remedy::RunTheBuildThatApplied,
            Error::UnknownTarget { latest, .. } => Remedy::ChooseKnownTarget { latest: *latest },
            Error::Irreversible { migration, .. } => Remedy::DownNoFurtherThan {
                version: migration.version,
            },
            Error::OutOfOrder {
                highest_applied,
                needed_by,
                needed_by_declares,
                ..
            } => Remedy::AllowOutOfOrder {
                highest_applied: *highest_applied,
                could_declare: (!needed_by_declares).then_some(*needed_by),
            },
            Error::Modified { .. } => Remedy::AcceptChanges,
            Error::Incomplete {
                migration,
                direction,
                ..
            } => Remedy::ClearIncomplete {
                version: migration.version,
                direction: *direction,
                or_wait: true,
            },
            Error::WrongSet { set, .. } => Remedy::UseSet { set },
            Error::NotTransactional { .. } => Remedy::RunOnItsOwn,
            Error::BaselineWithHistory { .. } => Remedy::ApplyPending,
            Error::WrongDirection {
                direction, target, ..
            } => Remedy::OtherDirection {
                direction: *direction,
                target: *target,
            },
            Error::MigrationFailed { .. } | Error::MigrationPanicked { .. } => Remedy::FixMigration,
            Error::FailedOutsideTransaction {
                migration,
                direction,
                ..
            } => Remedy::RepairByHand {
                version: migration.version,
                direction: *direction,
            },
            Error::NotADatabase { .. } => Remedy::CheckPath,
            Error::ForeignHistoryTable { .. } => Remedy::OtherHistoryTable,
            Error::UnreadableHistoryRow { .. } => Remedy::RepairHistoryRow,
            Error::LockTimeout { advice, .. } => Remedy::WaitForLock { advice },
            Error::ParallelUnsupported { .. } => Remedy::RunSequentially,
            Error::Connect { advice, .. } => Remedy::CheckConnection { advice },
            Error::Database { .. } => Remedy::CheckDatabase,
        }
    }

    /// The fact, without what to do: the message is `{fact}; {remedy}`. A front end that
    /// words the [`remedy`](Error::remedy) its own way writes this first.
    ///
    /// ```
    /// let error = migrate_core::Error::UnknownTarget { version: 9, latest: 3 };
    /// assert_eq!(error.fact().to_string(), "there is no migration 9 to migrate to");
    /// assert_eq!(error.to_string(), format!("{}; {}", error.fact(), error.remedy()));
    /// ```
    pub fn fact(&self) -> Fact<'_> {
        Fact {
            error: self,
            file: &|file| Cow::Borrowed(file),
        }
    }

    /// [`fact`](Error::fact), with each file the message names shown as `file` gives it
    /// (the command line shows them relative to their crate).
    pub fn fact_with_files<'a>(&'a self, file: &'a dyn Fn(&str) -> Cow<'_, str>) -> Fact<'a> {
        Fact { error: self, file }
    }

    /// A backend's error as [`Error::Database`], unless the backend already said what is
    /// wrong with one of the other variants (boxed), which passes through as it is.
    pub fn database(action: impl Into<String>, source: BoxError) -> Error {
        match source.downcast::<Error>() {
            Ok(error) => *error,
            Err(source) => Error::Database {
                action: action.into(),
                source,
            },
        }
    }

    /// The migration this error is about: the one that failed, was refused, or stands in
    /// the way (the first, when several do); `None` for an error about the database or
    /// the program as a whole (no migrations, a lock not granted, an unreadable file).
    ///
    /// ```
    /// let error = migrate_core::Error::UnknownTarget { version: 9, latest: 3 };
    /// assert_eq!(error.migration(), None);
    /// ```
    pub fn migration(&self) -> Option<&MigrationRef> {
        match self {
            Error::UnknownDependency { migration, .. }
            | Error::DependencyNotEarlier { migration, .. }
            | Error::ConditionFailed { migration, .. }
            | Error::UnknownApplied { migration, .. }
            | Error::Irreversible { migration, .. }
            | Error::OutOfOrder { migration, .. }
            | Error::Modified { migration, .. }
            | Error::Incomplete { migration, .. }
            | Error::WrongSet { migration, .. }
            | Error::NotTransactional { migration }
            | Error::WrongDirection { migration, .. }
            | Error::MigrationFailed { migration, .. }
            | Error::FailedOutsideTransaction { migration, .. }
            | Error::MigrationPanicked { migration, .. } => Some(migration),
            Error::EnvironmentRequired { migrations } => migrations.first().map(|m| &m.migration),
            Error::NoMigrations { .. }
            | Error::DuplicateVersion { .. }
            | Error::UnknownTarget { .. }
            | Error::BaselineWithHistory { .. }
            | Error::NotADatabase { .. }
            | Error::ForeignHistoryTable { .. }
            | Error::UnreadableHistoryRow { .. }
            | Error::LockTimeout { .. }
            | Error::ParallelUnsupported { .. }
            | Error::Connect { .. }
            | Error::Database { .. } => None,
        }
    }
}

/// The fact of an [`Error`], as [`Error::fact`] gives it.
pub struct Fact<'a> {
    error: &'a Error,
    file: &'a dyn Fn(&str) -> Cow<'_, str>,
}

impl Fact<'_> {
    /// The migration, its file as `self.file` shows it.
    fn migration(&self, m: &MigrationRef) -> String {
        let mut text = format!("migration {} {:?}", m.version, m.description);
        if !m.file.is_empty() {
            text.push_str(&format!(" ({})", (self.file)(m.file)));
        }
        text
    }

    /// The migration with the line of its struct: `migration 3 "Add email" (src/m3.rs:9)`.
    fn migration_at(&self, m: &MigrationRef, line: u32) -> String {
        format!(
            "migration {} {:?} ({}:{line})",
            m.version,
            m.description,
            (self.file)(m.file)
        )
    }
}

impl core::fmt::Display for Fact<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let file = self.file;
        match self.error {
            Error::NoMigrations { set, sets } => write!(
                f,
                "no migrations found in this program{}{}: the module or crate that defines \
                 them is not compiled and linked into it",
                set_note(set),
                other_sets_note(sets)
            ),
            Error::DuplicateVersion {
                set,
                version,
                first_type,
                first_file,
                first_line,
                second_type,
                second_file,
                second_line,
            } => write!(
                f,
                "migration version {version}{} is used twice, by `{first_type}` \
                 ({}:{first_line}) and `{second_type}` ({}:{second_line})",
                set_note(set),
                file(first_file),
                file(second_file)
            ),
            Error::UnknownDependency {
                set,
                migration,
                line,
                dependency,
            } => write!(
                f,
                "{} depends on version {dependency} (`after = [..]` in its attribute), but no \
                 migration{} in this program has version {dependency}",
                self.migration_at(migration, *line),
                set_note(set)
            ),
            Error::DependencyNotEarlier {
                migration,
                line,
                dependency,
            } => write!(
                f,
                "{} depends on version {dependency}, which is not earlier: a migration needs \
                 only earlier ones",
                self.migration_at(migration, *line)
            ),
            Error::EnvironmentRequired { migrations } => {
                let listed: Vec<String> = migrations
                    .iter()
                    .map(|m| {
                        let names: Vec<String> =
                            m.environments.iter().map(|e| format!("{e:?}")).collect();
                        let mut one =
                            format!("{} {:?}", m.migration.version, m.migration.description);
                        if !m.migration.file.is_empty() {
                            one.push_str(&format!(" ({};", file(m.migration.file)));
                        } else {
                            one.push_str(" (");
                        }
                        one.push_str(&format!(" environments {})", names.join(", ")));
                        one.replace("( ", "(")
                    })
                    .collect();
                let (list, verb, pronoun) = if listed.len() == 1 {
                    (format!("migration {}", listed[0]), "is", "it")
                } else {
                    (format!("migrations {}", listed.join(", ")), "are", "they")
                };
                write!(
                    f,
                    "{list} {verb} limited to environments, and no environment was given, so \
                     whether {pronoun} should run is unknown; nothing was written"
                )
            }
            Error::ConditionFailed {
                migration,
                condition,
                ..
            } => write!(
                f,
                "the condition `{condition}` of {} failed, so the migration neither ran nor \
                 was recorded as skipped",
                self.migration(migration)
            ),
            Error::UnknownApplied {
                migration,
                type_name,
                others,
            } => write!(
                f,
                "the database has migration {} {:?} (`{type_name}`) applied, but this program \
                 does not contain it{}",
                migration.version,
                migration.description,
                others_note(*others)
            ),
            Error::UnknownTarget { version, .. } => {
                write!(f, "there is no migration {version} to migrate to")
            }
            Error::Irreversible { migration, target } => write!(
                f,
                "cannot migrate down to {target}: {} is irreversible; nothing was written",
                self.migration(migration)
            ),
            Error::OutOfOrder {
                migration,
                highest_applied,
                needed_by,
                needed_by_declares,
            } => write!(
                f,
                "{} is pending but the database already has migration {highest_applied} \
                 applied, and applied migration {needed_by} needs it ({}); nothing was \
                 written",
                self.migration(migration),
                if *needed_by_declares {
                    format!("its `after = [..]` names {}", migration.version)
                } else {
                    format!(
                        "migration {needed_by} declares no `after = [..]`, so it needs every \
                         earlier migration"
                    )
                }
            ),
            Error::Modified {
                migration,
                recorded,
                current,
            } => write!(
                f,
                "{} was changed after it was applied (checksum {recorded} when applied, \
                 {current} now); nothing was written",
                self.migration(migration)
            ),
            Error::Incomplete {
                migration,
                started_at,
                direction,
            } => write!(
                f,
                "{} runs outside a transaction and did not finish migrating {direction} \
                 (started {started_at}); part of it may be in the database",
                self.migration(migration)
            ),
            Error::WrongSet {
                migration,
                set,
                expected,
            } => write!(
                f,
                "{} belongs to set {set:?} but this manager works on set {expected:?}",
                self.migration(migration)
            ),
            Error::NotTransactional { migration } => write!(
                f,
                "{} runs outside a transaction (`transaction = false`), so it cannot be part \
                 of an all-or-nothing run or a dry run",
                self.migration(migration)
            ),
            Error::BaselineWithHistory {
                version,
                applied,
                highest,
            } => write!(
                f,
                "cannot baseline at version {version}: the database already has a migration \
                 history ({applied} applied, the highest {highest}), and a baseline only \
                 adopts a database without one; nothing was written"
            ),
            Error::WrongDirection {
                migration,
                direction,
                target,
            } => write!(
                f,
                "going to version {target} would {} {}, and this run only {}; nothing was \
                 written",
                match direction {
                    Direction::Up => "apply",
                    Direction::Down => "revert",
                },
                self.migration(migration),
                match direction {
                    Direction::Up => "reverts",
                    Direction::Down => "applies",
                }
            ),
            Error::MigrationFailed {
                migration,
                direction,
                batch,
                ..
            } => write!(
                f,
                "{} failed while migrating {direction} and was rolled back{}",
                self.migration(migration),
                after_failure(*batch)
            ),
            Error::FailedOutsideTransaction {
                migration,
                direction,
                ..
            } => write!(
                f,
                "{} runs outside a transaction and failed partway while migrating \
                 {direction}: what it did before the failure stays in the database and the \
                 history marks it incomplete",
                self.migration(migration)
            ),
            Error::MigrationPanicked {
                migration,
                direction,
                batch,
                message,
            } => write!(
                f,
                "{} panicked while migrating {direction}: {message}; it was rolled back{}",
                self.migration(migration),
                after_failure(*batch)
            ),
            Error::NotADatabase { path, kind, .. } => write!(
                f,
                "{path} is not a {kind} database, or it is corrupted; nothing was written"
            ),
            Error::ForeignHistoryTable { table, problem } => write!(
                f,
                "the table {table:?} exists but is not a migrate history table: {problem}; it \
                 belongs to something else; nothing was written"
            ),
            Error::UnreadableHistoryRow { table, problem } => write!(
                f,
                "the history table {table:?} has a row migrate cannot read: {problem}; the \
                 table is migrate's but that row was written by something else (rows whose \
                 version is not an integer: `SELECT * FROM {table} WHERE typeof(version) <> \
                 'integer'`); nothing was written"
            ),
            Error::LockTimeout {
                scope,
                waited,
                holder,
                ..
            } => write!(
                f,
                "another session holds the migration lock of {scope} and did not release it \
                 within {waited:?}: {holder}; nothing was written"
            ),
            Error::ParallelUnsupported { reason } => write!(
                f,
                "independent migrations cannot run at once here: {reason}; nothing was written"
            ),
            Error::Connect { action, .. } => {
                write!(f, "could not {action}; nothing was written")
            }
            Error::Database { action, .. } => write!(f, "could not {action}"),
        }
    }
}

impl core::fmt::Display for Error {
    /// The fact, then what to do in the API's words: `{fact}; {remedy}`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}; {}", self.fact(), self.remedy())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::ConditionFailed { source, .. }
            | Error::MigrationFailed { source, .. }
            | Error::FailedOutsideTransaction { source, .. }
            | Error::NotADatabase { source, .. }
            | Error::Connect { source, .. }
            | Error::Database { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

fn others_note(others: usize) -> String {
    match others {
        0 => String::new(),
        1 => " (nor 1 other applied migration)".to_owned(),
        n => format!(" (nor {n} other applied migrations)"),
    }
}

fn other_sets_note(sets: &[&str]) -> String {
    if sets.is_empty() {
        return String::new();
    }
    let names: Vec<String> = sets
        .iter()
        .map(|set| {
            if set.is_empty() {
                "the default set (`Migrator::discovered()`)".to_owned()
            } else {
                format!("set {set:?} (`Migrator::discovered_set({set:?})`)")
            }
        })
        .collect();
    format!(
        " (the program does have migrations in {}: check the set's name)",
        names.join(", ")
    )
}

fn set_note(set: &str) -> String {
    if set.is_empty() {
        String::new()
    } else {
        format!(" in set {set:?}")
    }
}

fn after_failure(batch: bool) -> &'static str {
    if batch {
        " with the whole all-or-nothing batch, so none of its migrations is applied"
    } else {
        "; migrations before it stay applied"
    }
}

impl core::fmt::Debug for Error {
    /// The message and its causes (`Caused by:`), as `main` shows them; `{:#?}` gives the
    /// variant and its fields.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if f.alternate() {
            return self.structured(f);
        }
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        if source.is_some() {
            f.write_str("\n\nCaused by:")?;
        }
        while let Some(cause) = source {
            write!(f, "\n    {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// `f.debug_struct(VARIANT).field(..)...` for every variant, each with all its fields:
/// the patterns have no `..`, so a new variant or field fails to compile until it is
/// listed here.
macro_rules! structured {
    ($self:expr, $f:expr; $($variant:ident { $($field:ident),* $(,)? }),* $(,)?) => {
        match $self {
            $(Error::$variant { $($field),* } => {
                $f.debug_struct(stringify!($variant))
                    $(.field(stringify!($field), $field))*
                    .finish()
            })*
        }
    };
}

impl Error {
    /// The derived-style `Debug` form: the variant and its fields.
    fn structured(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        structured!(self, f;
            NoMigrations { set, sets },
            DuplicateVersion {
                set, version, first_type, first_file, first_line, second_type, second_file,
                second_line
            },
            UnknownDependency { set, migration, line, dependency },
            EnvironmentRequired { migrations },
            ConditionFailed { migration, condition, source },
            DependencyNotEarlier { migration, line, dependency },
            UnknownApplied { migration, type_name, others },
            UnknownTarget { version, latest },
            Irreversible { migration, target },
            OutOfOrder { migration, highest_applied, needed_by, needed_by_declares },
            Modified { migration, recorded, current },
            Incomplete { migration, started_at, direction },
            WrongSet { migration, set, expected },
            NotTransactional { migration },
            BaselineWithHistory { version, applied, highest },
            WrongDirection { migration, direction, target },
            MigrationFailed { migration, direction, batch, source },
            FailedOutsideTransaction { migration, direction, source },
            MigrationPanicked { migration, direction, batch, message },
            NotADatabase { path, kind, source },
            ForeignHistoryTable { table, problem },
            UnreadableHistoryRow { table, problem },
            LockTimeout { scope, waited, holder, advice },
            ParallelUnsupported { reason },
            Connect { action, advice, source },
            Database { action, source },
        )
    }
}

/// The message of a caught panic (of migration code, a hook or a condition).
pub(crate) fn panic_message(panic: &(dyn core::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-text payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Error {
        let inner: BoxError = "no such table: users".into();
        Error::MigrationFailed {
            migration: MigrationRef::new(2, "Add email", "src/m2.rs"),
            direction: Direction::Up,
            batch: false,
            source: inner,
        }
    }

    /// `main` returning `Err(e)` prints `Error: {e:?}`: that must be the message, with
    /// what to do, not the variant's fields.
    #[test]
    fn debug_is_the_message_and_its_causes() {
        let error = failed();
        assert_eq!(
            format!("{error:?}"),
            format!("{error}\n\nCaused by:\n    no such table: users")
        );
        let no_cause = Error::UnknownTarget {
            version: 9,
            latest: 3,
        };
        assert_eq!(format!("{no_cause:?}"), no_cause.to_string());
    }

    #[test]
    fn alternate_debug_is_the_structured_form() {
        let text = format!("{:#?}", failed());
        assert!(text.starts_with("MigrationFailed {\n"), "{text}");
        for field in [
            "version: 2,",
            "description: \"Add email\",",
            "file: \"src/m2.rs\",",
            "batch: false,",
            "source: \"no such table: users\",",
        ] {
            assert!(text.contains(field), "no {field:?} in {text}");
        }
    }
}
