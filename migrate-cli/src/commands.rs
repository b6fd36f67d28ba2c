//! What each subcommand does.

use std::sync::{Arc, Mutex};

use clap::ArgMatches;
use migrate_core::{BoxError, Direction, Migrator, State, Target};

use crate::database::{Database, Scratch};
use crate::filter::Filter;
use crate::output::{ProgressOutput, Style, millis, status_table};
use crate::{PENDING, SUCCESS, each, history_doc, targets, url};

/// Why a command stopped.
pub enum Failure {
    /// The command line is wrong (exit 2).
    Usage(String),
    /// A migration or database error (exit 1).
    Run(BoxError),
}

impl<E: Into<BoxError>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Run(error.into())
    }
}

type Outcome = Result<i32, Failure>;

pub fn dispatch(matches: &ArgMatches) -> Outcome {
    let (name, sub) = matches
        .subcommand()
        .ok_or_else(|| Failure::Usage("no command given".to_owned()))?;
    let set = matches.get_one::<String>("set").map_or("", String::as_str);
    let migrator = match Migrator::discovered_set(set) {
        Ok(migrator) => migrator,
        // `new` writes the first migration of a project that has none yet.
        Err(migrate_core::Error::NoMigrations { .. }) if name == "new" => Migrator::for_set(set),
        Err(error) => return Err(error.into()),
    };
    // `--environment`, or MIGRATE_ENVIRONMENT: which `environments = [..]` migrations run.
    let migrator = match matches.get_one::<String>("environment") {
        Some(environment) => migrator.environment(environment),
        None => migrator,
    };
    match name {
        "new" => new(sub, &migrator),
        "history" => history(matches, sub, &migrator),
        "status" => status(matches, sub, &migrator),
        "up" => up(matches, sub, migrator),
        "down" => down(matches, sub, &migrator),
        "redo" => redo(matches, &migrator),
        "baseline" => baseline(matches, sub, &migrator),
        "accept-changes" => accept_changes(matches, &migrator),
        "clear-incomplete" => clear_incomplete(matches, sub, &migrator),
        other => Err(Failure::Usage(format!("unknown command {other}"))),
    }
}

/// What a command does with the database, which decides how it is opened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only reads (`status`, `history`): never creates the file; works with `mode=ro`.
    Read,
    /// Writes to a database that must exist (`down`, dry runs, `redo`, `baseline`,
    /// `accept-changes`, `clear-incomplete`).
    Write,
    /// `up` and `baseline`: write, and create the file unless the URL says `mode=rw`.
    WriteOrCreate,
    /// `up --dry-run`: as `Write`, but a file that does not exist is rehearsed on an
    /// empty database in memory, so nothing is created.
    Rehearse,
}

/// `--database` or `DATABASE_URL`, parsed; `None` when neither is given. `--schema`
/// with a SQLite database is a usage error.
fn database(matches: &ArgMatches) -> Result<Option<url::Url>, Failure> {
    let parsed = matches
        .get_one::<String>("database")
        .map(|url| url::parse(url).map_err(Failure::Usage))
        .transpose()?;
    if let (Some(url::Url::Sqlite(_)), Some(schema)) =
        (&parsed, matches.get_one::<String>("schema"))
    {
        return Err(Failure::Usage(format!(
            "--schema {schema} names a PostgreSQL schema, and the database is a SQLite one, \
             which has no schemas: drop --schema (a SQLite database keeps its history in \
             its own file; --history-table names the table)"
        )));
    }
    if let (Some(url::Url::Sqlite(_)), Some(lock)) = (&parsed, matches.get_one::<String>("lock")) {
        return Err(Failure::Usage(format!(
            "--lock {lock} chooses how PostgreSQL runs are kept apart, and the database is a \
             SQLite one, which locks its file itself: drop --lock"
        )));
    }
    Ok(parsed)
}

fn no_database() -> Failure {
    let example = match (url::BUILT_IN.sqlite, url::BUILT_IN.postgres) {
        (true, true) => "DATABASE_URL=sqlite://app.db or DATABASE_URL=postgres://user@host/db",
        (true, false) => "DATABASE_URL=sqlite://app.db",
        _ => "DATABASE_URL=postgres://user@host/db",
    };
    Failure::Usage(format!(
        "no database given: pass --database URL or set DATABASE_URL (e.g. {example})"
    ))
}

/// Opens the database for `command`, as `access` allows: a command that cannot create
/// the database does not leave an empty file behind, and `mode=ro` opens read-only.
fn open(matches: &ArgMatches, command: &str, access: Access) -> Result<Database, Failure> {
    let database = database(matches)?.ok_or_else(no_database)?;
    open_database(matches, &database, command, access)
}

pub fn open_database(
    matches: &ArgMatches,
    database: &url::Url,
    command: &str,
    access: Access,
) -> Result<Database, Failure> {
    match database {
        #[cfg(feature = "sqlite")]
        url::Url::Sqlite(file) => {
            open_sqlite(matches, file, command, access).map(|db| Database::Sqlite(Box::new(db)))
        }
        #[cfg(feature = "postgres")]
        url::Url::Postgres(url) => {
            open_postgres(matches, url).map(|db| Database::Postgres(Box::new(db)))
        }
        // `url::parse` refuses a URL of a backend this build does not have.
        #[allow(unreachable_patterns)]
        _ => {
            let _ = access;
            Err(Failure::Usage(format!(
                "this build of the `migrate` command has no backend for `{command}`'s \
                 database: enable the migrate-cli feature of its kind (`sqlite`, `postgres`)"
            )))
        }
    }
}

/// Connects to PostgreSQL: `--lock-timeout` is how long a run waits for another
/// session's migration lock, `--schema` and `--history-table` where the history is.
#[cfg(feature = "postgres")]
pub fn open_postgres(
    matches: &ArgMatches,
    url: &str,
) -> Result<migrate_postgres::Postgres, Failure> {
    let mut db = migrate_postgres::Postgres::connect(url)?.lock_wait(
        matches
            .get_one::<std::time::Duration>("lock-timeout")
            .copied()
            .unwrap_or(migrate_postgres::DEFAULT_LOCK_WAIT),
    );
    if let Some(schema) = matches.get_one::<String>("schema") {
        db = db.schema(schema);
    }
    if let Some(table) = matches.get_one::<String>("history-table") {
        db = db.history_table(table);
    }
    if matches.get_one::<String>("lock").map(String::as_str) == Some("lease") {
        db = db.lock(migrate_postgres::Lock::LEASE);
    }
    Ok(db)
}

#[cfg(feature = "sqlite")]
fn open_sqlite(
    matches: &ArgMatches,
    database: &url::SqliteFile,
    command: &str,
    access: Access,
) -> Result<migrate_sqlite::Sqlite, Failure> {
    use migrate_sqlite::rusqlite::OpenFlags;
    let read_only = database.mode == Some(url::Mode::ReadOnly);
    if read_only && access != Access::Read {
        return Err(Failure::Usage(format!(
            "the database URL opens {} read-only (mode=ro), and `{command}` writes to it; \
             drop `?mode=ro` to migrate (`status` and `history` work read-only)",
            database.path
        )));
    }
    let create = access == Access::WriteOrCreate && database.mode != Some(url::Mode::ReadWrite);
    let missing = !database.is_memory() && !std::path::Path::new(&database.path).exists();
    let in_memory = database.is_memory() || (missing && access == Access::Rehearse);
    if missing && in_memory {
        eprintln!(
            "the database {} does not exist: rehearsing on an empty database; no file is \
             created",
            database.path
        );
    }
    let path = if in_memory {
        ":memory:"
    } else {
        database.path.as_str()
    };
    if !in_memory && !create && !std::path::Path::new(path).exists() {
        let hint = if access == Access::WriteOrCreate {
            "mode=rw does not create it; drop it or use mode=rwc"
        } else {
            "`up` creates it"
        };
        return Err(Failure::Run(
            format!("the database {path} does not exist; check the path ({hint})").into(),
        ));
    }
    let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX;
    flags |= if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    if create || in_memory {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let lock_timeout = matches
        .get_one::<std::time::Duration>("lock-timeout")
        .copied()
        .unwrap_or(migrate_sqlite::DEFAULT_BUSY_TIMEOUT);
    let db = migrate_sqlite::Sqlite::open_with_flags(path, flags, lock_timeout)?;
    Ok(match matches.get_one::<String>("history-table") {
        Some(table) => db.history_table(table),
        None => db,
    })
}

/// The crate the files `new` writes use: the backend this command is built with, SQLite
/// when it has both.
#[cfg(feature = "sqlite")]
const RUNTIME: migrate_build::Runtime = migrate_build::Runtime::Sqlite;
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
const RUNTIME: migrate_build::Runtime = migrate_build::Runtime::Postgres;

fn new(sub: &ArgMatches, migrator: &Migrator) -> Outcome {
    let description = sub
        .get_one::<String>("description")
        .map_or("", String::as_str);
    // The library refuses the same, but only once the folder is found: a description
    // that cannot be written is a mistake on the command line, whatever the folder.
    migrate_build::check_description(description)
        .map_err(|error| Failure::Usage(error.to_string()))?;
    let folder = match sub.get_one::<String>("dir") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => migrations_folder()?,
    };
    let folder = folder.as_path();
    let highest_known = migrator.migrations().last().map_or(0, |m| m.version());
    let version = if sub.get_flag("timestamp") {
        migrate_build::timestamp_version(std::time::SystemTime::now())
    } else {
        migrate_build::next_version(folder)?.max(highest_known + 1)
    };
    if let Some(taken) = migrator
        .migrations()
        .iter()
        .find(|m| m.version() == version)
    {
        return Err(Failure::Run(
            format!(
                "version {version} is taken by migration {taken}, which this program already \
                 contains; run `new` again in a second, or pick the version by hand"
            )
            .into(),
        ));
    }
    let written = migrate_build::write_migration(folder, version, description, RUNTIME)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = written.path().strip_prefix(&cwd).unwrap_or(written.path());
    outln!("{}", shown.display());
    Ok(SUCCESS)
}

/// The migrations folder of the crate `new` is run in: the nearest `Cargo.toml` with a
/// `[package]` upward from the current directory, and the folder its build script gives
/// `migrate_build::migrations("...")`, else its `src/migrations` when that exists.
fn migrations_folder() -> Result<std::path::PathBuf, Failure> {
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::Run(format!("cannot read the current directory: {e}").into()))?;
    let Some(manifest) = cwd
        .ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|file| file.is_file())
    else {
        return Err(Failure::Usage(format!(
            "no Cargo.toml in {} or above it, so no crate to write the migration into: run \
             `migrate new` in your crate's folder, or give the folder with --dir",
            cwd.display()
        )));
    };
    let manifest_text = std::fs::read_to_string(&manifest).unwrap_or_default();
    let crate_dir = manifest.parent().unwrap_or(&cwd);
    if !manifest_text.lines().any(|l| l.trim() == "[package]") {
        return Err(Failure::Usage(format!(
            "{} is a workspace without a package of its own: run `migrate new` in the \
             folder of the crate that has the migrations, or give the folder with --dir",
            manifest.display()
        )));
    }
    let build_script = crate_dir.join("build.rs");
    let configured = std::fs::read_to_string(&build_script)
        .ok()
        .and_then(|text| {
            let start = text.find("migrations(\"")? + "migrations(\"".len();
            let end = text[start..].find('"')?;
            Some(text[start..start + end].to_owned())
        });
    if let Some(folder) = configured {
        return Ok(crate_dir.join(folder));
    }
    let default = crate_dir.join("src").join("migrations");
    if default.is_dir() {
        return Ok(default);
    }
    Err(Failure::Usage(format!(
        "no migrations folder found: {} does not call migrate_build::migrations(\"...\") \
         and {} does not exist; set up the build script (see docs/getting-started.md), or \
         give the folder with --dir",
        build_script.display(),
        default.display()
    )))
}

fn status(matches: &ArgMatches, sub: &ArgMatches, migrator: &Migrator) -> Outcome {
    if targets::given(sub) {
        return each::status(matches, sub, migrator);
    }
    let known = migrator.migrations();
    let filter = Filter::new(sub, known).map_err(Failure::Usage)?;
    let Some(database) = database(matches)? else {
        return Err(no_database());
    };
    if let url::Url::Sqlite(file) = &database {
        let missing = !file.is_memory() && !std::path::Path::new(&file.path).exists();
        if missing && sub.get_flag("check") {
            // Everything is pending on a database that does not exist; it is not created.
            let selected = known.iter().filter(|m| filter.selects(m)).count();
            let which = if filter.is_empty() {
                String::new()
            } else {
                format!(" with {}", filter.describe())
            };
            eprintln!(
                "status --check: the database {} does not exist, so all {selected} \
                 migrations{which} are pending (`up` creates it)",
                file.path,
            );
            return Ok(PENDING);
        }
    }
    let mut db = open_database(matches, &database, "status", Access::Read)?;
    let mut rows = migrator.status(db.backend())?;
    rows.retain(|row| filter.selects_version(row.version, known));
    out!("{}", status_table(&rows, known, Style::stdout()));
    // A skipped migration is settled: its condition was false where it would have run,
    // and the next `up` decides again.
    let settled = |state: &State| matches!(state, State::Applied { .. } | State::Skipped { .. });
    let clean = rows.iter().all(|row| settled(&row.state));
    if sub.get_flag("check") && !clean {
        let pending = rows.iter().filter(|r| r.state == State::Pending).count();
        let applied = rows.iter().filter(|r| settled(&r.state)).count();
        let which = if filter.is_empty() {
            String::new()
        } else {
            format!(" ({})", filter.describe())
        };
        eprintln!(
            "status --check{which}: {pending} pending, {} modified, incomplete or unknown",
            rows.len() - pending - applied
        );
        return Ok(PENDING);
    }
    Ok(SUCCESS)
}

/// Runs `run` with a progress line (or bar) per migration, sized from a plan made before
/// the run. `only` makes the run refuse a plan that would move the other way (`up` never
/// reverts, `down` never applies), decided by the run under the write lock, on the
/// history it reads there.
fn with_progress(
    migrator: &Migrator,
    db: &mut dyn migrate_core::Backend,
    target: Target,
    dry_run: bool,
    only: Direction,
    run: impl FnOnce(
        &Migrator,
        &mut dyn migrate_core::Backend,
    ) -> Result<migrate_core::Report, migrate_core::Error>,
) -> Outcome {
    let migrator = migrator.clone().only_direction(only);
    let planned = migrator.plan(db, target)?;
    let progress = Arc::new(Mutex::new(ProgressOutput::new(
        planned.steps.len(),
        dry_run,
    )));
    let sink = Arc::clone(&progress);
    let migrator = migrator.on_progress(move |step| {
        if let Ok(mut progress) = sink.lock() {
            progress.step(step);
        }
    });
    let report = run(&migrator, db)?;
    print_summary(&report, dry_run, !planned.steps.is_empty());
    Ok(SUCCESS)
}

/// The last line of a run: what it did, or that there was nothing to do.
fn print_summary(report: &migrate_core::Report, dry_run: bool, planned: bool) {
    if report.steps.is_empty() {
        if planned {
            outln!("nothing to do: another process migrated the database meanwhile");
        } else {
            outln!("nothing to do: the database is up to date");
        }
        return;
    }
    let total: std::time::Duration = report.steps.iter().map(|s| s.duration).sum();
    let count = match report.steps.len() {
        1 => "1 migration".to_owned(),
        n => format!("{n} migrations"),
    };
    // Steps that ran no code: skipped migrations (up), skipped rows removed (down).
    let skipped = |direction: Direction| {
        report
            .steps
            .iter()
            .filter(|s| s.skipped.is_some() && s.direction == direction)
            .count()
    };
    let without_code = match (skipped(Direction::Up), skipped(Direction::Down), dry_run) {
        (0, 0, _) => String::new(),
        (n, 0, false) => format!(" ({n} of them skipped: no code ran)"),
        (n, 0, true) => format!(" ({n} of them would be skipped: no code ran)"),
        (0, n, false) => {
            format!(" ({n} of them skipped ones whose rows were removed: no code ran)")
        }
        (0, n, true) => {
            format!(" ({n} of them skipped ones whose rows would be removed: no code ran)")
        }
        (up, down, _) => format!(" ({up} skipped, {down} skipped rows removed: no code ran)"),
    };
    if dry_run {
        outln!(
            "dry run: {count} succeeded{without_code} in {} and rolled back; nothing was kept",
            millis(total)
        );
    } else {
        outln!("done: {count}{without_code} in {}", millis(total));
    }
}

fn up(matches: &ArgMatches, sub: &ArgMatches, migrator: Migrator) -> Outcome {
    let migrator = migrator
        .all_or_nothing(sub.get_flag("all-or-nothing"))
        .allow_out_of_order(sub.get_flag("allow-out-of-order"))
        .allow_modified(sub.get_flag("allow-modified"))
        .parallel(
            sub.get_one::<u16>("parallel")
                .map_or(0, |&n| usize::from(n)),
        );
    if targets::given(sub) {
        return each::up(matches, sub, &migrator);
    }
    if let Some(database) = database(matches)? {
        refuse_parallel_on_sqlite(sub, &database)?;
    }
    let dry_run = sub.get_flag("dry-run");
    let (command, access) = if dry_run {
        ("up --dry-run", Access::Rehearse)
    } else {
        ("up", Access::WriteOrCreate)
    };
    let mut db = open(matches, command, access)?;
    let target = sub
        .get_one::<u64>("to")
        .map_or(Target::Latest, |v| Target::Version(*v));
    with_progress(
        &migrator,
        db.backend(),
        target,
        dry_run,
        Direction::Up,
        |m, db| {
            if dry_run {
                m.dry_run(db, target)
            } else {
                match target {
                    Target::Latest => m.to_latest(db),
                    Target::Version(v) => m.to_version(db, v),
                }
            }
        },
    )
}

/// `up --parallel N` (N > 1) on a SQLite database: the library's refusal, given before
/// the file is opened, so that a file that does not exist is not created by a run that
/// says it wrote nothing. `up --each` refuses each SQLite target the same way.
pub fn refuse_parallel_on_sqlite(
    sub: &ArgMatches,
    database: &url::Url,
) -> Result<(), migrate_core::Error> {
    if sub.get_one::<u16>("parallel").is_none_or(|&n| n < 2) {
        return Ok(());
    }
    #[cfg(feature = "sqlite")]
    if let url::Url::Sqlite(_) = database {
        // The reason is the backend's own; an in-memory database writes no file.
        let mut memory = migrate_sqlite::Sqlite::open_in_memory()?;
        if let Err(unsupported) = migrate_core::Backend::sessions(&mut memory) {
            return Err(migrate_core::Error::ParallelUnsupported {
                reason: unsupported.reason().to_owned(),
            });
        }
    }
    let _ = database;
    Ok(())
}

/// The applied versions of this set, lowest first; a skipped migration's row is not one
/// (`down --steps 1` reverts the last applied migration, and removes the skipped rows
/// above it on the way).
fn applied_versions(
    migrator: &Migrator,
    db: &mut dyn migrate_core::Backend,
) -> Result<Vec<u64>, Failure> {
    Ok(migrator
        .status(db)?
        .into_iter()
        .filter(|row| !matches!(row.state, State::Pending | State::Skipped { .. }))
        .map(|row| row.version)
        .collect())
}

fn down(matches: &ArgMatches, sub: &ArgMatches, migrator: &Migrator) -> Outcome {
    let mut db = open(matches, "down", Access::Write)?;
    let version = match (sub.get_one::<u64>("to"), sub.get_one::<u64>("steps")) {
        (Some(to), _) => *to,
        (None, Some(&steps)) => {
            let applied = applied_versions(migrator, db.backend())?;
            let keep = applied
                .len()
                .saturating_sub(usize::try_from(steps).unwrap_or(usize::MAX));
            keep.checked_sub(1).map_or(0, |i| applied[i])
        }
        (None, None) => {
            return Err(Failure::Usage(
                "down needs --to VERSION or --steps N".to_owned(),
            ));
        }
    };
    let target = Target::Version(version);
    let dry_run = sub.get_flag("dry-run");
    with_progress(
        migrator,
        db.backend(),
        target,
        dry_run,
        Direction::Down,
        |m, db| {
            if dry_run {
                m.dry_run(db, target)
            } else {
                m.to_version(db, version)
            }
        },
    )
}

fn redo(matches: &ArgMatches, migrator: &Migrator) -> Outcome {
    let mut db = open(matches, "redo", Access::Write)?;
    let progress = Arc::new(Mutex::new(ProgressOutput::new(2, false)));
    let sink = Arc::clone(&progress);
    let migrator = migrator.clone().on_progress(move |step| {
        if let Ok(mut progress) = sink.lock() {
            progress.step(step);
        }
    });
    let report = migrator.redo(db.backend())?;
    if report.steps.is_empty() {
        outln!("nothing to redo: no migration is applied");
        return Ok(SUCCESS);
    }
    print_summary(&report, false, true);
    Ok(SUCCESS)
}

fn baseline(matches: &ArgMatches, sub: &ArgMatches, migrator: &Migrator) -> Outcome {
    let mut db = open(matches, "baseline", Access::WriteOrCreate)?;
    let version = *sub
        .get_one::<u64>("version")
        .ok_or_else(|| Failure::Usage("baseline needs --version N".to_owned()))?;
    let recorded = migrator.baseline(db.backend(), version)?;
    if recorded.is_empty() {
        outln!("baseline at version {version} is already recorded; nothing to do");
        return Ok(SUCCESS);
    }
    for m in &recorded {
        outln!("recorded as applied, without running it: {m}");
    }
    let count = match recorded.len() {
        1 => "1 migration".to_owned(),
        n => format!("{n} migrations"),
    };
    outln!("baseline at version {version}: {count} recorded");
    Ok(SUCCESS)
}

fn history(matches: &ArgMatches, sub: &ArgMatches, migrator: &Migrator) -> Outcome {
    let filter = Filter::new(sub, migrator.migrations()).map_err(Failure::Usage)?;
    let database = database(matches)?;
    let applied = match &database {
        Some(database) => Some(
            migrator
                .status(open_database(matches, database, "history", Access::Read)?.backend())?,
        ),
        None => None,
    };
    // The schema after each migration is built on a scratch database of the same kind.
    let scratch = match &database {
        #[cfg(feature = "postgres")]
        Some(url::Url::Postgres(url)) => Ok(Scratch::postgres(url)?),
        #[cfg(feature = "sqlite")]
        _ => Ok(Scratch::sqlite()?),
        #[cfg(not(feature = "sqlite"))]
        _ => Err(
            "give the PostgreSQL database with --database (or DATABASE_URL) to have it \
             built in a scratch schema on that server",
        ),
    };
    let document = history_doc::markdown(migrator, &filter, applied.as_deref(), scratch)?;
    match sub.get_one::<String>("output") {
        Some(path) => {
            std::fs::write(path, document).map_err(|e| format!("could not write {path}: {e}"))?;
            outln!("{path}");
        }
        None => out!("{document}"),
    }
    Ok(SUCCESS)
}

fn accept_changes(matches: &ArgMatches, migrator: &Migrator) -> Outcome {
    let mut db = open(matches, "accept-changes", Access::Write)?;
    let accepted = migrator.accept_changes(db.backend())?;
    if accepted.is_empty() {
        outln!("no applied migration changed since it was applied");
    }
    for m in accepted {
        outln!("accepted the changed source of migration {m}");
    }
    Ok(SUCCESS)
}

fn clear_incomplete(matches: &ArgMatches, sub: &ArgMatches, migrator: &Migrator) -> Outcome {
    let mut db = open(matches, "clear-incomplete", Access::Write)?;
    let version = *sub
        .get_one::<u64>("version")
        .ok_or_else(|| Failure::Usage("clear-incomplete needs a VERSION".to_owned()))?;
    match migrator.clear_incomplete(db.backend(), version)? {
        Some(Direction::Up) => {
            outln!("cleared: migration {version} is pending again; the next `up` applies it");
        }
        Some(Direction::Down) => outln!(
            "cleared: migration {version} is applied again, as before its interrupted down; \
             `down` reverts it again"
        ),
        None => outln!("migration {version} is not marked incomplete; nothing to clear"),
    }
    Ok(SUCCESS)
}
