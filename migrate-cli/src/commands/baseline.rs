//! `migrate baseline --version N`: adopt an existing database.

use clap::{ArgMatches, Command};
use migrate_core::Migrator;

use crate::args::version;
use crate::exit::SUCCESS;
use crate::failure::{Failure, Outcome};
use crate::open::access::Access;
use crate::open::open;

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("baseline")
        .about("Adopt an existing database: record migrations up to --version as applied without running them")
        .arg(version("version", "The last migration the database already has").long("version").required(true))
}

/// Records the migrations up to `--version` as applied, without running them.
pub(super) fn exec(matches: &ArgMatches, sub: &ArgMatches, migrator: Migrator) -> Outcome {
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
