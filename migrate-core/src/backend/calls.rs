//! The runner's calls to a backend that name the migration they are for when they fail.

use crate::backend::{Backend, Freshness, HistoryChange, TxMode};
use crate::error::{Error, Result};
use crate::migration::BoxError;
use crate::registry::RegisteredMigration;

/// Opens a transaction holding the lock, naming `m` if that fails.
pub(crate) fn begin(
    backend: &mut dyn Backend,
    m: &RegisteredMigration,
    mode: TxMode,
) -> Result<Freshness> {
    backend.begin(mode).map_err(|source| {
        Error::database(
            format!("start the transaction of migration {m} (take the write lock)"),
            source,
        )
    })
}

pub(crate) fn rollback(backend: &mut dyn Backend, m: &RegisteredMigration) {
    if let Err(error) = backend.rollback() {
        // The transaction is gone either way; the database discards what it did not commit.
        log::warn!("rolling back migration {m} failed: {error}");
    }
}

/// Deletes the row of `m`'s version, if any.
pub(crate) fn delete_row(
    backend: &mut dyn Backend,
    m: &RegisteredMigration,
) -> Result<(), BoxError> {
    backend.write_history(HistoryChange::Delete {
        set: m.set(),
        version: m.version(),
    })
}
