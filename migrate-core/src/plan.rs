//! The planner: a pure function from the known migrations, the applied history and a
//! target to the ordered steps that reach it, or to a refusal. No I/O here.

use crate::error::{Error, Result};
use crate::history::AppliedMigration;
use crate::registry::RegisteredMigration;

/// Whether a step applies (`up`) or reverts (`down`) its migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Apply: run `up` and record it in the history.
    Up,
    /// Revert: run `down` and remove it from the history.
    Down,
}

impl core::fmt::Display for Direction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

/// Where a run should leave the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Every known migration applied.
    Latest,
    /// Exactly the known migrations up to and including this version applied; `0`
    /// reverts everything.
    Version(u64),
}

/// Choices that change what the planner accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Apply a pending migration whose version is below the highest applied one,
    /// instead of refusing.
    pub allow_out_of_order: bool,
}

/// One step of a plan: a migration and the direction to run it in.
#[derive(Clone, Copy, Debug)]
pub struct Step {
    /// The migration to run.
    pub migration: &'static RegisteredMigration,
    /// Apply or revert.
    pub direction: Direction,
}

/// The ordered steps that take the database to a target: reverts first (highest version
/// first), then applies (lowest first).
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

impl Plan {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Plans the steps from `applied` to `target`.
///
/// `known` must be sorted by version without duplicates (as discovery returns it);
/// `applied` may be in any order.
///
/// # Errors
///
/// Refuses with [`Error::UnknownApplied`] when the history holds a version `known`
/// lacks, [`Error::UnknownTarget`] for a target that is neither 0 nor known,
/// [`Error::Irreversible`] when a revert would cross a migration without `down`, and
/// [`Error::OutOfOrder`] when a pending migration is older than an applied one and
/// `options` do not allow it.
pub fn plan(
    known: &[&'static RegisteredMigration],
    applied: &[AppliedMigration],
    target: Target,
    options: PlanOptions,
) -> Result<Plan> {
    let mut applied_versions: Vec<u64> = applied.iter().map(|a| a.version).collect();
    applied_versions.sort_unstable();
    applied_versions.dedup();

    // One merge walk over both sorted lists: which known migrations are applied, and
    // which applied versions are unknown.
    let mut is_applied = vec![false; known.len()];
    let mut unknown: Vec<u64> = Vec::new();
    let mut k = 0;
    for &version in &applied_versions {
        while k < known.len() && known[k].version() < version {
            k += 1;
        }
        if k < known.len() && known[k].version() == version {
            is_applied[k] = true;
        } else {
            unknown.push(version);
        }
    }
    if let Some(&version) = unknown.first() {
        let row = applied.iter().find(|a| a.version == version);
        return Err(Error::UnknownApplied {
            version,
            description: row.map(|r| r.description.clone()).unwrap_or_default(),
            type_name: row.map(|r| r.type_name.clone()).unwrap_or_default(),
            others: unknown.len() - 1,
        });
    }

    let latest = known.last().map_or(0, |m| m.version());
    let target = match target {
        Target::Latest => latest,
        Target::Version(0) => 0,
        Target::Version(v) if known.binary_search_by_key(&v, |m| m.version()).is_ok() => v,
        Target::Version(version) => return Err(Error::UnknownTarget { version, latest }),
    };

    let mut steps = Vec::new();
    for (i, m) in known.iter().enumerate().rev() {
        if is_applied[i] && m.version() > target {
            if !m.is_reversible() {
                return Err(Error::Irreversible {
                    version: m.version(),
                    description: m.description(),
                    file: m.file(),
                    target,
                });
            }
            steps.push(Step {
                migration: m,
                direction: Direction::Down,
            });
        }
    }

    let highest_remaining = known
        .iter()
        .zip(&is_applied)
        .filter(|(m, applied)| **applied && m.version() <= target)
        .map(|(m, _)| m.version())
        .next_back()
        .unwrap_or(0);
    for (i, m) in known.iter().enumerate() {
        if m.version() > target {
            break;
        }
        if is_applied[i] {
            continue;
        }
        if m.version() < highest_remaining && !options.allow_out_of_order {
            return Err(Error::OutOfOrder {
                version: m.version(),
                description: m.description(),
                file: m.file(),
                highest_applied: highest_remaining,
            });
        }
        steps.push(Step {
            migration: m,
            direction: Direction::Up,
        });
    }
    Ok(Plan { steps })
}
