//! What a fan-out prints once it is over: the summary, as text or (`--format json`) as
//! one JSON document.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use migrate_core::fan_out::{Failed, Outcome, Summary};
use migrate_core::{RegisteredMigration, Report, StepReport};

use crate::fan_out::json::{Json, array};
use crate::fan_out::standing::{Standing, Versions};
use crate::fan_out::targets::DatabaseTarget;
use crate::render::error::render;
use crate::render::millis;
use crate::render::path::relative;

/// `1 database`, `2 databases`.
fn databases(n: usize) -> String {
    if n == 1 {
        "1 database".to_owned()
    } else {
        format!("{n} databases")
    }
}

fn migrations(n: usize) -> String {
    if n == 1 {
        "1 migration".to_owned()
    } else {
        format!("{n} migrations")
    }
}

/// The versions of `steps`, as `3` or `1..4` when they follow one another, else listed.
fn versions(steps: &[StepReport]) -> String {
    let versions: Vec<u64> = steps.iter().map(|s| s.version).collect();
    match versions.as_slice() {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] if last - first + 1 == versions.len() as u64 => {
            format!("{first} to {last}")
        }
        _ => versions
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The error's first line, and the whole of it as the command line words it.
fn error_text(error: &migrate_core::Error) -> (String, Vec<String>) {
    let lines = render(error);
    (lines.first().cloned().unwrap_or_default(), lines)
}

/// The failures of a summary, one block each: `  NAME: message`, causes indented below.
fn failure_blocks(out: &mut String, failed: &[Failed<DatabaseTarget>]) {
    for failure in failed {
        let (_, lines) = error_text(&failure.error);
        let mut lines = lines.iter();
        let _ = writeln!(
            out,
            "  {}: {}",
            failure.target.name,
            lines.next().map_or("", String::as_str)
        );
        for line in lines {
            let _ = writeln!(out, "    {}", line.trim_start());
        }
        if !failure.committed.is_empty() {
            let _ = writeln!(
                out,
                "    (applied before the failure, and kept: {})",
                versions(&failure.committed)
            );
        }
    }
}

/// The failures as a JSON array; each migration's file is looked up in `known`.
fn failures_json(
    failed: &[Failed<DatabaseTarget>],
    known: &[&'static RegisteredMigration],
) -> String {
    array(failed.iter().map(|failure| {
        let mut item = Json::object();
        item.str("target", &failure.target.name);
        match failure.error.migration() {
            Some(m) => {
                let version = m.version;
                let mut migration = Json::object();
                migration.num("version", version);
                migration.str("description", &m.description);
                match known.iter().find(|m| m.version() == version) {
                    Some(m) => migration.str("file", &relative(m.file())),
                    None => migration.raw("file", "null"),
                }
                item.raw("migration", &migration.finish());
            }
            None => item.raw("migration", "null"),
        }
        item.str("error", &error_text(&failure.error).1.join("\n"));
        item.raw(
            "committed",
            &array(failure.committed.iter().map(|s| s.version.to_string())),
        );
        item.finish()
    }))
}

/// What `up` over many targets did.
pub(crate) struct UpTally {
    known: Vec<&'static RegisteredMigration>,
    start: Instant,
    migrated: usize,
    up_to_date: usize,
    applied: usize,
    skipped: usize,
    migrating: Duration,
}

impl UpTally {
    pub(crate) fn new(known: &[&'static RegisteredMigration]) -> Self {
        UpTally {
            known: known.to_vec(),
            start: Instant::now(),
            migrated: 0,
            up_to_date: 0,
            applied: 0,
            skipped: 0,
            migrating: Duration::ZERO,
        }
    }

    /// Counts one finished target; returns its line.
    pub(crate) fn add(
        &mut self,
        outcome: &Outcome<DatabaseTarget, Report>,
        dry_run: bool,
    ) -> String {
        let name = &outcome.target.name;
        let skipped = outcome
            .committed
            .iter()
            .filter(|s| s.skipped.is_some())
            .count();
        self.skipped += skipped;
        self.applied += outcome.committed.len() - skipped;
        self.migrating += outcome.elapsed;
        let skipped_note = match skipped {
            0 => String::new(),
            n => format!(", {n} of them recorded as skipped"),
        };
        match &outcome.result {
            Ok(report) if report.steps.is_empty() => {
                self.up_to_date += 1;
                format!("{name}: up to date")
            }
            Ok(report) => {
                self.migrated += 1;
                let verb = if dry_run { "would apply" } else { "applied" };
                format!(
                    "{name}: {verb} {} ({}{skipped_note}) in {}",
                    migrations(report.steps.len()),
                    versions(&report.steps),
                    millis(outcome.elapsed)
                )
            }
            Err(error) => {
                let kept = if outcome.committed.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} applied before it, and kept: {})",
                        migrations(outcome.committed.len()),
                        versions(&outcome.committed)
                    )
                };
                format!("{name}: failed{kept}: {}", error_text(error).0)
            }
        }
    }

    pub(crate) fn text(
        &self,
        summary: &Summary<DatabaseTarget>,
        dry_run: bool,
        fail_fast: bool,
    ) -> String {
        let total = summary.succeeded + summary.failed.len() + summary.not_started;
        let mut out = String::new();
        let verb = if dry_run {
            "would be migrated"
        } else {
            "migrated"
        };
        let _ = write!(
            out,
            "{}: {} {verb}, {} already up to date, {} failed",
            databases(total),
            self.migrated,
            self.up_to_date,
            summary.failed.len()
        );
        if summary.not_started > 0 {
            let _ = write!(out, ", {} not started", summary.not_started);
        }
        let applied = if dry_run {
            "rehearsed and rolled back"
        } else {
            "applied"
        };
        let _ = writeln!(
            out,
            "; {} {applied} in {:.1} s",
            migrations(self.applied + self.skipped),
            self.start.elapsed().as_secs_f64()
        );
        if !summary.failed.is_empty() {
            let _ = writeln!(out, "failed:");
            failure_blocks(&mut out, &summary.failed);
        }
        if summary.stopped {
            let _ = writeln!(
                out,
                "stopped by Ctrl-C: {} not started; run the same command again to migrate \
                 them (the databases done have nothing left to do)",
                databases(summary.not_started)
            );
        } else if summary.not_started > 0 && fail_fast {
            let _ = writeln!(
                out,
                "--fail-fast: {} not started after the first failure; fix it and run the \
                 same command again",
                databases(summary.not_started)
            );
        } else if !summary.failed.is_empty() {
            let _ = writeln!(
                out,
                "fix what failed and run the same command again: the databases migrated \
                 have nothing left to do, each failed one kept the migrations committed \
                 before its failure"
            );
        }
        out
    }

    pub(crate) fn json(&self, doc: &mut Json, summary: &Summary<DatabaseTarget>) {
        doc.num(
            "targets",
            (summary.succeeded + summary.failed.len() + summary.not_started) as u64,
        );
        doc.num("migrated", self.migrated as u64);
        doc.num("up_to_date", self.up_to_date as u64);
        doc.num("failed", summary.failed.len() as u64);
        doc.num("not_started", summary.not_started as u64);
        doc.bool("stopped", summary.stopped);
        doc.num("applied", self.applied as u64);
        doc.num("skipped", self.skipped as u64);
        doc.num(
            "elapsed_ms",
            u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        doc.raw("failures", &failures_json(&summary.failed, &self.known));
    }
}

/// Where the targets of `status` stand.
pub(crate) struct StatusTally {
    known: Vec<&'static RegisteredMigration>,
    latest: u64,
    versions: Versions,
    up_to_date: usize,
    behind: Vec<(String, u64, Vec<u64>)>,
    attention: Vec<(String, u64, String)>,
}

impl StatusTally {
    pub(crate) fn new(known: &[&'static RegisteredMigration]) -> Self {
        StatusTally {
            known: known.to_vec(),
            latest: known.last().map_or(0, |m| m.version()),
            versions: Versions::new(),
            up_to_date: 0,
            behind: Vec::new(),
            attention: Vec::new(),
        }
    }

    /// Sorts the targets behind and those needing attention by name: the same output
    /// whatever order the workers finished in.
    pub(crate) fn sort(&mut self) {
        self.behind.sort_by(|a, b| a.0.cmp(&b.0));
        self.attention.sort_by(|a, b| a.0.cmp(&b.0));
    }

    /// Whether every target read is up to date.
    pub(crate) fn all_up_to_date(&self) -> bool {
        self.behind.is_empty() && self.attention.is_empty()
    }

    /// Counts one finished target; returns its line and whether it needs a look.
    pub(crate) fn add(&mut self, outcome: &Outcome<DatabaseTarget, Standing>) -> (String, bool) {
        let name = outcome.target.name.clone();
        let standing = match &outcome.result {
            Ok(standing) => standing,
            Err(error) => {
                return (
                    format!("{name}: could not be read: {}", error_text(error).0),
                    true,
                );
            }
        };
        match standing {
            Standing::UpToDate { at } => {
                *self.versions.entry(*at).or_default() += 1;
                self.up_to_date += 1;
                (format!("{name}: up to date at version {at}"), false)
            }
            Standing::Behind { at, pending } => {
                *self.versions.entry(*at).or_default() += 1;
                let line = format!(
                    "{name}: behind: at version {at}, {} pending ({})",
                    pending.len(),
                    list(pending)
                );
                self.behind.push((name, *at, pending.clone()));
                (line, true)
            }
            Standing::Attention { at, problem } => {
                *self.versions.entry(*at).or_default() += 1;
                let line = format!("{name}: needs attention: {problem}");
                self.attention.push((name, *at, problem.clone()));
                (line, true)
            }
        }
    }

    pub(crate) fn text(&self, summary: &Summary<DatabaseTarget>) -> String {
        let total = summary.succeeded + summary.failed.len() + summary.not_started;
        let mut out = String::new();
        let _ = write!(
            out,
            "{}: {} up to date, {} behind, {} need attention, {} could not be read",
            databases(total),
            self.up_to_date,
            self.behind.len(),
            self.attention.len(),
            summary.failed.len()
        );
        if summary.not_started > 0 {
            let _ = write!(out, ", {} not read (stopped)", summary.not_started);
        }
        out.push('\n');
        if !self.versions.is_empty() {
            let _ = writeln!(out, "by version (the latest is {}):", self.latest);
            for (version, count) in self.versions.iter().rev() {
                let _ = writeln!(out, "  version {version}: {}", databases(*count));
            }
        }
        if !self.behind.is_empty() {
            let _ = writeln!(out, "behind (`migrate up` applies the pending migrations):");
            for (name, at, pending) in &self.behind {
                let _ = writeln!(
                    out,
                    "  {name}: at version {at}, {} pending ({})",
                    pending.len(),
                    list(pending)
                );
            }
        }
        if !self.attention.is_empty() {
            let _ = writeln!(
                out,
                "need attention (runs are refused until it is dealt with):"
            );
            for (name, _, problem) in &self.attention {
                let _ = writeln!(out, "  {name}: {problem}");
            }
        }
        if !summary.failed.is_empty() {
            let _ = writeln!(out, "could not be read:");
            failure_blocks(&mut out, &summary.failed);
        }
        out
    }

    pub(crate) fn json(&self, doc: &mut Json, summary: &Summary<DatabaseTarget>) {
        doc.num(
            "targets",
            (summary.succeeded + summary.failed.len() + summary.not_started) as u64,
        );
        doc.num("latest", self.latest);
        doc.num("up_to_date", self.up_to_date as u64);
        doc.num("behind", self.behind.len() as u64);
        doc.num("attention", self.attention.len() as u64);
        doc.num("failed", summary.failed.len() as u64);
        doc.num("not_started", summary.not_started as u64);
        let mut versions = Json::object();
        for (version, count) in &self.versions {
            versions.num(&version.to_string(), *count as u64);
        }
        doc.raw("versions", &versions.finish());
        doc.raw(
            "behind_targets",
            &array(self.behind.iter().map(|(name, at, pending)| {
                let mut item = Json::object();
                item.str("target", name);
                item.num("at", *at);
                item.raw("pending", &array(pending.iter().map(u64::to_string)));
                item.finish()
            })),
        );
        doc.raw(
            "attention_targets",
            &array(self.attention.iter().map(|(name, at, problem)| {
                let mut item = Json::object();
                item.str("target", name);
                item.num("at", *at);
                item.str("problem", problem);
                item.finish()
            })),
        );
        doc.raw("failures", &failures_json(&summary.failed, &self.known));
    }
}

fn list(versions: &[u64]) -> String {
    versions
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_a_range_when_they_follow_one_another() {
        let step = |v| StepReport::new(v, "", migrate_core::Direction::Up, Duration::ZERO);
        assert_eq!(versions(&[step(1), step(2), step(3)]), "1 to 3");
        assert_eq!(versions(&[step(2), step(5)]), "2, 5");
        assert_eq!(versions(&[step(7)]), "7");
    }
}
