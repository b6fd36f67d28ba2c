//! The subcommands, one file each with its arguments (`cli`) and its action (`exec`),
//! and the table that assembles the command line from them and dispatches to them.

mod accept_changes;
mod baseline;
mod clear_incomplete;
mod down;
mod history;
mod new;
mod redo;
mod status;
mod up;

use clap::{ArgMatches, Command};
use migrate_core::Migrator;

use crate::args;
use crate::failure::{Failure, Outcome};

/// What a subcommand does: given the whole command line's matches (the global options),
/// its own, and the manager of the migrations of `--set`.
type Exec = fn(&ArgMatches, &ArgMatches, Migrator) -> Outcome;

/// A subcommand: its name, its arguments and its action.
type Builtin = (&'static str, fn() -> Command, Exec);

/// Every subcommand, in the order `--help` lists them.
const COMMANDS: [Builtin; 9] = [
    ("new", new::cli, new::exec),
    ("status", status::cli, status::exec),
    ("up", up::cli, up::exec),
    ("down", down::cli, down::exec),
    ("redo", redo::cli, redo::exec),
    ("baseline", baseline::cli, baseline::exec),
    ("history", history::cli, history::exec),
    ("accept-changes", accept_changes::cli, accept_changes::exec),
    (
        "clear-incomplete",
        clear_incomplete::cli,
        clear_incomplete::exec,
    ),
];

/// The whole command line.
pub(crate) fn command() -> Command {
    args::root().subcommands(COMMANDS.iter().map(|(_, cli, _)| cli()))
}

/// Runs the subcommand `matches` names.
pub(crate) fn dispatch(matches: &ArgMatches) -> Outcome {
    let (name, sub) = matches
        .subcommand()
        .ok_or_else(|| Failure::Usage("no command given".to_owned()))?;
    let set = matches.get_one::<String>("set").map_or("", String::as_str);
    let migrator = match Migrator::discovered_set(set) {
        Ok(migrator) => migrator,
        // `new` writes the first migration of a project that has none yet.
        Err(migrate_core::Error::NoMigrations { .. }) if name == "new" => Migrator::for_set(set),
        Err(error) => return Err(error.into()),
    };
    // `--environment`, or MIGRATE_ENVIRONMENT: which `environments = [..]` migrations run.
    let migrator = match matches.get_one::<String>("environment") {
        Some(environment) => migrator.environment(environment),
        None => migrator,
    };
    match COMMANDS.iter().find(|(known, _, _)| *known == name) {
        Some((_, _, exec)) => exec(matches, sub, migrator),
        None => Err(Failure::Usage(format!("unknown command {name}"))),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        super::command().debug_assert();
    }

    /// Each entry of the table is named as its arguments name it.
    #[test]
    fn each_command_is_dispatched_by_its_own_name() {
        for (name, cli, _) in super::COMMANDS {
            assert_eq!(cli().get_name(), name);
        }
    }
}
