//! The [`Backend`] impl of [`Postgres`]: what the runner calls, in the order the trait
//! documents.

use migrate_core::{
    Backend, BoxError, Capabilities, CodeScope, Db, Freshness, HistoryChange, HistoryRead, Read,
    RegisteredMigration, Sessions, TxMode, Unsupported,
};

use crate::database::{Held, Postgres};
use crate::freshness::LastRead;
use crate::lock;
use crate::offload::off_runtime;
use crate::table::read_only;

impl Postgres {
    /// The transaction's mark and `lock_timeout`, after `BEGIN` or `BEGIN READ ONLY`.
    fn start(&mut self, begin: &str) -> Result<(), BoxError> {
        self.restore_session_lock_timeout()?;
        self.restore_local = None;
        self.steps += 1;
        let mut start = format!("{begin}; SET LOCAL migrate.step = '{}'", self.steps);
        if let Some(timeout) = self.lock_timeout {
            start.push_str(&format!(
                "; SET LOCAL lock_timeout = '{}ms'",
                timeout.as_millis()
            ));
        }
        let client = self.client();
        off_runtime(move || client.batch_execute(&start))?;
        self.step = self.steps;
        self.tx.in_transaction = true;
        Ok(())
    }
}

impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TRANSACTIONAL
    }

    fn read_history(&mut self, read: Read<'_>) -> Result<HistoryRead, BoxError> {
        match read {
            Read::SetUnlessUpToDate { set, known } => self.read_unless_up_to_date(set, known),
            Read::Set(set) => {
                let rows = self.read_applied_rows(set)?;
                self.remember(Some(set), Some(&rows));
                Ok(HistoryRead::Rows(rows))
            }
            _ => {
                let rows = self.read_history_rows()?;
                self.remember(None, Some(&rows));
                Ok(HistoryRead::Rows(rows))
            }
        }
    }

    fn write_history(&mut self, change: HistoryChange<'_>) -> Result<(), BoxError> {
        match change {
            HistoryChange::Insert(row) => self.insert_row(&row),
            HistoryChange::Delete { set, version } => self.delete_row(set, version),
            HistoryChange::SetChecksum {
                set,
                version,
                checksum_column,
            } => {
                let version = i64::try_from(version)?;
                let step = self.step.to_string();
                let sql = self.sql.update_checksum.clone();
                self.write_guarded(&sql, &[&set, &version, &checksum_column, &step])
            }
            _ => {
                Err("a change of the history this version of migrate-postgres cannot write".into())
            }
        }
    }

    fn begin(&mut self, mode: TxMode) -> Result<Freshness, BoxError> {
        if mode == TxMode::ReadOnly && self.step != 0 {
            // In a batch: a read-only savepoint, which sees what the batch did so far;
            // rolling back to it undoes whatever the condition's statements did, failed
            // ones included, and makes the transaction writable again.
            self.simple("SAVEPOINT migrate_condition; SET LOCAL transaction_read_only = on")?;
            self.read_only_scope = true;
            return Ok(Freshness::Current);
        }
        let taken_now = self.take_lock()?;
        if let Some(Held::Lease(lease)) = &self.held
            && lease.lost()
        {
            return Err(
                "the migration lease was lost (this run stalled longer than its time \
                        to live and another run took it over); run again"
                    .into(),
            );
        }
        let begin = match mode {
            TxMode::ReadOnly => "BEGIN READ ONLY",
            TxMode::Write => "BEGIN",
        };
        self.start(begin)?;
        // A read-only transaction creates nothing: a missing table reads as empty.
        let prepared = match mode {
            TxMode::ReadOnly => Ok(()),
            TxMode::Write => self.prepare_table(),
        };
        let ready = prepared.and_then(|()| {
            // A history read before this session held the lock may be out of date.
            let stale = taken_now
                && !self.last_read.as_ref().is_some_and(LastRead::under_lock)
                && !self.unchanged_since_read()?;
            Ok(stale)
        });
        match ready {
            Ok(true) => Ok(Freshness::Stale),
            Ok(false) => Ok(Freshness::Current),
            Err(error) => {
                let _ = self.rollback();
                Err(read_only(error))
            }
        }
    }

    fn commit(&mut self) -> Result<(), BoxError> {
        // With a lease, the commit checks in its own transaction that the lease is still
        // this run's (one simple query with the COMMIT).
        let commit = match &self.held {
            Some(Held::Lease(lease)) => format!("{}; COMMIT", lease.fence()),
            Some(Held::Parent { fence: Some(fence) }) => format!("{fence}; COMMIT"),
            _ => "COMMIT".to_owned(),
        };
        let client = self.client();
        let done = off_runtime(move || client.batch_execute(&commit));
        if done.is_err() && self.table_created {
            self.table_ready = false;
        }
        self.table_created = false;
        self.step = 0;
        self.tx.in_transaction = false;
        self.restore_local = None;
        done.map_err(BoxError::from)
    }

    fn rollback(&mut self) -> Result<(), BoxError> {
        if std::mem::take(&mut self.read_only_scope) {
            self.simple(
                "ROLLBACK TO SAVEPOINT migrate_condition; RELEASE SAVEPOINT migrate_condition",
            )?;
            return Ok(());
        }
        if std::mem::take(&mut self.table_created) {
            self.table_ready = false;
        }
        self.step = 0;
        self.tx.in_transaction = false;
        self.restore_local = None;
        let client = self.client();
        off_runtime(move || client.batch_execute("ROLLBACK"))?;
        if let Some(holders) = self.tx.timed_out.take() {
            // A statement hit the lock_timeout: who held locks, now that we can ask.
            let client = self.client();
            let _ = holders.set(off_runtime(move || lock::table_lock_holders(client)));
        }
        Ok(())
    }

    fn end_run(&mut self) -> Result<(), BoxError> {
        self.read_only_scope = false;
        if self.step != 0 {
            self.rollback()?;
        }
        // The lock goes whether or not the setting could be put back.
        let restored = self.restore_session_lock_timeout();
        self.unlock()?;
        if let Some(read) = &mut self.last_read {
            read.lock_released();
        }
        restored
    }

    fn db(&mut self) -> &mut dyn Db {
        &mut self.tx
    }

    fn prepare_code(
        &mut self,
        migration: &RegisteredMigration,
        scope: CodeScope,
    ) -> Result<(), BoxError> {
        self.set_own_lock_timeout(migration, scope)
    }

    fn verify(&mut self) -> Result<(), BoxError> {
        // PostgreSQL checks constraints itself (deferred ones at the commit).
        Ok(())
    }

    fn sessions(&mut self) -> Result<&mut dyn Sessions, Unsupported> {
        match self.sessions_unsupported() {
            Some(unsupported) => Err(unsupported),
            None => Ok(self),
        }
    }
}
