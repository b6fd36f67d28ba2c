//! The example migrations from the plan this project comes from: a chat bot's database,
//! run by `cargo run --example chat_bot` and exercised by the end-to-end tests.
//!
//! The migrations live in [`chat_bot`]; nothing lists them: `#[migration]` registers
//! each one. A program that wants them only has to link this crate (see
//! [`chat_bot::link`]).

pub mod chat_bot;

/// The README's examples, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeExamples;

// docs/getting-started.md is not a doc test: its blocks are the files of one crate,
// which tests/tests/build/getting_started.rs builds, runs and tests.

/// docs/writing-migrations.md, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/writing-migrations.md")]
pub struct WritingMigrationsExamples;

/// docs/discovery.md, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/discovery.md")]
pub struct DiscoveryExamples;

/// docs/errors.md, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/errors.md")]
pub struct ErrorsExamples;

/// docs/many-databases.md, run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/many-databases.md")]
pub struct ManyDatabasesExamples;

/// docs/postgres.md, compiled as doc tests (they need a server to run, which
/// tests/tests/postgres/backend.rs has).
#[cfg(doctest)]
#[doc = include_str!("../../docs/postgres.md")]
pub struct PostgresExamples;
