//! `migrate history`: the migration history document.

use clap::{Arg, ArgMatches, Command};
use migrate_core::Migrator;

use crate::args::{category, tag};
use crate::exit::SUCCESS;
use crate::failure::{Failure, Outcome};
use crate::filter::Filter;
use crate::open::access::Access;
use crate::open::{self, database, open_database};
use crate::render::history_doc;

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("history")
        .about("Write the migration history document: every migration and the schema it leaves")
        .arg(
            Arg::new("format")
                .long("format")
                .value_parser(["markdown"])
                .default_value("markdown")
                .help("The document format"),
        )
        .arg(
            Arg::new("output")
                .long("output")
                .short('o')
                .value_name("FILE")
                .help("Write to FILE instead of standard output"),
        )
        .arg(tag("List only the migrations with this tag (`tags = [..]` in their attribute); repeated, only those with every tag given; the schema shown after each is still the one all migrations up to it leave"))
        .arg(category("List only the migrations of this category (`category = \"..\"` in their attribute); with --tag, only those with both"))
}

/// Writes the document to standard output or `--output FILE`.
pub(super) fn exec(matches: &ArgMatches, sub: &ArgMatches, migrator: Migrator) -> Outcome {
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
    let scratch = open::scratch(database.as_ref())?;
    let document = history_doc::markdown(&migrator, &filter, applied.as_deref(), scratch)?;
    match sub.get_one::<String>("output") {
        Some(path) => {
            std::fs::write(path, document).map_err(|e| format!("could not write {path}: {e}"))?;
            outln!("{path}");
        }
        None => out!("{document}"),
    }
    Ok(SUCCESS)
}
