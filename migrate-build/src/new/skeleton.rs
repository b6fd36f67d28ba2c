//! The code of a new migration file.

use super::Runtime;

/// The new file's code for `runtime`: rustfmt-formatted, warning-free, and refusing to
/// run until its `up` and `down` are written.
pub(super) fn skeleton(
    runtime: Runtime,
    version: u64,
    description: &str,
    type_name: &str,
    file_name: &str,
) -> String {
    let runtime = runtime.crate_name();
    let doc: String = description
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        r#"use {runtime}::{{BoxError, Db, Migration, Reversible, migration}};

/// {doc}
#[migration(version = {version}, description = {description:?})]
pub struct {type_name};

impl Migration for {type_name} {{
    fn up(&self, _db: &mut dyn Db) -> Result<(), BoxError> {{
        // Apply the change (and rename `_db` to `db`), e.g.
        // db.execute("ALTER TABLE users ADD COLUMN email TEXT")
        Err("`up` is not written yet: write it in {file_name}".into())
    }}
}}

impl Reversible for {type_name} {{
    fn down(&self, _db: &mut dyn Db) -> Result<(), BoxError> {{
        // Undo what `up` did, e.g. db.execute("ALTER TABLE users DROP COLUMN email");
        // or, if it cannot be undone, delete this impl and add `irreversible` to the
        // attribute.
        Err("`down` is not written yet: write it in {file_name}".into())
    }}
}}
"#
    )
}
