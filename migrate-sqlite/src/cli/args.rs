//! The command line, declared with clap's builder API.

use clap::{Arg, ArgAction, ArgGroup, Command, value_parser};

pub fn command() -> Command {
    let version = |name: &'static str, help: &'static str| {
        Arg::new(name)
            .value_name("VERSION")
            .value_parser(value_parser!(u64))
            .help(help)
    };
    Command::new("migrate")
        .about("Apply, revert and inspect this program's database migrations")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("database")
                .long("database")
                .short('d')
                .global(true)
                .env("DATABASE_URL")
                .value_name("PATH")
                .help("The SQLite database: a file, or a URL such as sqlite://app.db?mode=ro (or DATABASE_URL, also from .env)"),
        )
        .arg(
            Arg::new("set")
                .long("set")
                .global(true)
                .value_name("NAME")
                .help("Work on the migrations of a named set (`set = \"NAME\"` in their attribute)"),
        )
        .arg(
            Arg::new("history-table")
                .long("history-table")
                .global(true)
                .value_name("TABLE")
                .help("The history table [default: migrate_history]"),
        )
        .subcommand(
            Command::new("new")
                .about("Write the next migration file into the migrations folder")
                .arg(Arg::new("description").required(true).help("What the migration does, e.g. \"Add tags to notes\""))
                .arg(
                    Arg::new("dir")
                        .long("dir")
                        .value_name("FOLDER")
                        .help("The migrations folder [default: the one the crate's build script names, else src/migrations, found from the nearest Cargo.toml]"),
                )
                .arg(
                    Arg::new("timestamp")
                        .long("timestamp")
                        .action(ArgAction::SetTrue)
                        .help("Use the UTC time (YYYYMMDDHHMMSS) as the version instead of the next number"),
                ),
        )
        .subcommand(
            Command::new("status")
                .about("Show every migration: applied, pending, modified, incomplete or unknown")
                .arg(
                    Arg::new("check")
                        .long("check")
                        .action(ArgAction::SetTrue)
                        .help("Exit with 3 unless every migration is applied and unchanged (for deployment scripts)"),
                ),
        )
        .subcommand(
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
                ),
        )
        .subcommand(
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
                .arg(dry_run()),
        )
        .subcommand(Command::new("redo").about("Revert the last applied migration and apply it again"))
        .subcommand(
            Command::new("baseline")
                .about("Adopt an existing database: record migrations up to --version as applied without running them")
                .arg(version("version", "The last migration the database already has").long("version").required(true)),
        )
        .subcommand(
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
                ),
        )
        .subcommand(
            Command::new("accept-changes")
                .about("Record the current checksums of applied migrations whose source changed"),
        )
        .subcommand(
            Command::new("clear-incomplete")
                .about("Forget that a migration run outside a transaction did not finish, after checking the database by hand")
                .arg(version("version", "The incomplete migration").required(true)),
        )
}

fn dry_run() -> Arg {
    Arg::new("dry-run")
        .long("dry-run")
        .action(ArgAction::SetTrue)
        .help("Rehearse on the real database in a transaction that is rolled back; keep nothing")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        super::command().debug_assert();
    }
}
