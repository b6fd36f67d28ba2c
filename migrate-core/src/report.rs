//! What a run reports: one entry per migration applied or reverted.

use core::time::Duration;

use crate::direction::Direction;

/// What a run did: one entry per migration applied or reverted, in order.
///
/// Read its fields; new ones may be added, so it cannot be built with a struct expression
/// outside this crate (`Report::default()` is the empty report):
///
/// ```compile_fail,E0639
/// let report = migrate_core::Report { steps: Vec::new() };
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// The steps that ran and committed (for a dry run: that ran and were rolled back).
    pub steps: Vec<StepReport>,
}

impl Report {
    /// Whether the run found nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// One migration applied or reverted by a run.
///
/// Read its fields; new ones may be added, so it cannot be built with a struct expression
/// outside this crate: a test of an [`on_progress`](crate::Migrator::on_progress)
/// callback builds one with [`StepReport::new`], not with a struct expression:
///
/// ```compile_fail,E0639
/// let step = migrate_core::StepReport {
///     version: 7,
///     description: "Add tags",
///     direction: migrate_core::Direction::Up,
///     duration: core::time::Duration::ZERO,
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepReport {
    /// The migration's version.
    pub version: u64,
    /// Its description.
    pub description: &'static str,
    /// Applied or reverted.
    pub direction: Direction,
    /// How long its `up` or `down` took.
    pub duration: Duration,
    /// For a migration whose condition was false, the reason it was recorded as skipped
    /// (its code did not run); for a step down past a skipped migration, the reason it had
    /// been skipped (its row went, no code ran). `None` when the code ran.
    pub skipped: Option<String>,
}

impl StepReport {
    /// The report of migration `version` (`description`) run in `direction` in
    /// `duration`, as a run passes it to an
    /// [`on_progress`](crate::Migrator::on_progress) callback: for testing such a callback.
    ///
    /// ```
    /// use core::time::Duration;
    /// use migrate_core::{Direction, StepReport};
    ///
    /// let step = StepReport::new(7, "Add tags", Direction::Up, Duration::from_millis(3));
    /// assert_eq!((step.version, step.description), (7, "Add tags"));
    /// ```
    pub fn new(
        version: u64,
        description: &'static str,
        direction: Direction,
        duration: Duration,
    ) -> Self {
        StepReport {
            version,
            description,
            direction,
            duration,
            skipped: None,
        }
    }

    /// The report of a step that ran no code: a migration recorded as skipped, or the
    /// row of a skipped one removed, with the reason.
    #[must_use]
    pub fn with_skipped(mut self, reason: impl Into<String>) -> Self {
        self.skipped = Some(reason.into());
        self
    }
}
