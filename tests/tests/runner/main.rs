//! The runner on SQLite: conditions, failures and what they leave, the safety checks,
//! the before/after hooks, processes and threads racing, logging and the testing helper.
//!
//! One test binary, so one registry: the modules register their migrations explicitly
//! (`Migrator::for_set`/`register_migrations`, `support::with`) and each uses a version
//! range of its own (1-10 conditions, 101-121 failures, 201-212 concurrency, 301-303
//! before_code, 401 logging, 601-7xx the process races, 801-807 safety, 901-903
//! testing_helper, 1101-1103 races), which the duplicate-version guard keeps apart at
//! compile time. The modules that read the whole registry (`Migrator::discovered_set`)
//! declare their migrations in a set named after the module, so that they read only
//! their own.

mod before_code;
mod concurrency;
mod concurrency_conditions;
mod concurrency_processes;
mod conditions;
mod failures;
mod logging;
mod races;
mod safety;
mod testing_helper;
