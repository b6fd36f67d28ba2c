//! The PostgreSQL backend on a real server (a schema of each test's own; see
//! `migrate_test_support::pg`): the backend itself, crashes, lock timeouts, a pooler in
//! front, the scratch schema of `check_migrations`, the work a run does, the start-up
//! read, and parallel runs.
//!
//! One test binary, so one registry: `backend` keeps the default set, and every other
//! module declares its migrations in a set named after the module (the versions repeat
//! between modules), which its migrators name (`Migrator::for_set`).

mod backend;
mod connect_advice;
mod crash;
mod lock_timeout;
mod parallel;
mod parallel_races;
mod pooler;
mod scratch;
mod start;
mod work_counts;
