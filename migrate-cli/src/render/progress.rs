//! What a run prints as it goes: a line per migration, or a bar on a terminal when there
//! are many, then a summary line.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use migrate_core::{Direction, Migrator, StepReport, Target};

use crate::render::millis;

/// Runs `run` with a progress line (or bar) per migration, sized from a plan made before
/// the run. `only` makes the run refuse a plan that would move the other way (`up` never
/// reverts, `down` never applies), decided by the run under the write lock, on the
/// history it reads there.
pub(crate) fn with_progress(
    migrator: &Migrator,
    db: &mut dyn migrate_core::Backend,
    target: Target,
    dry_run: bool,
    only: Direction,
    run: impl FnOnce(
        &Migrator,
        &mut dyn migrate_core::Backend,
    ) -> Result<migrate_core::Report, migrate_core::Error>,
) -> Result<(), migrate_core::Error> {
    let migrator = migrator.clone().only_direction(only);
    let planned = migrator.plan(db, target)?;
    let progress = Arc::new(Mutex::new(ProgressOutput::new(
        planned.steps.len(),
        dry_run,
    )));
    let sink = Arc::clone(&progress);
    let migrator = migrator.on_progress(move |step| {
        if let Ok(mut progress) = sink.lock() {
            progress.step(step);
        }
    });
    let report = run(&migrator, db)?;
    print_summary(&report, dry_run, !planned.steps.is_empty());
    Ok(())
}

/// The last line of a run: what it did, or that there was nothing to do.
pub(crate) fn print_summary(report: &migrate_core::Report, dry_run: bool, planned: bool) {
    if report.steps.is_empty() {
        if planned {
            outln!("nothing to do: another process migrated the database meanwhile");
        } else {
            outln!("nothing to do: the database is up to date");
        }
        return;
    }
    let total: std::time::Duration = report.steps.iter().map(|s| s.duration).sum();
    let count = match report.steps.len() {
        1 => "1 migration".to_owned(),
        n => format!("{n} migrations"),
    };
    // Steps that ran no code: skipped migrations (up), skipped rows removed (down).
    let skipped = |direction: Direction| {
        report
            .steps
            .iter()
            .filter(|s| s.skipped.is_some() && s.direction == direction)
            .count()
    };
    let without_code = match (skipped(Direction::Up), skipped(Direction::Down), dry_run) {
        (0, 0, _) => String::new(),
        (n, 0, false) => format!(" ({n} of them skipped: no code ran)"),
        (n, 0, true) => format!(" ({n} of them would be skipped: no code ran)"),
        (0, n, false) => {
            format!(" ({n} of them skipped ones whose rows were removed: no code ran)")
        }
        (0, n, true) => {
            format!(" ({n} of them skipped ones whose rows would be removed: no code ran)")
        }
        (up, down, _) => format!(" ({up} skipped, {down} skipped rows removed: no code ran)"),
    };
    if dry_run {
        outln!(
            "dry run: {count} succeeded{without_code} in {} and rolled back; nothing was kept",
            millis(total)
        );
    } else {
        outln!("done: {count}{without_code} in {}", millis(total));
    }
}

/// One line per finished migration, or a bar on a terminal when there are many.
pub(crate) struct ProgressOutput {
    total: usize,
    bar: bool,
    done: usize,
    verb_prefix: &'static str,
}

/// Above this many steps a terminal gets a progress bar instead of a line per migration.
const BAR_FROM: usize = 20;

impl ProgressOutput {
    pub(crate) fn new(total: usize, dry_run: bool) -> Self {
        ProgressOutput {
            total,
            bar: total >= BAR_FROM && std::io::stderr().is_terminal(),
            done: 0,
            verb_prefix: if dry_run { "would have " } else { "" },
        }
    }

    pub(crate) fn step(&mut self, step: &StepReport) {
        self.done += 1;
        if self.bar {
            let mut err = std::io::stderr();
            let _ = write!(err, "{}", bar(self.done, self.total, step));
            if self.done == self.total {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        } else {
            outln!("{}", self.line(step));
        }
    }

    /// The line of a finished step: `applied     3 Add tags (0.4 ms)`; a step that ran no
    /// code says why (`skipped     4 "Seed demo users": REASON`).
    fn line(&self, step: &StepReport) -> String {
        let dry_run = !self.verb_prefix.is_empty();
        let Some(reason) = &step.skipped else {
            let verb = match step.direction {
                Direction::Up => "applied",
                Direction::Down => "reverted",
            };
            return format!(
                "{}{verb:<8} {:>4} {} ({})",
                self.verb_prefix,
                step.version,
                step.description,
                millis(step.duration)
            );
        };
        match (step.direction, dry_run) {
            (Direction::Up, false) => format!(
                "{:<8} {:>4} {:?}: {reason}",
                "skipped", step.version, step.description
            ),
            // As wide as `would have applied `, so that the versions line up.
            (Direction::Up, true) => format!(
                "{:<19} {:>4} {:?}: {reason}",
                "would skip", step.version, step.description
            ),
            (Direction::Down, false) => format!(
                "removed the skipped row of {} {:?} (it had been skipped: {reason})",
                step.version, step.description
            ),
            (Direction::Down, true) => format!(
                "would remove the skipped row of {} {:?} (it had been skipped: {reason})",
                step.version, step.description
            ),
        }
    }
}

/// One frame of the progress bar: back to the line start, then `[####....] 37/120 ...`.
fn bar(done: usize, total: usize, step: &StepReport) -> String {
    let filled = (done * 30 / total.max(1)).min(30);
    format!(
        "\r[{}{}] {done}/{total} {} {}",
        "#".repeat(filled),
        ".".repeat(30 - filled),
        step.version,
        truncate(step.description, 40)
    )
}

fn truncate(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    out.push_str(&" ".repeat(max.saturating_sub(out.chars().count())));
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_bar_fills_with_the_steps_done() {
        let step = StepReport::new(7, "Add tags", Direction::Up, Duration::from_millis(1));
        let half = bar(10, 20, &step);
        assert!(
            half.starts_with(&format!(
                "\r[{}{}] 10/20 7 Add tags",
                "#".repeat(15),
                ".".repeat(15)
            )),
            "{half:?}"
        );
        assert!(bar(20, 20, &step).starts_with(&format!("\r[{}] 20/20", "#".repeat(30))));
    }
}
