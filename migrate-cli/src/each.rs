//! `up` and `status` over many databases (`--each`, `--each-schema`, `--each-from`):
//! `--jobs` workers through `Migrator::fan_out`, each target with its own lock and
//! history; Ctrl-C stops starting new targets and lets those in flight finish.

use std::collections::BTreeMap;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::ArgMatches;
use migrate_core::fan_out::Event;
use migrate_core::{BoxError, Direction, Error, MigrationStatus, Migrator, Report, State, Target};

use crate::commands::{Access, Failure, open_database};
use crate::database::Database;
use crate::each_output::{self, Display, Json};
use crate::errors::Own;
use crate::filter::Filter;
use crate::targets::{self, Place};
use crate::{FAILURE, INTERRUPTED, PENDING, SUCCESS};

/// Set by the first Ctrl-C of a fan-out; a second one exits at once.
static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C handler once per process and clears the flag for this run.
fn stop_flag() -> &'static AtomicBool {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Another handler already installed (a program embedding the command): Ctrl-C
        // then ends the process as it would anyway, each migration rolled back whole.
        let _ = ctrlc::set_handler(|| {
            if STOP.swap(true, Ordering::SeqCst) {
                std::process::exit(INTERRUPTED);
            }
            eprintln!(
                "stopping: no new database is started, those being migrated finish (Ctrl-C \
                 again to stop at once: each migration in flight is rolled back whole)"
            );
        });
    });
    STOP.store(false, Ordering::SeqCst);
    &STOP
}

/// `--jobs N` [default: the number of CPUs].
fn jobs(sub: &ArgMatches) -> usize {
    sub.get_one::<u16>("jobs")
        .map(|&n| usize::from(n))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

fn json(sub: &ArgMatches) -> bool {
    sub.get_one::<String>("format").map(String::as_str) == Some("json")
}

/// Opens one target as `--database` would open it; a schema target gets its history in
/// the schema and the schema as its `search_path`.
fn open(
    matches: &ArgMatches,
    target: &targets::Target,
    command: &str,
    access: Access,
) -> Result<Database, Error> {
    // The command's own messages (a file that does not exist, a URL opened read-only)
    // are shown as they are; a backend's error keeps its own words.
    let own = |error: BoxError| Error::database("open the database", Box::new(Own(error)));
    let as_error = |failure: Failure| match failure {
        Failure::Usage(message) => own(message.into()),
        Failure::Run(error) => match error.downcast::<Error>() {
            Ok(error) => *error,
            Err(error) => own(error),
        },
    };
    match &target.place {
        Place::Database(url) => open_database(matches, url, command, access).map_err(as_error),
        Place::Unreadable(message) => Err(own(message.clone().into())),
        #[cfg(feature = "postgres")]
        Place::Schema { url, schema } => {
            let db = crate::commands::open_postgres(matches, url).map_err(as_error)?;
            let mut db = db.schema(schema);
            let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
            db.connection()
                .batch_execute(&format!("SET search_path TO {quoted}"))
                .map_err(|source| Error::Database {
                    action: format!("set the search_path to the schema {quoted}"),
                    source: Box::new(source),
                })?;
            Ok(Database::Postgres(Box::new(db)))
        }
        #[cfg(not(feature = "postgres"))]
        Place::Schema { .. } => Err(Error::database(
            "open the database",
            "this build has no PostgreSQL backend".into(),
        )),
    }
}

/// `up --each ...`: every target to the latest version (or `--to`).
pub fn up(matches: &ArgMatches, sub: &ArgMatches, migrator: &Migrator) -> Result<i32, Failure> {
    let targets = targets::collect(matches, sub)?;
    refuse_parallel_on_sqlite(sub, &targets)?;
    let dry_run = sub.get_flag("dry-run");
    let (command, access) = if dry_run {
        ("up --dry-run", Access::Rehearse)
    } else {
        ("up", Access::WriteOrCreate)
    };
    let goal = sub
        .get_one::<u64>("to")
        .map_or(Target::Latest, |v| Target::Version(*v));
    let json = json(sub);
    let mut display = Display::new(targets.total, json);
    let mut tally = each_output::UpTally::new(migrator.migrations());
    let stop = stop_flag();
    // `up` never reverts, decided under each target's lock on the history read there.
    let migrator = migrator.clone().only_direction(Direction::Up);
    let mut summary = migrator
        .fan_out()
        .jobs(jobs(sub))
        .fail_fast(sub.get_flag("fail-fast"))
        .stop_when(stop)
        .run(
            targets.iter,
            |target| open(matches, target, command, access),
            |m, db| {
                if dry_run {
                    m.dry_run(db.backend(), goal)
                } else {
                    match goal {
                        Target::Latest => m.to_latest(db.backend()),
                        Target::Version(v) => m.to_version(db.backend(), v),
                    }
                }
            },
            |event: Event<'_, targets::Target, Report>| match event {
                Event::Started(target) => display.started(&target.name),
                Event::Finished(outcome) => {
                    let line = tally.add(outcome, dry_run);
                    display.finished(&outcome.target.name, &line, outcome.result.is_err());
                }
                _ => {}
            },
        );
    display.finish();
    // The same summary whatever order the workers finished in.
    summary
        .failed
        .sort_by(|a, b| a.target.name.cmp(&b.target.name));
    let interrupted = summary.stopped;
    let failed = !summary.failed.is_empty() || summary.not_started > 0;
    if json {
        let mut doc = Json::object();
        doc.str("command", "up");
        doc.bool("dry_run", dry_run);
        tally.json(&mut doc, &summary);
        outln!("{}", doc.finish());
    } else {
        out!(
            "{}",
            tally.text(&summary, dry_run, sub.get_flag("fail-fast"))
        );
    }
    Ok(if interrupted {
        INTERRUPTED
    } else if failed {
        FAILURE
    } else {
        SUCCESS
    })
}

/// `--parallel N` over SQLite files would fail on every one of them: refused once,
/// before any is opened.
fn refuse_parallel_on_sqlite(sub: &ArgMatches, targets: &targets::Targets) -> Result<(), Failure> {
    let parallel = sub.get_one::<u16>("parallel").is_some_and(|&n| n > 1);
    #[cfg(feature = "sqlite")]
    if parallel && targets.any_sqlite {
        return Err(Failure::Run(Box::new(Error::ParallelUnsupported {
            reason: "SQLite lets one connection write at a time, so the migrations of one \
                     file cannot run at once; --each already migrates several files at \
                     once (--jobs N)"
                .to_owned(),
        })));
    }
    let _ = (parallel, targets);
    Ok(())
}

/// `status --each ...`: how many targets are at each version, which are behind, which
/// need attention (a migration modified, incomplete or unknown), which could not be read.
pub fn status(matches: &ArgMatches, sub: &ArgMatches, migrator: &Migrator) -> Result<i32, Failure> {
    let known = migrator.migrations();
    let filter = Filter::new(sub, known).map_err(Failure::Usage)?;
    let targets = targets::collect(matches, sub)?;
    let json = json(sub);
    let mut display = Display::new(targets.total, json);
    let mut tally = each_output::StatusTally::new(known);
    let stop = stop_flag();
    let mut summary = migrator.fan_out().jobs(jobs(sub)).stop_when(stop).run(
        targets.iter,
        |target| open(matches, target, "status", Access::Read),
        |m, db| {
            let mut rows = m.status(db.backend())?;
            rows.retain(|row| filter.selects_version(row.version, known));
            Ok(standing(&rows))
        },
        |event: Event<'_, targets::Target, Standing>| match event {
            Event::Started(target) => display.started(&target.name),
            Event::Finished(outcome) => {
                let (line, trouble) = tally.add(outcome);
                display.finished(&outcome.target.name, &line, trouble);
            }
            _ => {}
        },
    );
    display.finish();
    // The same summary whatever order the workers finished in.
    summary
        .failed
        .sort_by(|a, b| a.target.name.cmp(&b.target.name));
    tally.sort();
    if json {
        let mut doc = Json::object();
        doc.str("command", "status");
        tally.json(&mut doc, &summary);
        outln!("{}", doc.finish());
    } else {
        out!("{}", tally.text(&summary));
    }
    Ok(if summary.stopped {
        INTERRUPTED
    } else if !summary.failed.is_empty() {
        FAILURE
    } else if sub.get_flag("check") && !tally.all_up_to_date() {
        PENDING
    } else {
        SUCCESS
    })
}

/// Where one target stands, from its status rows.
#[derive(Debug)]
pub enum Standing {
    /// Every migration shown is applied (or skipped): at this version.
    UpToDate { at: u64 },
    /// At this version, with these migrations pending.
    Behind { at: u64, pending: Vec<u64> },
    /// A migration is modified, incomplete or unknown to this program: runs are refused
    /// until someone looks.
    Attention { at: u64, problem: String },
}

fn standing(rows: &[MigrationStatus]) -> Standing {
    let at = rows
        .iter()
        .filter(|r| {
            matches!(
                r.state,
                State::Applied { .. } | State::Modified { .. } | State::Unknown { .. }
            )
        })
        .map(|r| r.version)
        .max()
        .unwrap_or(0);
    let problem = rows.iter().find_map(|r| {
        let what = match &r.state {
            State::Modified { .. } => "modified since it was applied (`migrate accept-changes`)",
            State::Incomplete { .. } => {
                "incomplete: it runs outside a transaction and did not finish (`migrate \
                 clear-incomplete`)"
            }
            State::Unknown { .. } => "applied, but this program does not contain it",
            _ => return None,
        };
        Some(format!(
            "migration {} {:?} {what}",
            r.version, r.description
        ))
    });
    if let Some(problem) = problem {
        return Standing::Attention { at, problem };
    }
    let pending: Vec<u64> = rows
        .iter()
        .filter(|r| r.state == State::Pending)
        .map(|r| r.version)
        .collect();
    if pending.is_empty() {
        Standing::UpToDate { at }
    } else {
        Standing::Behind { at, pending }
    }
}

/// The versions at which targets stand, for the summary.
pub type Versions = BTreeMap<u64, usize>;
