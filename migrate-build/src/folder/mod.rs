//! The migrations folder: its files ([`entries`]) and the generated module list
//! ([`render`]).

mod entries;
pub(crate) mod render;

pub use entries::MigrationFile;
pub(crate) use entries::{migration_files, used_versions};
