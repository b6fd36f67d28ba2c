//! Sibling sessions: more sessions like this one, for a run of independent migrations at
//! once, under the lock this one holds.

use migrate_core::{Backend, BoxError, Sessions, Unsupported};

use crate::database::{Held, Postgres};
use crate::lock;

impl Postgres {
    /// Why this session cannot open more sessions like it, if it cannot.
    pub(crate) fn sessions_unsupported(&self) -> Option<Unsupported> {
        self.config.is_none().then(|| {
            Unsupported::new(
                "this session was connected with Postgres::from_client, so migrate cannot open \
                 more sessions like it; connect with Postgres::connect or \
                 Postgres::connect_config",
            )
        })
    }
}

impl Sessions for Postgres {
    fn sibling(&mut self) -> Result<Box<dyn Backend + Send>, BoxError> {
        if let Some(unsupported) = self.sessions_unsupported() {
            return Err(unsupported.into());
        }
        let (Some(config), Some(held)) = (self.config.clone(), &self.held) else {
            return Err(
                "a sibling session is opened by the session holding the migration \
                        lock"
                    .into(),
            );
        };
        let held = match held {
            Held::Lease(lease) => Ok(Some(lease.fence())),
            Held::Parent { fence } => Ok(fence.clone()),
            Held::Advisory(key) => Err(*key),
        };
        // The migrations' unqualified names resolve as on this session, whether its
        // search_path came from the connection string or from a SET since; and this
        // session's id, which holds the advisory lock.
        let row = self.simple("SELECT current_setting('search_path'), pg_backend_pid()::text")?;
        let value = |i: usize| row.first().and_then(|row| row.get(i)).unwrap_or_default();
        let path = value(0).to_owned();
        let fence = match held {
            Ok(fence) => fence,
            Err(key) => Some(lock::fence(value(1).parse()?, key)),
        };
        let mut other = Postgres::connect_config(config)?;
        // Set only when the connection string did not already give it: through a pooler
        // in transaction mode, a session's SET would stay with the server connection.
        let own = other.simple("SELECT current_setting('search_path')")?;
        let own = own.first().and_then(|row| row.get(0)).unwrap_or_default();
        if !path.is_empty() && own != path {
            other.simple(&format!("SET search_path TO {path}"))?;
        }
        other.schema.clone_from(&self.schema);
        other.table.clone_from(&self.table);
        other.sql = self.sql.clone();
        other.lock_wait = self.lock_wait;
        other.lock_timeout = self.lock_timeout;
        other.lock = self.lock;
        other.held = Some(Held::Parent { fence });
        other.verified = true;
        other.table_ready = self.table_ready;
        Ok(Box::new(other))
    }
}
