//! `migrate down`: revert migrations, newest first.

use clap::{Arg, ArgGroup, ArgMatches, Command, value_parser};
use migrate_core::{Direction, Migrator, State, Target};

use crate::args::{dry_run, version};
use crate::exit::SUCCESS;
use crate::failure::{Failure, Outcome};
use crate::open::access::Access;
use crate::open::open;
use crate::render::progress::with_progress;

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("down")
        .about("Revert migrations, newest first, to --to VERSION or by --steps N")
        .arg(version("to", "Revert every migration above this version (0: all)").long("to"))
        .arg(
            Arg::new("steps")
                .long("steps")
                .value_name("N")
                .value_parser(value_parser!(u64).range(1..))
                .help("Revert the last N applied migrations"),
        )
        .group(ArgGroup::new("target").args(["to", "steps"]).required(true))
        .arg(dry_run())
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

/// Reverts to `--to VERSION`, or the last `--steps N` applied migrations.
pub(super) fn exec(matches: &ArgMatches, sub: &ArgMatches, migrator: Migrator) -> Outcome {
    let mut db = open(matches, "down", Access::Write)?;
    let version = match (sub.get_one::<u64>("to"), sub.get_one::<u64>("steps")) {
        (Some(to), _) => *to,
        (None, Some(&steps)) => {
            let applied = applied_versions(&migrator, db.backend())?;
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
        &migrator,
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
    )?;
    Ok(SUCCESS)
}
