//! The scratch database on which `history` builds the schema after each migration, as
//! each backend provides it.

use migrate_core::{Backend, Error};

/// A database that exists only while `history` writes its document: the migrations are
/// applied to it one by one, and its schema read after each.
pub(crate) trait Scratch {
    /// What the manager works on.
    fn backend(&mut self) -> &mut dyn Backend;

    /// The schema as it stands, the history table left out.
    fn schema(&mut self) -> Result<SchemaText, Error>;
}

/// The schema of a scratch database, as the history document shows it.
pub(crate) struct SchemaText {
    /// The code block's language: `sql` for statements, `text` for catalog lines.
    pub(crate) language: &'static str,
    /// One statement or object per line, as written into the block.
    pub(crate) lines: Vec<String>,
}
