//! `migrate accept-changes`: record the current checksums of changed migrations.

use clap::{ArgMatches, Command};
use migrate_core::Migrator;

use crate::exit::SUCCESS;
use crate::failure::Outcome;
use crate::open::access::Access;
use crate::open::open;

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("accept-changes")
        .about("Record the current checksums of applied migrations whose source changed")
}

/// Records the new checksums and lists the migrations accepted.
pub(super) fn exec(matches: &ArgMatches, _sub: &ArgMatches, migrator: Migrator) -> Outcome {
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
