//! The migration history document: every migration, where it is defined, when the
//! database applied it, and the schema it leaves behind (read from `sqlite_master` after
//! applying the migrations one by one on an in-memory database).

use std::fmt::Write as _;

use migrate_core::{MigrationStatus, Migrator, State};

use crate::Sqlite;

pub fn markdown(
    migrator: &Migrator,
    applied: Option<&[MigrationStatus]>,
) -> Result<String, migrate_core::Error> {
    let mut doc = String::from("# Migration history\n\n");
    if !migrator.set().is_empty() {
        let _ = writeln!(doc, "Set `{}`.\n", migrator.set());
    }
    doc.push_str("| version | description | file | applied at |\n|---:|---|---|---|\n");
    let applied_at = |version: u64| -> String {
        let row = applied.and_then(|rows| rows.iter().find(|r| r.version == version));
        match row.map(|r| &r.state) {
            Some(State::Applied { applied_at, .. } | State::Modified { applied_at, .. }) => {
                applied_at.clone()
            }
            Some(State::Incomplete { .. }) => "incomplete".to_owned(),
            Some(_) => "pending".to_owned(),
            None if applied.is_some() => "pending".to_owned(),
            None => "(no database given)".to_owned(),
        }
    };
    for m in migrator.migrations() {
        let _ = writeln!(
            doc,
            "| {} | {} | `{}` | {} |",
            m.version(),
            m.description().replace('|', "\\|"),
            super::errors::relative(m.file()),
            applied_at(m.version())
        );
    }

    let mut db = Sqlite::open_in_memory()?;
    for m in migrator.migrations() {
        migrator.to_version(&mut db, m.version())?;
        let _ = writeln!(
            doc,
            "\n## {} {}\n\nDefined in `{}` (line {}){}. The schema after it:\n\n```sql",
            m.version(),
            m.description(),
            super::errors::relative(m.file()),
            m.line(),
            if m.is_reversible() {
                ""
            } else {
                "; irreversible"
            }
        );
        for statement in schema(&db)? {
            let _ = writeln!(doc, "{statement};");
        }
        doc.push_str("```\n");
    }
    Ok(doc)
}

fn schema(db: &Sqlite) -> Result<Vec<String>, migrate_core::Error> {
    let read = || -> rusqlite::Result<Vec<String>> {
        let conn = db.connection();
        let mut statement = conn.prepare(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
             AND tbl_name != ?1 ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name",
        )?;
        statement
            .query_map([db.history_table_name()], |row| row.get(0))?
            .collect()
    };
    read().map_err(|source| migrate_core::Error::Database {
        action: "read the schema from sqlite_master".to_owned(),
        source: source.into(),
    })
}
