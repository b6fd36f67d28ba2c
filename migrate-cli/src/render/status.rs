//! The status table, with colour on a terminal and plain text when piped (or with
//! `NO_COLOR` set).

use std::io::IsTerminal;

use migrate_core::{MigrationStatus, RegisteredMigration, State};

use crate::filter;
use crate::render::millis;

/// ANSI colours, on only for a terminal without `NO_COLOR`.
#[derive(Clone, Copy)]
pub(crate) struct Style {
    color: bool,
}

impl Style {
    pub(crate) fn stdout() -> Self {
        Style {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    pub(crate) fn green(self, text: &str) -> String {
        self.paint("32", text)
    }

    pub(crate) fn yellow(self, text: &str) -> String {
        self.paint("33", text)
    }

    pub(crate) fn red(self, text: &str) -> String {
        self.paint("31", text)
    }
}

/// The status table: one line per migration. `known` are the migrations of the set: when
/// any of them has a category or tags, the table ends with a `category` or `tags` column,
/// and when a row is skipped, with a `reason` column (so a project without them sees the
/// table it always saw).
pub(crate) fn status_table(
    rows: &[MigrationStatus],
    known: &[&'static RegisteredMigration],
    style: Style,
) -> String {
    let width = rows
        .iter()
        .map(|r| clip(&r.description, DESCRIPTION_WIDTH).chars().count())
        .max()
        .unwrap_or(0)
        .max("description".len());
    let digits = rows
        .iter()
        .map(|r| r.version.to_string().len())
        .max()
        .unwrap_or(0)
        .max("version".len());
    let labels = Labels::of(known, rows);
    let cells: Vec<(String, &str, String)> = rows.iter().map(|row| cells(row, style)).collect();
    let duration_width = cells
        .iter()
        .map(|(_, _, duration)| duration.chars().count())
        .max()
        .unwrap_or(0)
        .max("duration".len());
    let mut out = format!(
        "{:>digits$}  {:<width$}  {:<10}  {:<24}  ",
        "version", "description", "state", "applied at"
    );
    labels.push_row(
        &mut out,
        "duration",
        duration_width,
        ["category", "tags", "reason"],
    );
    for (row, (state, at, duration)) in rows.iter().zip(&cells) {
        // Pad by the visible width: colour codes take no room on screen.
        let pad = 10usize.saturating_sub(state_name(&row.state).len());
        out.push_str(&format!(
            "{:>digits$}  {:<width$}  {state}{:pad$}  {at:<24}  ",
            row.version,
            clip(&row.description, DESCRIPTION_WIDTH),
            ""
        ));
        let migration = filter::find(known, row.version);
        let category = migration.and_then(|m| m.category()).unwrap_or_default();
        let tags = migration.map(|m| m.tags().join(", ")).unwrap_or_default();
        let reason = match &row.state {
            State::Skipped { reason, .. } => clip(reason, REASON_WIDTH),
            _ => String::new(),
        };
        labels.push_row(
            &mut out,
            duration,
            duration_width,
            [category, &tags, &reason],
        );
    }
    out
}

/// The state, applied-at and duration cells of one row.
fn cells(row: &MigrationStatus, style: Style) -> (String, &str, String) {
    match &row.state {
        State::Applied {
            applied_at,
            duration,
        } => (
            style.green("applied"),
            applied_at.as_str(),
            millis(*duration),
        ),
        State::Pending => (style.yellow("pending"), "", String::new()),
        State::Modified {
            applied_at,
            duration,
        } => (
            style.red("modified"),
            applied_at.as_str(),
            millis(*duration),
        ),
        State::Incomplete { started_at } => {
            (style.red("incomplete"), started_at.as_str(), String::new())
        }
        State::Unknown { applied_at } => (style.red("unknown"), applied_at.as_str(), String::new()),
        State::Skipped { skipped_at, .. } => {
            (style.yellow("skipped"), skipped_at.as_str(), String::new())
        }
        _ => (style.red("other"), "", String::new()),
    }
}

/// Which of the status table's last columns exist, and the width of `category`.
struct Labels {
    /// The widest category, `None` when no migration has one (no column).
    category: Option<usize>,
    /// Whether some migration has tags.
    tags: bool,
    /// The widest list of tags, for a `reason` column after them.
    tags_width: usize,
    /// Whether some row is skipped: its reason is the last column.
    reason: bool,
}

impl Labels {
    fn of(known: &[&'static RegisteredMigration], rows: &[MigrationStatus]) -> Self {
        Labels {
            category: known
                .iter()
                .filter_map(|m| m.category())
                .map(str::len)
                .max()
                .map(|widest| widest.max("category".len())),
            tags: known.iter().any(|m| !m.tags().is_empty()),
            tags_width: known
                .iter()
                .map(|m| m.tags().join(", ").len())
                .max()
                .unwrap_or(0)
                .max("tags".len()),
            reason: rows
                .iter()
                .any(|row| matches!(row.state, State::Skipped { .. })),
        }
    }

    /// The end of a line: the duration, then the category, the tags and the reason a
    /// migration was skipped when those columns exist; the last cell is not padded.
    fn push_row(
        &self,
        out: &mut String,
        duration: &str,
        duration_width: usize,
        [category, tags, reason]: [&str; 3],
    ) {
        let mut last = duration.to_owned();
        let mut pad = duration_width;
        if let Some(width) = self.category {
            out.push_str(&format!("{last:<pad$}  "));
            (last, pad) = (category.to_owned(), width);
        }
        if self.tags {
            out.push_str(&format!("{last:<pad$}  "));
            (last, pad) = (tags.to_owned(), self.tags_width);
        }
        // A row that is not skipped ends where it would without the column.
        if self.reason && !reason.is_empty() {
            out.push_str(&format!("{last:<pad$}  "));
            last = reason.to_owned();
        }
        out.push_str(&last);
        out.push('\n');
    }
}

/// The widest reason in the status table's last column; longer ones end with `…`.
const REASON_WIDTH: usize = 80;

/// The widest description column of the status table; longer ones end with `…`.
const DESCRIPTION_WIDTH: usize = 60;

/// `text` on one line of at most `max` characters: control characters (a newline in a
/// description) become spaces, and a longer text is cut with `…`.
fn clip(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut out: String = one_line.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn state_name(state: &State) -> &'static str {
    match state {
        State::Applied { .. } => "applied",
        State::Pending => "pending",
        State::Modified { .. } => "modified",
        State::Incomplete { .. } => "incomplete",
        State::Unknown { .. } => "unknown",
        State::Skipped { .. } => "skipped",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_are_clipped() {
        assert_eq!(clip("Add tags", 60), "Add tags");
        let long = "x".repeat(5000);
        let clipped = clip(&long, 60);
        assert_eq!(clipped.chars().count(), 60);
        assert!(clipped.ends_with('…'));
        assert_eq!(clip("two\nlines", 60), "two lines");
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = Style { color: false };
        let colour = Style { color: true };
        assert_eq!(plain.green("applied"), "applied");
        assert_eq!(colour.green("applied"), "\x1b[32mapplied\x1b[0m");
    }
}
