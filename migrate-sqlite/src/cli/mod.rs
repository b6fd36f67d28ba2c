//! The `migrate` command, for your own binary: migrations are code compiled into your
//! program, so the command is too. One line in `src/bin/migrate.rs`:
//!
//! ```no_run
//! use migrate_sqlite as _; // and `use your_crate as _;` when the migrations are in your library
//!
//! fn main() {
//!     migrate_sqlite::cli::main()
//! }
//! ```
//!
//! Then `cargo run --bin migrate -- status`, `up`, `down --to 2`, `new "Add tags"`, ...
//! (`migrate --help` lists them). The database comes from `--database PATH` or the
//! `DATABASE_URL` environment variable (`sqlite://` and `file:` prefixes are accepted).
//!
//! Exit codes: [`SUCCESS`] (0), [`FAILURE`] (1: a migration or database error, printed
//! with its causes), [`USAGE`] (2: the command line is wrong), and [`PENDING`] (3: `status
//! --check` found migrations that are not applied, or applied ones that are not in order).

mod args;
mod commands;
mod history_doc;
mod output;

use std::ffi::OsString;

/// Everything went as asked.
pub const SUCCESS: i32 = 0;
/// A migration failed or was refused, or the database could not be used.
pub const FAILURE: i32 = 1;
/// The command line is wrong: unknown option, missing argument, no database.
pub const USAGE: i32 = 2;
/// `status --check`: something is pending (or modified, incomplete, unknown).
pub const PENDING: i32 = 3;

/// Runs the command on this process's arguments and exits with its code.
pub fn main() {
    std::process::exit(run(std::env::args_os()));
}

/// Runs the command on `args` (the first is the program name) and returns the exit code;
/// output goes to stdout and stderr.
///
/// ```
/// let code = migrate_sqlite::cli::run(["migrate", "--help"]);
/// assert_eq!(code, migrate_sqlite::cli::SUCCESS);
/// ```
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = match args::command().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => {
            let code = if error.use_stderr() { USAGE } else { SUCCESS };
            let _ = error.print();
            return code;
        }
    };
    match commands::dispatch(&matches) {
        Ok(code) => code,
        Err(commands::Failure::Usage(message)) => {
            eprintln!("error: {message}\n\nFor more information, try '--help'.");
            USAGE
        }
        Err(commands::Failure::Run(error)) => {
            eprintln!("error: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            FAILURE
        }
    }
}
