//! The exit codes of the command (re-exported at the crate's root).

/// Everything went as asked.
pub const SUCCESS: i32 = 0;
/// A migration failed or was refused, or the database could not be used.
pub const FAILURE: i32 = 1;
/// The command line is wrong: unknown option, missing argument, no database.
pub const USAGE: i32 = 2;
/// `status --check`: something is pending (or modified, incomplete, unknown).
pub const PENDING: i32 = 3;
/// A run over many databases (`--each`) stopped by Ctrl-C: the databases in flight
/// finished, the others were not started (as a shell reports a process ended by SIGINT).
pub const INTERRUPTED: i32 = 130;
