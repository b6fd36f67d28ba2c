//! The per-migration `lock_timeout` (`#[migration(.., lock_timeout = "30s")]`): set for
//! the migration's code, in its transaction (`SET LOCAL`) or, for a `transaction = false`
//! migration, on the session, and set back after.

use migrate_core::{BoxError, CodeScope, RegisteredMigration};

use crate::database::{Lock, Postgres};
use crate::history::quote_literal;

impl Postgres {
    /// Sets the session's `lock_timeout` back to what it was before a
    /// `transaction = false` migration set its own. A statement of its own: in the batch
    /// that starts a transaction it would be part of that transaction, and undone with it.
    pub(crate) fn restore_session_lock_timeout(&mut self) -> Result<(), BoxError> {
        if let Some(old) = self.restore_session.take() {
            self.simple(&format!("SET lock_timeout = {}", quote_literal(&old)))?;
        }
        Ok(())
    }

    /// Sets `migration`'s own `lock_timeout` for its code, or the one its transaction
    /// had back after a migration before it set its own.
    pub(crate) fn set_own_lock_timeout(
        &mut self,
        migration: &RegisteredMigration,
        scope: CodeScope,
    ) -> Result<(), BoxError> {
        let in_transaction = scope == CodeScope::InTransaction;
        let own = migration
            .lock_timeout()
            .map(|timeout| match timeout.limit() {
                Some(duration) => format!("{}ms", duration.as_millis().max(1)),
                // PostgreSQL's 0: no limit.
                None => "0".to_owned(),
            });
        let sql = match (own, in_transaction) {
            // The migration before it in this transaction set its own: back to what the
            // transaction had.
            (None, true) => match self.restore_local.take() {
                Some(old) => format!("SET LOCAL lock_timeout = {}", quote_literal(&old)),
                None => return Ok(()),
            },
            (None, false) => return Ok(()),
            // What it replaces is read in the same round trip.
            (Some(own), true) if self.restore_local.is_none() => {
                format!("SHOW lock_timeout; SET LOCAL lock_timeout = '{own}'")
            }
            (Some(own), true) => format!("SET LOCAL lock_timeout = '{own}'"),
            // Through a pooler in transaction mode, a session's SET lands on whichever
            // server connection serves that round trip, stays there for the pooler's
            // next client, and the statements after it may run on another one: nothing
            // is set, and the code runs with the server connection's own lock_timeout.
            (Some(own), false) if matches!(self.lock, Lock::Lease { .. }) => {
                log::warn!(
                    "migration {} ({}) runs without a transaction through the lease lock (a \
                     pooler in transaction mode), where a session's lock_timeout cannot be \
                     set without reaching other clients: it runs with the server's \
                     lock_timeout, not its own {own}; to bound its lock waits, set \
                     lock_timeout for the role (ALTER ROLE .. SET lock_timeout), or run it \
                     on a direct connection with the advisory lock",
                    migration.version(),
                    migration.description()
                );
                return Ok(());
            }
            (Some(own), false) => format!("SHOW lock_timeout; SET lock_timeout = '{own}'"),
        };
        let rows = self.simple(&sql)?;
        if let Some(old) = rows.first().and_then(|row| row.get(0)) {
            let old = old.to_owned();
            if in_transaction {
                self.restore_local = Some(old);
            } else if self.restore_session.is_none() {
                self.restore_session = Some(old);
            }
        }
        Ok(())
    }
}
