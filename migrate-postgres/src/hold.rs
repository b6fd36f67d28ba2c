//! The run's migration lock: taken at its first `begin` (the advisory lock, checked once
//! in `pg_locks`, or the lease), given back at its end, and on drop.

use migrate_core::{Backend, BoxError};

use crate::database::{Held, Lock, Postgres};
use crate::lease;
use crate::lock;
use crate::offload::off_runtime;

impl Postgres {
    /// Takes the migration lock unless this session holds it; `true` when taken now.
    pub(crate) fn take_lock(&mut self) -> Result<bool, BoxError> {
        if self.held.is_some() {
            return Ok(false);
        }
        let scope = lock::scope(&self.sql.display, "");
        let wait = self.lock_wait;
        if let Lock::Lease { ttl } = self.lock {
            let Some(config) = self.config.clone() else {
                return Err(
                    "the lease lock renews its lease on a connection of its own: \
                            connect with Postgres::connect or Postgres::connect_config, not \
                            from_client; nothing was written"
                        .into(),
                );
            };
            let table = lease::table(&self.schema, &self.table);
            let client = self.client();
            let lease =
                off_runtime(move || lease::acquire(client, &config, &table, ttl, wait, &scope))?;
            self.held = Some(Held::Lease(lease));
            return Ok(true);
        }
        let key = lock::key(&self.schema, &self.table, "");
        let first = !self.verified;
        let client = self.client();
        off_runtime(move || {
            lock::acquire(
                client,
                key,
                wait,
                &scope,
                first,
                "Postgres::lock_wait, --lock-wait",
            )
        })?;
        self.held = Some(Held::Advisory(key));
        if !self.verified {
            let client = self.client();
            let shown = off_runtime(move || lock::really_held(client, key));
            if !matches!(shown, Ok(true)) {
                self.release_all();
                return Err(shown.err().unwrap_or_else(|| {
                    "the server granted an advisory lock but does not show it in pg_locks for \
                     this session: either the connection goes through a pooler in \
                     transaction mode (PgBouncer), where a session's lock does not hold, or \
                     the server speaks PostgreSQL's protocol without its locks (CockroachDB, \
                     YugabyteDB and Aurora DSQL do so); behind a pooler, use the lease lock \
                     (Postgres::lock(Lock::LEASE)) or connect to the server directly; \
                     nothing was written"
                        .into()
                }));
            }
            self.verified = true;
        }
        Ok(true)
    }

    /// Gives the lock back.
    pub(crate) fn unlock(&mut self) -> Result<(), BoxError> {
        match self.held.take() {
            None => Ok(()),
            Some(Held::Advisory(key)) => {
                let client = self.client();
                off_runtime(move || lock::release(client, key))
            }
            Some(Held::Lease(lease)) => {
                let client = self.client();
                off_runtime(move || lease.release(client))
            }
            Some(Held::Parent { .. }) => Ok(()),
        }
    }

    /// Ends whatever is open: the transaction, then the lock.
    pub(crate) fn release_all(&mut self) {
        self.read_only_scope = false;
        if self.step != 0 {
            let _ = self.rollback();
        }
        if let Err(error) = self.restore_session_lock_timeout() {
            log::warn!("could not set the session's lock_timeout back: {error}");
        }
        if let Err(error) = self.unlock() {
            log::warn!("could not release the migration lock: {error}");
        }
        if let Some(read) = &mut self.last_read {
            read.lock_released();
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // The server drops a session's locks with the session anyway; this also covers a
        // run that unwound past `end_run`.
        self.release_all();
    }
}
