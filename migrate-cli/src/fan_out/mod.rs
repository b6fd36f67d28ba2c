//! `up` and `status` over many databases (`--each`, `--each-schema`, `--each-from`):
//! `--jobs` workers through `Migrator::fan_out`, each target with its own lock and
//! history; Ctrl-C stops starting new targets and lets those in flight finish.

pub(crate) mod display;
pub(crate) mod json;
pub(crate) mod standing;
pub(crate) mod summary;
pub(crate) mod targets;

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::ArgMatches;
use migrate_core::fan_out::Event;
use migrate_core::{Direction, Error, Migrator, Report, Target};

use crate::exit::{FAILURE, INTERRUPTED, PENDING, SUCCESS};
use crate::failure::Failure;
use crate::fan_out::display::FanOutDisplay;
use crate::fan_out::json::Json;
use crate::fan_out::standing::{Standing, standing};
use crate::fan_out::summary::{StatusTally, UpTally};
use crate::fan_out::targets::{Place, Targets};
use crate::filter::Filter;
use crate::open::access::Access;
use crate::open::{self, Database};

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
/// Opens one target as `--database` would open it; a schema target gets its history in
/// the schema and the schema as its `search_path`.
fn open_target(
    matches: &ArgMatches,
    target: &targets::DatabaseTarget,
    command: &str,
    access: Access,
) -> Result<Database, Error> {
    match &target.place {
        Place::Database(url) => {
            open::open_database(matches, url, command, access).map_err(Failure::into_error)
        }
        Place::Unreadable(message) => Err(Failure::Usage(message.clone()).into_error()),
        Place::Schema { url, schema } => open::open_schema(matches, url, schema),
    }
}

/// `up --each ...`: every target to the latest version (or `--to`).
pub(crate) fn up(
    matches: &ArgMatches,
    sub: &ArgMatches,
    migrator: &Migrator,
) -> Result<i32, Failure> {
    let targets = targets::collect(matches, sub)?;
    refuse_parallel_on_sqlite(sub, &targets)?;
    let dry_run = sub.get_flag("dry-run");
    let (command, access) = if dry_run {
        ("up --dry-run", Access::Rehearse)
    } else {
        ("up", Access::WriteOrCreate)
    };
    let to = sub.get_one::<u64>("to").copied();
    let goal = to.map_or(Target::Latest, Target::Version);
    let json = json(sub);
    let mut display = FanOutDisplay::new(targets.total, json);
    let mut tally = UpTally::new(migrator.migrations());
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
            |target| open_target(matches, target, command, access),
            |m, db| {
                if dry_run {
                    m.dry_run(db.backend(), goal)
                } else {
                    match to {
                        Some(v) => m.to_version(db.backend(), v),
                        None => m.to_latest(db.backend()),
                    }
                }
            },
            |event: Event<'_, targets::DatabaseTarget, Report>| match event {
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
fn refuse_parallel_on_sqlite(sub: &ArgMatches, targets: &Targets) -> Result<(), Failure> {
    let parallel = sub.get_one::<u16>("parallel").is_some_and(|&n| n > 1);
    // Without the feature `sqlite`, no target is a SQLite database.
    if parallel && targets.any_sqlite {
        return Err(Failure::Run(Box::new(Error::ParallelUnsupported {
            reason: "SQLite lets one connection write at a time, so the migrations of one \
                     file cannot run at once; --each already migrates several files at \
                     once (--jobs N)"
                .to_owned(),
        })));
    }
    Ok(())
}

/// `status --each ...`: how many targets are at each version, which are behind, which
/// need attention (a migration modified, incomplete or unknown), which could not be read.
pub(crate) fn status(
    matches: &ArgMatches,
    sub: &ArgMatches,
    migrator: &Migrator,
) -> Result<i32, Failure> {
    let known = migrator.migrations();
    let filter = Filter::new(sub, known).map_err(Failure::Usage)?;
    let targets = targets::collect(matches, sub)?;
    let json = json(sub);
    let mut display = FanOutDisplay::new(targets.total, json);
    let mut tally = StatusTally::new(known);
    let stop = stop_flag();
    let mut summary = migrator.fan_out().jobs(jobs(sub)).stop_when(stop).run(
        targets.iter,
        |target| open_target(matches, target, "status", Access::Read),
        |m, db| {
            let mut rows = m.status(db.backend())?;
            rows.retain(|row| filter.selects_version(row.version, known));
            Ok(standing(&rows))
        },
        |event: Event<'_, targets::DatabaseTarget, Standing>| match event {
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
