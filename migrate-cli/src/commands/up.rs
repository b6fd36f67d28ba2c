//! `migrate up`: apply pending migrations, on one database or over many.

use clap::{Arg, ArgAction, ArgGroup, ArgMatches, Command, value_parser};
use migrate_core::{Direction, Migrator, Target};

use crate::args::{dry_run, each_args, format_json, version};
use crate::exit::SUCCESS;
use crate::failure::Outcome;
use crate::fan_out;
use crate::open::access::Access;
use crate::open::{self, database, open};
use crate::render::progress::with_progress;
use crate::url;

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("up")
        .about("Apply pending migrations (all, or up to --to)")
        .arg(version("to", "Stop at this version").long("to"))
        .arg(dry_run())
        .arg(
            Arg::new("all-or-nothing")
                .long("all-or-nothing")
                .action(ArgAction::SetTrue)
                .help("Apply every pending migration in one transaction: all or none"),
        )
        .arg(
            Arg::new("allow-out-of-order")
                .long("allow-out-of-order")
                .action(ArgAction::SetTrue)
                .help("Apply a pending migration older than an applied one instead of refusing"),
        )
        .arg(
            Arg::new("allow-modified")
                .long("allow-modified")
                .action(ArgAction::SetTrue)
                .help("Go on although an applied migration changed since (see accept-changes)"),
        )
        .arg(
            Arg::new("parallel")
                .long("parallel")
                .value_name("N")
                .value_parser(value_parser!(u16).range(1..=64))
                .conflicts_with_all(["all-or-nothing", "dry-run"])
                .help("PostgreSQL: apply up to N migrations at once, each on a session of its own, when they do not depend on each other (`after = [..]` in their attributes; one without `after` needs every earlier one); refused on SQLite, which has one writer"),
        )
        .args(each_args())
        .group(ArgGroup::new("each-targets").args(["each", "each-schema", "each-from"]))
        .arg(
            Arg::new("fail-fast")
                .long("fail-fast")
                .action(ArgAction::SetTrue)
                .requires("each-targets")
                .help("With --each, --each-schema or --each-from: start no new database after the first one fails (those in flight finish)"),
        )
        .arg(format_json())
}

/// Applies the pending migrations (up to `--to`), on one database or over many.
pub(super) fn exec(matches: &ArgMatches, sub: &ArgMatches, migrator: Migrator) -> Outcome {
    let migrator = migrator
        .all_or_nothing(sub.get_flag("all-or-nothing"))
        .allow_out_of_order(sub.get_flag("allow-out-of-order"))
        .allow_modified(sub.get_flag("allow-modified"))
        .parallel(
            sub.get_one::<u16>("parallel")
                .map_or(0, |&n| usize::from(n)),
        );
    if fan_out::targets::given(sub) {
        return fan_out::up(matches, sub, &migrator);
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
    let to = sub.get_one::<u64>("to").copied();
    let target = to.map_or(Target::Latest, Target::Version);
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
                match to {
                    Some(v) => m.to_version(db, v),
                    None => m.to_latest(db),
                }
            }
        },
    )?;
    Ok(SUCCESS)
}

/// `up --parallel N` (N > 1) on a SQLite database: the backend's refusal, given before
/// the file is opened, so that a file that does not exist is not created by a run that
/// says it wrote nothing. `up --each` refuses each SQLite target the same way.
fn refuse_parallel_on_sqlite(
    sub: &ArgMatches,
    database: &url::Url,
) -> Result<(), migrate_core::Error> {
    if sub.get_one::<u16>("parallel").is_none_or(|&n| n < 2) {
        return Ok(());
    }
    open::refuse_parallel(database)
}
