//! Child `cargo` builds: projects generated into temporary directories, depending on this
//! workspace's crates by path, built offline and run. One test binary, so that the slow
//! builds share it; none of these modules declares a migration of its own (the
//! migrations are in the generated projects).

mod cross_crate;
mod drift;
mod generated_code_lints;
mod getting_started;
mod link_migration_crates;
mod link_outside_cargo_build;
mod new_postgres;
mod system_sqlite;
