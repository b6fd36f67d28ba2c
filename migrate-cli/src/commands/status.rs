//! `migrate status`: every migration and its state, on one database or over many.

use clap::{Arg, ArgAction, ArgGroup, ArgMatches, Command};
use migrate_core::{Migrator, State};

use crate::args::{category, each_args, format_json, tag};
use crate::exit::{PENDING, SUCCESS};
use crate::failure::{Failure, Outcome};
use crate::fan_out;
use crate::filter::Filter;
use crate::open::access::Access;
use crate::open::{database, no_database, open_database};
use crate::render::status::{Style, status_table};
use crate::url;

/// The arguments of the command.
pub(super) fn cli() -> Command {
    Command::new("status")
        .about("Show every migration: applied, pending, modified, incomplete or unknown")
        .arg(
            Arg::new("check")
                .long("check")
                .action(ArgAction::SetTrue)
                .help("Exit with 3 unless every migration shown is applied and unchanged (for deployment scripts); with --tag or --category, only the migrations they select are judged"),
        )
        .arg(tag("Show only the migrations with this tag (`tags = [..]` in their attribute); repeated, only those with every tag given; a version in the history that the program does not contain has no tags and is left out"))
        .arg(category("Show only the migrations of this category (`category = \"..\"` in their attribute); with --tag, only those with both"))
        .args(each_args())
        .group(ArgGroup::new("each-targets").args(["each", "each-schema", "each-from"]))
        .arg(format_json())
}

/// Prints the status table (or, over many databases, where each stands); with `--check`, exits with [`PENDING`] unless all is applied.
pub(super) fn exec(matches: &ArgMatches, sub: &ArgMatches, migrator: Migrator) -> Outcome {
    if fan_out::targets::given(sub) {
        return fan_out::status(matches, sub, &migrator);
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
