//! The command line end to end, run as processes the way a user runs it: the binaries of
//! this package (`src/bin`, reached through `CARGO_BIN_EXE_*`) and a project built with
//! cargo. One test binary: none of these modules declares a migration.

mod basics;
mod conditions;
mod each;
mod each_postgres;
mod flags;
mod io_errors;
mod parallel;
mod postgres;
mod races;
mod run;
mod tags;
