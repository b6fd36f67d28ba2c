//! The one error type of the core crate.

use crate::direction::Direction;
use crate::migration::BoxError;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Everything that can stop a migration run. Each variant names the migration it is
/// about (version, description, file) and its message says what to do; when a run is
/// refused before it starts, nothing has been written.
///
/// `Debug` prints the same message as `Display`, followed by its causes, so that a
/// `main` returning `Result<(), Error>` shows what to do (Rust prints `Error: {:?}`);
/// `{:#?}` prints the structured form, the variant and its fields.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Discovery found no migration (of the manager's set) in this program: the module or
    /// crate that defines them is not compiled, or not linked into it.
    #[error(
        "no migrations found in this program{in_set}: a migration is in the program only if \
         the module or crate that defines it is compiled and linked into it; add the one line \
         that does it to the binary's main.rs: `mod migrations;` for migrations in a module of \
         this crate, or `use my_lib as _;` naming the library crate that holds them (this \
         package's own src/lib.rs too), or let the build name every dependency that holds \
         migrations (`migrate_build::link_migration_crates()` in build.rs and \
         `link_migration_crates!();` in main.rs){other_sets}; a program with no migrations \
         yet builds an empty manager with `Migrator::new()` (see docs/discovery.md)",
        in_set = set_note(set),
        other_sets = other_sets_note(sets)
    )]
    NoMigrations {
        /// The set the manager works on; `""` for the default set.
        set: String,
        /// The sets that do have migrations in this program (`""` for the default set).
        sets: Vec<&'static str>,
    },

    /// Two registered migrations have the same version.
    #[error(
        "migration version {version}{in_set} is used twice, by `{first_type}` \
         ({first_file}:{first_line}) and `{second_type}` ({second_file}:{second_line}); give one \
         of them a version no other migration has",
        in_set = set_note(set)
    )]
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
    #[error(
        "migration {version} {description:?} ({file}:{line}) depends on version {dependency} \
         (`after = [..]` in its attribute), but no migration{in_set} in this program has version \
         {dependency}; correct the version in `after`, or link the crate that defines migration \
         {dependency} into this program (see docs/discovery.md)",
        in_set = set_note(set)
    )]
    UnknownDependency {
        /// The set of the migration; `""` for the default set.
        set: &'static str,
        /// The version of the migration with the dependency.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// The line of its struct.
        line: u32,
        /// The version it depends on.
        dependency: u64,
    },

    /// A migration's `after = [..]` names its own version or a later one. The attribute
    /// refuses this at compile time; discovery checks it again, so the migrations the
    /// planner orders never have a cycle.
    #[error(
        "migration {version} {description:?} ({file}:{line}) depends on version {dependency}, \
         which is not earlier: a migration needs only earlier ones; remove {dependency} from \
         `after = [..]`, or give the migration a version above {dependency}"
    )]
    DependencyNotEarlier {
        /// The version of the migration with the dependency.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// The line of its struct.
        line: u32,
        /// The version it depends on.
        dependency: u64,
    },

    /// A run would apply migrations limited to environments (`environments = [..]`), and
    /// the application named none.
    #[error(
        "{list} {verb} limited to environments, and no environment was given, so whether \
         {pronoun} should run is unknown; name the environment with \
         `Migrator::environment(\"..\")` and run again; nothing was written",
        list = environment_list(migrations),
        verb = if migrations.len() == 1 { "is" } else { "are" },
        pronoun = if migrations.len() == 1 { "it" } else { "they" }
    )]
    EnvironmentRequired {
        /// Each such pending migration: version, description, file, and its environments.
        migrations: Vec<(u64, &'static str, &'static str, &'static [&'static str])>,
    },

    /// A migration's condition (`when = ..`) returned an error or panicked; the
    /// migration neither ran nor was recorded.
    #[error(
        "the condition `{condition}` of migration {version} {description:?} ({file}) failed, \
         so the migration neither ran nor was recorded as skipped; fix the condition and run \
         again"
    )]
    ConditionFailed {
        /// The migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// The predicate's path, as the attribute names it.
        condition: &'static str,
        /// What the condition returned (or the panic's message).
        #[source]
        source: BoxError,
    },

    /// The database records a migration this program does not contain.
    #[error(
        "the database has migration {version} {description:?} (`{type_name}`) applied, but this \
         program does not contain it{more}; run the build that applied it, or link the crate \
         that defines it into this program (see docs/discovery.md)",
        more = others_note(*.others)
    )]
    UnknownApplied {
        /// The lowest unknown version in the history.
        version: u64,
        /// Its description as the history recorded it.
        description: String,
        /// Its type name as the history recorded it.
        type_name: String,
        /// How many other unknown versions the history holds.
        others: usize,
    },

    /// The requested target version is not a known migration.
    #[error(
        "there is no migration {version} to migrate to; choose 0 (before the first migration) \
         or a version this program contains (the latest is {latest})"
    )]
    UnknownTarget {
        /// The requested version.
        version: u64,
        /// The latest known version, 0 when there is none.
        latest: u64,
    },

    /// Reaching the target would revert a migration that has no `down`.
    #[error(
        "cannot migrate down to {target}: migration {version} {description:?} ({file}) is \
         irreversible; choose a target of {version} or above, or restore from a backup"
    )]
    Irreversible {
        /// The irreversible migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// The requested target.
        target: u64,
    },

    /// A pending migration is older than one already applied, and an applied migration
    /// needs it: applying it now would run it after a migration that was written to run
    /// after it. A migration that declares its dependencies (`after = [..]`) and that no
    /// applied migration needs is applied out of order without this refusal.
    #[error(
        "migration {version} {description:?} ({file}) is pending but the database already has \
         migration {highest_applied} applied, and applied migration {needed_by} needs it \
         ({why}); give it a version above {highest_applied}, {declare}or allow out-of-order \
         migrations with `Migrator::allow_out_of_order(true)`",
        why = needed_by_reason(*.needed_by, *.needed_by_declares, *.version),
        declare = declare_advice(*.needed_by, *.needed_by_declares)
    )]
    OutOfOrder {
        /// The pending migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
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
    #[error(
        "migration {version} {description:?} ({file}) was changed after it was applied (checksum \
         {recorded} when applied, {current} now); restore its applied version and write the \
         change as a new migration, or, if the change does not alter what it does, accept it \
         with `Migrator::accept_changes`"
    )]
    Modified {
        /// The migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// The checksum recorded when it was applied.
        recorded: String,
        /// The checksum of the source now.
        current: String,
    },

    /// A migration that runs outside a transaction (`transaction = false`) started and
    /// did not finish: it failed or its process died partway.
    #[error(
        "migration {version} {description:?} ({file}) runs outside a transaction and did not \
         finish migrating {direction} (started {started_at}); part of it may be in the \
         database: check by hand and finish or undo its changes, then \
         `Migrator::clear_incomplete({version})` ({after}), or wait if another process is \
         running it now",
        after = after_clear(*.direction)
    )]
    Incomplete {
        /// The migration's version.
        version: u64,
        /// Its description.
        description: String,
        /// The file that defines it, when this program contains it.
        file: &'static str,
        /// When it was started, in UTC.
        started_at: String,
        /// Whether it was being applied or reverted.
        direction: Direction,
    },

    /// A migration of another set was given to a manager.
    #[error(
        "migration {version} {description:?} ({file}) belongs to set {set:?} but this manager \
         works on set {expected:?}; use `Migrator::for_set({set:?})` for it"
    )]
    WrongSet {
        /// The migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// Its set.
        set: &'static str,
        /// The manager's set.
        expected: String,
    },

    /// An all-or-nothing run met a migration that cannot run inside a transaction.
    #[error(
        "migration {version} {description:?} ({file}) runs outside a transaction \
         (`transaction = false`), so it cannot be part of an all-or-nothing run or a dry run; \
         apply the migrations before it, then run it on its own"
    )]
    NotTransactional {
        /// The migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
    },

    /// `baseline` was asked of a database that already has a history: it adopts only a
    /// database migrate has not migrated yet.
    #[error(
        "cannot baseline at version {version}: the database already has a migration history \
         ({applied} applied, the highest {highest}); a baseline only adopts a database without \
         one, and recording migrations as applied on top of a history would hide whether they \
         ran; apply the pending migrations instead; nothing was written"
    )]
    BaselineWithHistory {
        /// The requested baseline version.
        version: u64,
        /// How many migrations the history holds.
        applied: usize,
        /// The highest applied version.
        highest: u64,
    },

    /// A run restricted to one direction would have to go the other way (see
    /// [`PlanOptions::only`](crate::PlanOptions::only)), as decided under the write lock.
    #[error(
        "going to version {target} would {verb} migration {version} {description:?} ({file}), \
         and this run only {allowed}; leave out `Migrator::only_direction` if that is what you \
         want; nothing was written",
        verb = verb(*.direction),
        allowed = allowed(*.direction)
    )]
    WrongDirection {
        /// The migration the plan would move the other way.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// The direction the plan would run it in.
        direction: Direction,
        /// The target version of the run.
        target: u64,
    },

    /// A migration's `up` or `down` returned an error, or recording it failed; its
    /// transaction was rolled back.
    #[error(
        "migration {version} {description:?} ({file}) failed while migrating {direction} and was \
         rolled back{after}; fix it and run again",
        after = after_failure(*.batch)
    )]
    MigrationFailed {
        /// The failing migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// Whether it was being applied or reverted.
        direction: Direction,
        /// Whether it ran in an all-or-nothing batch, which was rolled back whole.
        batch: bool,
        /// What went wrong, for example SQLite's message.
        #[source]
        source: BoxError,
    },

    /// A migration that runs outside a transaction (`transaction = false`) failed: what it
    /// did before the failure stays, and the history marks it incomplete.
    #[error(
        "migration {version} {description:?} ({file}) runs outside a transaction and failed \
         partway while migrating {direction}: what it did before the failure stays in the \
         database and the history marks it incomplete; check the database by hand, finish or \
         undo its changes, then `Migrator::clear_incomplete({version})` ({after}) and run \
         again",
        after = after_clear(*.direction)
    )]
    FailedOutsideTransaction {
        /// The failing migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// Whether it was being applied or reverted.
        direction: Direction,
        /// What went wrong.
        #[source]
        source: BoxError,
    },

    /// A migration's `up` or `down` panicked; its transaction was rolled back.
    #[error(
        "migration {version} {description:?} ({file}) panicked while migrating {direction}: \
         {message}; it was rolled back{after}; fix it and run again",
        after = after_failure(*.batch)
    )]
    MigrationPanicked {
        /// The panicking migration's version.
        version: u64,
        /// Its description.
        description: &'static str,
        /// The file that defines it.
        file: &'static str,
        /// Whether it was being applied or reverted.
        direction: Direction,
        /// Whether it ran in an all-or-nothing batch, which was rolled back whole.
        batch: bool,
        /// The panic message.
        message: String,
    },

    /// The file is not a database of the backend's kind.
    #[error(
        "{path} is not a {kind} database, or it is corrupted; check that the path names the \
         right file; nothing was written"
    )]
    NotADatabase {
        /// The file.
        path: String,
        /// The kind of database expected, e.g. `SQLite`.
        kind: &'static str,
        /// The backend's error.
        #[source]
        source: BoxError,
    },

    /// The history table exists but was not made by migrate (or by an incompatible
    /// version of it).
    #[error(
        "the table {table:?} exists but is not a migrate history table: {problem}; it belongs \
         to something else, so keep the history in another table (the backend's \
         `history_table(..)`, `--history-table`); nothing was written"
    )]
    ForeignHistoryTable {
        /// The table.
        table: String,
        /// What does not fit.
        problem: String,
    },

    /// The history table is migrate's, but a row holds a value migrate never writes
    /// there (a version stored as text): the row was edited by something else.
    #[error(
        "the history table {table:?} has a row migrate cannot read: {problem}; the table is \
         migrate's but that row was written by something else: correct or delete it by hand \
         (rows whose version is not an integer: `SELECT * FROM {table} WHERE \
         typeof(version) <> 'integer'`), then run again; nothing was written"
    )]
    UnreadableHistoryRow {
        /// The table.
        table: String,
        /// What does not fit.
        problem: String,
    },

    /// Another session held the migration lock for longer than this program waits for it
    /// (PostgreSQL's advisory lock; SQLite reports its busy timeout as [`Error::Database`]).
    #[error(
        "another session holds the migration lock of {scope} and did not release it within \
         {waited:?}: {holder}; let it finish (or end that session), or wait longer ({advice}), \
         then run again; nothing was written"
    )]
    LockTimeout {
        /// What the lock covers: the schema, history table and set.
        scope: String,
        /// How long this program waited.
        waited: core::time::Duration,
        /// Who holds it, as the database reports it (session id, application, client,
        /// since when, what it runs), or why that is unknown.
        holder: String,
        /// How to wait longer where the user is (a method, a flag).
        advice: &'static str,
    },

    /// Running independent migrations at once ([`Migrator::parallel`](crate::Migrator::parallel))
    /// is not possible with this backend or this run; nothing was written.
    #[error(
        "independent migrations cannot run at once here: {reason}; run without the parallel \
         option (`Migrator::parallel`); nothing was written"
    )]
    ParallelUnsupported {
        /// Why: the backend has one writer, the run is one transaction, ...
        reason: String,
    },

    /// A database server could not be reached, refused the session, or was never asked
    /// because the connection settings cannot be used (`Postgres::connect`); nothing was
    /// written. The advice is the backend's, for what went wrong: the server out of
    /// reach, the login refused (user, password, `pg_hba.conf`), the database missing.
    #[error("could not {action}: {advice}; nothing was written")]
    Connect {
        /// What the backend was doing, naming the server (host, port, database, user;
        /// never a password).
        action: String,
        /// What to check, for this backend and this failure.
        advice: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },

    /// The database could not do what the manager asked of it outside any migration's
    /// code (reading the history, taking the write lock).
    #[error(
        "could not {action}; check that the database is reachable and writable and that no \
         other process holds its write lock for too long, then run again"
    )]
    Database {
        /// What the manager was doing.
        action: String,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
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

/// `migration 9 "Seed demo users" (src/m9.rs; environments "dev")`, and so on.
fn environment_list(
    migrations: &[(u64, &'static str, &'static str, &'static [&'static str])],
) -> String {
    let one = |(version, description, file, environments): &(u64, &str, &str, &[&str])| {
        format!(
            "migration {version} {description:?} ({file}; environments {})",
            environments
                .iter()
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    match migrations {
        [only] => one(only),
        many => format!(
            "migrations {}",
            many.iter()
                .map(|m| one(m).trim_start_matches("migration ").to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Why an applied migration needs a pending one, for [`Error::OutOfOrder`].
pub fn needed_by_reason(needed_by: u64, declares: bool, version: u64) -> String {
    if declares {
        format!("its `after = [..]` names {version}")
    } else {
        format!(
            "migration {needed_by} declares no `after = [..]`, so it needs every earlier migration"
        )
    }
}

/// The way out that declaring dependencies offers, for [`Error::OutOfOrder`]: only when the
/// migration that needs the pending one declares none.
pub fn declare_advice(needed_by: u64, declares: bool) -> String {
    if declares {
        String::new()
    } else {
        format!(
            "list what migration {needed_by} needs with `after = [..]` in its attribute if it \
             does not need this one, "
        )
    }
}

fn verb(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "apply",
        Direction::Down => "revert",
    }
}

/// What a run restricted to the other direction than `direction` does.
fn allowed(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "reverts",
        Direction::Down => "applies",
    }
}

/// What `clear_incomplete` makes of a mark left while migrating `direction`.
fn after_clear(direction: Direction) -> &'static str {
    match direction {
        Direction::Up => "it is then pending, and the next run applies it again",
        Direction::Down => {
            "it is then applied, as before its down, and the next run down reverts it again"
        }
    }
}

fn after_failure(batch: bool) -> &'static str {
    if batch {
        " with the whole all-or-nothing batch, so none of its migrations is applied"
    } else {
        "; migrations before it stay applied"
    }
}

impl Error {
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
}

impl Error {
    /// The migration this error is about, as version and description: the one that
    /// failed, was refused, or stands in the way; `None` for an error about the database
    /// or the program as a whole (no migrations, a lock not granted, an unreadable file).
    ///
    /// ```
    /// let error = migrate_core::Error::UnknownTarget { version: 9, latest: 3 };
    /// assert_eq!(error.migration(), None);
    /// ```
    pub fn migration(&self) -> Option<(u64, &str)> {
        match self {
            Error::UnknownDependency {
                version,
                description,
                ..
            }
            | Error::DependencyNotEarlier {
                version,
                description,
                ..
            }
            | Error::ConditionFailed {
                version,
                description,
                ..
            }
            | Error::Irreversible {
                version,
                description,
                ..
            }
            | Error::OutOfOrder {
                version,
                description,
                ..
            }
            | Error::Modified {
                version,
                description,
                ..
            }
            | Error::WrongSet {
                version,
                description,
                ..
            }
            | Error::NotTransactional {
                version,
                description,
                ..
            }
            | Error::WrongDirection {
                version,
                description,
                ..
            }
            | Error::MigrationFailed {
                version,
                description,
                ..
            }
            | Error::FailedOutsideTransaction {
                version,
                description,
                ..
            }
            | Error::MigrationPanicked {
                version,
                description,
                ..
            } => Some((*version, *description)),
            Error::UnknownApplied {
                version,
                description,
                ..
            }
            | Error::Incomplete {
                version,
                description,
                ..
            } => Some((*version, description.as_str())),
            Error::EnvironmentRequired { migrations } => migrations
                .first()
                .map(|(version, description, ..)| (*version, *description)),
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
            UnknownDependency { set, version, description, file, line, dependency },
            EnvironmentRequired { migrations },
            ConditionFailed { version, description, file, condition, source },
            DependencyNotEarlier { version, description, file, line, dependency },
            UnknownApplied { version, description, type_name, others },
            UnknownTarget { version, latest },
            Irreversible { version, description, file, target },
            OutOfOrder { version, description, file, highest_applied, needed_by, needed_by_declares },
            Modified { version, description, file, recorded, current },
            Incomplete { version, description, file, started_at, direction },
            WrongSet { version, description, file, set, expected },
            NotTransactional { version, description, file },
            BaselineWithHistory { version, applied, highest },
            WrongDirection { version, description, file, direction, target },
            MigrationFailed { version, description, file, direction, batch, source },
            FailedOutsideTransaction { version, description, file, direction, source },
            MigrationPanicked { version, description, file, direction, batch, message },
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
            version: 2,
            description: "Add email",
            file: "src/m2.rs",
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
