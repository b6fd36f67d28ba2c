//! Linking the crates of the dependency graph that hold migrations.

mod graph;

pub(crate) use graph::{TREE_FORMAT, cargo, enabled_features, find, parse_manifest, render};
pub use graph::{LINK_FILE, RUNTIME_PACKAGES};
