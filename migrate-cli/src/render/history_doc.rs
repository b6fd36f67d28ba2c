//! The migration history document: every migration, where it is defined, when the
//! database applied it, and the schema it leaves behind, read after applying the
//! migrations one by one on a scratch database: for SQLite an in-memory database (its
//! `sqlite_master`), for PostgreSQL a schema of its own on the same server (its catalog,
//! as `Postgres::schema_objects` lists it), dropped at the end.

use std::fmt::Write as _;

use migrate_core::{MigrationStatus, Migrator, RegisteredMigration, State};

use crate::filter::Filter;
use crate::open::scratch::Scratch;
use crate::render::path::relative;

/// The document of the migrations `filter` selects; `scratch` is where the schema after
/// each migration is built, or `Err(why_not)` for the table alone, with a line saying why.
/// Each migration's section has a line with its tags, category and declared dependencies
/// (`Tags: billing, slow · Category: data · After: 1, 3`) when it has any.
///
/// A migration skipped in the database (its condition was false) is marked so in the
/// table, with the reason; its section says so instead of showing a schema, as its code
/// did not run: in the database's history when it is skipped there, else when its
/// condition, evaluated on the scratch database with the same `--environment`, is false.
pub(crate) fn markdown(
    migrator: &Migrator,
    filter: &Filter,
    applied: Option<&[MigrationStatus]>,
    scratch: Result<Box<dyn Scratch>, &str>,
) -> Result<String, migrate_core::Error> {
    let mut doc = String::from("# Migration history\n\n");
    if !migrator.set().is_empty() {
        let _ = writeln!(doc, "Set `{}`.\n", migrator.set());
    }
    if !filter.is_empty() {
        let _ = writeln!(doc, "Only the migrations with {}.\n", filter.describe());
    }
    let selected: Vec<&RegisteredMigration> = migrator
        .migrations()
        .iter()
        .copied()
        .filter(|m| filter.selects(m))
        .collect();
    doc.push_str("| version | description | file | applied at |\n|---:|---|---|---|\n");
    let applied_row =
        |version: u64| applied.and_then(|rows| rows.iter().find(|r| r.version == version));
    let applied_at = |version: u64| -> String {
        match applied_row(version).map(|r| &r.state) {
            Some(State::Applied { applied_at, .. } | State::Modified { applied_at, .. }) => {
                applied_at.clone()
            }
            Some(State::Incomplete { .. }) => "incomplete".to_owned(),
            Some(State::Skipped { reason, .. }) => format!("skipped: {}", cell(reason)),
            Some(_) => "pending".to_owned(),
            None if applied.is_some() => "pending".to_owned(),
            None => "(no database given)".to_owned(),
        }
    };
    for m in &selected {
        let _ = writeln!(
            doc,
            "| {} | {} | `{}` | {} |",
            m.version(),
            cell(m.description()),
            relative(m.file()),
            applied_at(m.version())
        );
    }

    let mut db = match scratch {
        Ok(db) => db,
        Err(why_not) => {
            let _ = writeln!(
                doc,
                "\nThe schema after each migration is not shown: {why_not}."
            );
            return Ok(doc);
        }
    };
    for m in selected {
        // Up to it: the migrations the filter leaves out run too, as in the database.
        let report = migrator.to_version(db.backend(), m.version())?;
        let _ = writeln!(doc, "\n## {} {}", m.version(), m.description());
        if let Some(labels) = labels(m) {
            let _ = writeln!(doc, "\n{labels}");
        }
        let state = applied_row(m.version()).map(|r| &r.state);
        let on_scratch = report
            .steps
            .iter()
            .find(|step| step.version == m.version())
            .and_then(|step| step.skipped.as_deref());
        let skipped = match (state, on_scratch) {
            (Some(State::Skipped { reason, .. }), _) => Some(format!("Skipped: {reason}.")),
            (Some(State::Applied { .. } | State::Modified { .. }), Some(reason)) => Some(format!(
                "Skipped on the scratch database the schema is built on: {reason}; the \
                 database has it applied, so its schema differs from the one shown here."
            )),
            (_, Some(reason)) => Some(format!(
                "Skipped on the scratch database the schema is built on: {reason}."
            )),
            (_, None) => None,
        };
        if let Some(skipped) = skipped {
            let _ = writeln!(
                doc,
                "\nDefined in `{}` (line {}). {skipped} Its code did not run: no schema \
                 change.",
                relative(m.file()),
                m.line(),
            );
            continue;
        }
        let schema = db.schema()?;
        let _ = writeln!(
            doc,
            "\nDefined in `{}` (line {}){}. The schema after it:\n\n```{}",
            relative(m.file()),
            m.line(),
            if m.is_reversible() {
                ""
            } else {
                "; irreversible"
            },
            schema.language
        );
        for line in schema.lines {
            let _ = writeln!(doc, "{line}");
        }
        doc.push_str("```\n");
    }
    Ok(doc)
}

/// `text` in a markdown table's cell: a `|` escaped.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// `Tags: billing, slow · Category: data · After: 1, 3`, the parts `m` has; `None` when it
/// has none of them. `After: none` is a migration declared to need no other
/// (`after = []`).
fn labels(m: &RegisteredMigration) -> Option<String> {
    let mut parts = Vec::new();
    if !m.tags().is_empty() {
        parts.push(format!("Tags: {}", m.tags().join(", ")));
    }
    if let Some(category) = m.category() {
        parts.push(format!("Category: {category}"));
    }
    match m.dependencies() {
        None => {}
        Some([]) => parts.push("After: none".to_owned()),
        Some(after) => {
            let versions: Vec<String> = after.iter().map(u64::to_string).collect();
            parts.push(format!("After: {}", versions.join(", ")));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}
