//! `migrate redo`: revert the last applied migration and apply it again.

use std::sync::{Arc, Mutex};

use clap::{ArgMatches, Command};
use migrate_core::Migrator;

use crate::exit::SUCCESS;
use crate::failure::Outcome;
use crate::open::access::Access;
use crate::open::open;
use crate::render::progress::{ProgressOutput, print_summary};

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("redo").about("Revert the last applied migration and apply it again")
}

/// Reverts the last applied migration and applies it again, a line for each.
pub(super) fn exec(matches: &ArgMatches, _sub: &ArgMatches, migrator: Migrator) -> Outcome {
    let mut db = open(matches, "redo", Access::Write)?;
    let progress = Arc::new(Mutex::new(ProgressOutput::new(2, false)));
    let sink = Arc::clone(&progress);
    let migrator = migrator.on_progress(move |step| {
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
