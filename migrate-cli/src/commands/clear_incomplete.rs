//! `migrate clear-incomplete VERSION`: forget an interrupted migration outside a transaction.

use clap::{ArgMatches, Command};
use migrate_core::{Direction, Migrator};

use crate::args::version;
use crate::exit::SUCCESS;
use crate::failure::{Failure, Outcome};
use crate::open::access::Access;
use crate::open::open;

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("clear-incomplete")
        .about("Forget that a migration run outside a transaction did not finish, after checking the database by hand")
        .arg(version("version", "The incomplete migration").required(true))
}

/// Clears the incomplete mark of `VERSION`, saying what the migration is now.
pub(super) fn exec(matches: &ArgMatches, sub: &ArgMatches, migrator: Migrator) -> Outcome {
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
