//! Which way a step goes: its own module, so that the errors (which name it) and the
//! planner (which returns them) do not depend on each other both ways.

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
