//! What a run reports: one entry per migration applied or reverted.

use core::time::Duration;

use crate::direction::Direction;

/// What a run did: one entry per migration applied or reverted, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    /// The migration's version.
    pub version: u64,
    /// Its description.
    pub description: &'static str,
    /// Applied or reverted.
    pub direction: Direction,
    /// How long its `up` or `down` took.
    pub duration: Duration,
}
