//! Where one database of `status --each` stands, from its status rows.

use std::collections::BTreeMap;

use migrate_core::{MigrationStatus, State};

/// Where one target stands, from its status rows.
#[derive(Debug)]
pub(crate) enum Standing {
    /// Every migration shown is applied (or skipped): at this version.
    UpToDate { at: u64 },
    /// At this version, with these migrations pending.
    Behind { at: u64, pending: Vec<u64> },
    /// A migration is modified, incomplete or unknown to this program: runs are refused
    /// until someone looks.
    Attention { at: u64, problem: String },
}

pub(crate) fn standing(rows: &[MigrationStatus]) -> Standing {
    let at = rows
        .iter()
        .filter(|r| {
            matches!(
                r.state,
                State::Applied { .. } | State::Modified { .. } | State::Unknown { .. }
            )
        })
        .map(|r| r.version)
        .max()
        .unwrap_or(0);
    let problem = rows.iter().find_map(|r| {
        let what = match &r.state {
            State::Modified { .. } => "modified since it was applied (`migrate accept-changes`)",
            State::Incomplete { .. } => {
                "incomplete: it runs outside a transaction and did not finish (`migrate \
                 clear-incomplete`)"
            }
            State::Unknown { .. } => "applied, but this program does not contain it",
            _ => return None,
        };
        Some(format!(
            "migration {} {:?} {what}",
            r.version, r.description
        ))
    });
    if let Some(problem) = problem {
        return Standing::Attention { at, problem };
    }
    let pending: Vec<u64> = rows
        .iter()
        .filter(|r| r.state == State::Pending)
        .map(|r| r.version)
        .collect();
    if pending.is_empty() {
        Standing::UpToDate { at }
    } else {
        Standing::Behind { at, pending }
    }
}

/// The versions at which targets stand, for the summary.
pub(crate) type Versions = BTreeMap<u64, usize>;
