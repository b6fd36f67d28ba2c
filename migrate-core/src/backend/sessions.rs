//! Sessions: the optional capability behind parallel runs
//! ([`Migrator::parallel`](crate::Migrator::parallel)).

use core::fmt;

use crate::backend::Backend;
use crate::migration::BoxError;

/// Why a backend cannot run independent migrations at once ([`Backend::sessions`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    reason: String,
}

impl Unsupported {
    /// Unsupported, for `reason` (a sentence that says what to do instead).
    pub fn new(reason: impl Into<String>) -> Self {
        Unsupported {
            reason: reason.into(),
        }
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Unsupported {}

/// More sessions on the same database, for a run that applies independent migrations at
/// once ([`Migrator::parallel`](crate::Migrator::parallel)): what
/// [`Backend::sessions`] gives a backend that has them.
pub trait Sessions {
    /// Another session on the same database, history table and set: opened after this
    /// session took the migration lock, it runs steps under that lock (it never takes
    /// the lock itself, and its [`begin`](Backend::begin) always reports
    /// [`Freshness::Current`](crate::Freshness::Current): the run that opened it made its
    /// plan under the lock).
    ///
    /// # Errors
    ///
    /// When the session cannot be opened; nothing was written.
    fn sibling(&mut self) -> Result<Box<dyn Backend + Send>, BoxError>;
}
