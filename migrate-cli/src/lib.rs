//! The `migrate` command, for your own binary: migrations are code compiled into your
//! program, so the command is too. One line in `src/bin/migrate.rs`:
//!
//! ```no_run
//! // use your_crate as _; // when the migrations are in your library (docs/discovery.md)
//!
//! fn main() {
//!     migrate_cli::main()
//! }
//! ```
//!
//! Then `cargo run --bin migrate -- status`, `up`, `down --to 2`, `new "Add tags"`, ...
//! (`migrate --help` lists them). The database comes from `--database`, the
//! `DATABASE_URL` environment variable, or `DATABASE_URL` in a `.env` file, and its
//! scheme picks the backend (see docs/cli.md):
//!
//! - a path, or a SQLite URL as sqlx reads one (`sqlite://app.db?mode=ro`): SQLite, with
//!   the feature `sqlite` (on by default);
//! - `postgres://` or `postgresql://`: PostgreSQL, with the feature `postgres`.
//!
//! A URL whose backend is not built in is refused (exit 2), naming the feature to enable.
//! No message shows a URL's password.
//!
//! Exit codes: [`SUCCESS`] (0), [`FAILURE`] (1: a migration or database error, printed
//! with its causes), [`USAGE`] (2: the command line is wrong), [`PENDING`] (3: `status
//! --check` found migrations that are not applied, or applied ones that are not in order),
//! and [`INTERRUPTED`] (130: a run over many databases stopped by Ctrl-C).

// The example above is the whole file a user writes, `fn main` included.
#![allow(clippy::needless_doctest_main)]
// The crate's API is `main`, `run` and the exit codes; everything else is its own.
#![warn(unreachable_pub)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("migrate-cli needs a backend: enable its feature `sqlite`, `postgres`, or both");

/// `print!` that survives a closed pipe or a full device (see [`output::print`]).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::print(::core::format_args!($($arg)*))
    };
}

/// `println!` through [`out!`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::print(::core::format_args!("{}\n", ::core::format_args!($($arg)*)))
    };
}

mod args;
mod commands;
mod exit;
mod failure;
mod fan_out;
mod filter;
mod open;
mod output;
mod render;
mod url;

use std::ffi::OsString;

pub use exit::{FAILURE, INTERRUPTED, PENDING, SUCCESS, USAGE};

use crate::failure::Failure;

/// Runs the command on this process's arguments and exits with its code, after reading
/// a `.env` file (the current directory's or its nearest parent's) into the environment:
/// a variable already set wins over the file.
pub fn main() {
    if let Err(message) = read_dotenv() {
        eprintln!("error: {message}");
        std::process::exit(USAGE);
    }
    std::process::exit(run(std::env::args_os()));
}

/// Loads the nearest `.env`, as sqlx-cli and diesel do; none is fine.
fn read_dotenv() -> Result<(), String> {
    let Ok(start) = std::env::current_dir() else {
        return Ok(());
    };
    let Some(file) = start
        .ancestors()
        .map(|dir| dir.join(".env"))
        .find(|file| file.is_file())
    else {
        return Ok(());
    };
    let shown = file
        .strip_prefix(&start)
        .map_or_else(|_| file.display().to_string(), |p| p.display().to_string());
    dotenvy::from_path(&file).map_err(|error| match error {
        // The line itself is not shown: it may hold a password.
        dotenvy::Error::LineParse(line, index) => {
            let number = std::fs::read_to_string(&file)
                .ok()
                .and_then(|text| {
                    let first = line.lines().next().unwrap_or_default();
                    text.lines().position(|l| l.contains(first))
                })
                .map_or_else(String::new, |i| format!("line {}, ", i + 1));
            format!(
                "could not read {shown}: cannot parse {number}character {}; write \
                 NAME=value, one per line",
                index + 1
            )
        }
        other => format!("could not read {shown}: {other}"),
    })
}

/// Runs the command on `args` (the first is the program name) and returns the exit code;
/// output goes to stdout and stderr.
///
/// ```
/// let code = migrate_cli::run(["migrate", "--help"]);
/// assert_eq!(code, migrate_cli::SUCCESS);
/// ```
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = match commands::command().try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(error) => {
            let code = if error.use_stderr() { USAGE } else { SUCCESS };
            let _ = error.print();
            return code;
        }
    };
    let code = match commands::dispatch(&matches) {
        Ok(code) => code,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}\n\nFor more information, try '--help'.");
            USAGE
        }
        Err(Failure::Run(error)) => {
            let mut lines = render::error::render(error.as_ref()).into_iter();
            eprintln!("error: {}", lines.next().unwrap_or_default());
            for line in lines {
                eprintln!("{line}");
            }
            FAILURE
        }
    };
    match output::take_stdout_error() {
        // The reader has all it wanted (`migrate status | head -1`): as other commands do.
        Some(error) if error.kind() == std::io::ErrorKind::BrokenPipe => code,
        Some(error) => {
            eprintln!("error: could not write the output: {error}");
            if code == SUCCESS { FAILURE } else { code }
        }
        None => code,
    }
}
