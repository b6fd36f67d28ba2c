//! The history's rows through this session: reads (a missing table reads as empty),
//! remembered for `begin` to compare, and writes guarded by the step's mark.

use migrate_core::{BoxError, Error, HistoryRead, HistoryRow, NewRow, RegisteredMigration};

use crate::database::{Lock, Postgres};
use crate::freshness::LastRead;
use crate::history;
use crate::offload::off_runtime;
use crate::table::db_message;

const TRANSACTION_ENDED: &str = "the migration's transaction ended before its history row \
    was written: a migration runs inside the transaction that also records it, so its SQL \
    must not COMMIT, ROLLBACK or start a transaction of its own (use SAVEPOINT for a nested \
    one); what it did before that is committed without a history row: check the database by \
    hand";

impl Postgres {
    /// A read of the history that finds no table is an empty history.
    fn read(&mut self, sql: &str) -> Result<Option<Vec<postgres::SimpleQueryRow>>, BoxError> {
        match self.simple(sql) {
            Ok(rows) => Ok(Some(rows)),
            Err(error) => match error.code() {
                Some(code) if *code == postgres::error::SqlState::UNDEFINED_TABLE => Ok(None),
                Some(code) if *code == postgres::error::SqlState::UNDEFINED_COLUMN => {
                    Err(Box::new(Error::ForeignHistoryTable {
                        table: self.sql.display.clone(),
                        problem: db_message(&error),
                    }))
                }
                _ => Err(error.into()),
            },
        }
    }

    pub(crate) fn remember(&mut self, set: Option<&str>, rows: Option<&[HistoryRow]>) {
        self.last_read = Some(LastRead::new(set, rows, self.held.is_some()));
        // The table's shape is checked again at the next run's first step.
        if self.held.is_none() {
            self.table_ready = false;
        }
    }

    pub(crate) fn read_history_rows(&mut self) -> Result<Vec<HistoryRow>, BoxError> {
        let sql = self.sql.select.clone();
        let Some(rows) = self.read(&sql)? else {
            return Ok(Vec::new());
        };
        rows.iter()
            .map(|row| history::full_row(row, &self.sql.display))
            .collect()
    }

    /// The narrow read of `set` as the server sent it; empty when there is no table.
    fn read_applied_raw(&mut self, set: &str) -> Result<Vec<postgres::SimpleQueryRow>, BoxError> {
        let sql = self.sql.select_applied(set);
        Ok(self.read(&sql)?.unwrap_or_default())
    }

    fn applied_rows(
        &self,
        set: &str,
        rows: &[postgres::SimpleQueryRow],
    ) -> Result<Vec<HistoryRow>, BoxError> {
        let mut read = Vec::with_capacity(rows.len());
        for row in rows {
            read.push(history::applied_row(set, row, &self.sql.display)?);
        }
        Ok(read)
    }

    pub(crate) fn read_applied_rows(&mut self, set: &str) -> Result<Vec<HistoryRow>, BoxError> {
        let rows = self.read_applied_raw(set)?;
        self.applied_rows(set, &rows)
    }

    /// Whether the history still reads as it did when the plan was made.
    pub(crate) fn unchanged_since_read(&mut self) -> Result<bool, BoxError> {
        let Some(read) = self.last_read.take() else {
            return Ok(true);
        };
        let rows = match read.set() {
            Some(set) => self.read_applied_rows(set)?,
            None => self.read_history_rows()?,
        };
        let same = read.returned(&rows);
        self.last_read = Some(read);
        Ok(same)
    }

    /// `sql` prepared on this connection, once.
    /// With the lease lock (a pooler in transaction mode), prepared in each transaction
    /// anew: the pooler may give the next transaction another server connection.
    fn prepared(&mut self, sql: &str) -> Result<postgres::Statement, BoxError> {
        if let Some((_, statement)) = self.prepared.iter().find(|(text, _)| text == sql) {
            return Ok(statement.clone());
        }
        let client = self.client();
        let statement = off_runtime(move || client.prepare(sql))?;
        if self.lock == Lock::Advisory {
            self.prepared.push((sql.to_owned(), statement.clone()));
        }
        Ok(statement)
    }

    pub(crate) fn write_guarded(
        &mut self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<(), BoxError> {
        let statement = self.prepared(sql)?;
        let client = self.client();
        let changed = off_runtime(move || client.execute(&statement, params))?;
        if changed == 1 {
            Ok(())
        } else {
            Err(TRANSACTION_ENDED.into())
        }
    }

    /// Inserts `row` as core encoded it, guarded by the step's mark.
    pub(crate) fn insert_row(&mut self, row: &NewRow<'_>) -> Result<(), BoxError> {
        let version = i64::try_from(row.version())?;
        let micros = i64::try_from(row.duration().as_micros()).unwrap_or(i64::MAX);
        let step = self.step.to_string();
        let sql = self.sql.insert.clone();
        self.write_guarded(
            &sql,
            &[
                &row.set(),
                &version,
                &row.description(),
                &row.type_name(),
                &row.checksum_column(),
                &micros,
                &row.complete(),
                &step,
            ],
        )
    }

    pub(crate) fn delete_row(&mut self, set: &str, version: u64) -> Result<(), BoxError> {
        let version = i64::try_from(version)?;
        let step = self.step.to_string();
        let statement = self.prepared(&self.sql.delete.clone())?;
        let client = self.client();
        let marked = off_runtime(move || client.query(&statement, &[&set, &version, &step]))?;
        if marked.len() == 1 {
            Ok(())
        } else {
            Err(TRANSACTION_ENDED.into())
        }
    }

    /// Compares the rows as the server sent them: when nothing is to be done, no row is
    /// built and no key kept.
    pub(crate) fn read_unless_up_to_date(
        &mut self,
        set: &str,
        known: &[&'static RegisteredMigration],
    ) -> Result<HistoryRead, BoxError> {
        let raw = self.read_applied_raw(set)?;
        if history::up_to_date(&raw, known) {
            self.remember(Some(set), None);
            return Ok(HistoryRead::UpToDate);
        }
        let rows = self.applied_rows(set, &raw)?;
        self.remember(Some(set), Some(&rows));
        Ok(HistoryRead::Rows(rows))
    }
}
