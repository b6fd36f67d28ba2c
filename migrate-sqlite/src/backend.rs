//! [`Sqlite`]'s [`Backend`] implementation, and what it needs of the connection: the
//! history table's reads and writes, the write lock, the read-only transactions of
//! conditions and the foreign-key check.

use migrate_core::{
    Backend, BoxError, Capabilities, CodeScope, Db, Error, Freshness, HistoryChange, HistoryRead,
    HistoryRow, NewRow, Read, RegisteredMigration, RowState, Sessions, TxMode, Unsupported,
};
use rusqlite::OptionalExtension;

use crate::db::TRANSACTION_DENIED;
use crate::history;
use crate::sqlite::{ReadOnly, Sqlite};

impl Sqlite {
    fn foreign_table(&self, problem: String) -> BoxError {
        Box::new(Error::ForeignHistoryTable {
            table: self.sql.name.clone(),
            problem,
        })
    }

    /// The history table has every column migrate writes, and no other column that
    /// requires a value.
    fn check_shape(&self) -> Result<(), BoxError> {
        let conn = &self.conn.inner;
        let mut statement = conn
            .prepare("SELECT name, \"notnull\", dflt_value, pk, type FROM pragma_table_info(?1)")?;
        let columns: Vec<(String, bool, Option<String>, i64, String)> = statement
            .query_map([&self.sql.name], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        for expected in history::COLUMNS {
            if !columns.iter().any(|(name, ..)| name == expected) {
                return Err(self.foreign_table(format!("it has no column {expected:?}")));
            }
        }
        if let Some((name, .., declared)) = columns.iter().find(|(name, .., declared)| {
            history::INTEGER_COLUMNS.contains(&name.as_str())
                && !declared.eq_ignore_ascii_case("INTEGER")
        }) {
            return Err(self.foreign_table(format!(
                "its column {name:?} is declared {declared:?} where migrate declares INTEGER"
            )));
        }
        if let Some((name, ..)) = columns.iter().find(|(name, not_null, default, pk, _)| {
            !history::COLUMNS.contains(&name.as_str())
                && (*not_null || *pk > 0)
                && default.is_none()
        }) {
            return Err(self.foreign_table(format!(
                "its column {name:?} requires a value that migrate does not write"
            )));
        }
        Ok(())
    }

    fn data_version(&self) -> rusqlite::Result<i64> {
        self.conn
            .inner
            .query_row("PRAGMA data_version", [], |row| row.get(0))
    }

    fn table_exists(&self, name: &str) -> rusqlite::Result<bool> {
        Ok(self
            .conn
            .inner
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [name],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Prepares `sql` over the history table; `None` when there is no history table.
    ///
    /// A failed prepare with the table present is retried before the table is called
    /// foreign: another connection may have created it between the prepare and the
    /// look (a fresh file with several processes starting at once).
    fn prepare_history(
        &self,
        sql: &str,
    ) -> Result<Option<rusqlite::CachedStatement<'_>>, BoxError> {
        let mut failure = None;
        for _ in 0..3 {
            match self.conn.inner.prepare_cached(sql) {
                Ok(statement) => return Ok(Some(statement)),
                Err(error) => {
                    if !self.table_exists(&self.sql.name)? {
                        return Ok(None);
                    }
                    failure = Some(error);
                }
            }
        }
        Err(self.foreign_table(failure.map_or_else(String::new, |e| e.to_string())))
    }

    /// After a read of the history: what `begin` compares with, and per-run facts that
    /// another connection may have changed since.
    fn mark_read(&mut self, data_version: i64, table_exists: bool) {
        self.table_exists = table_exists;
        // Checked once per run, at its first `begin`, when the table was not made there.
        self.shape_checked = false;
        self.data_version = Some(data_version);
        self.foreign_keys = None;
    }

    /// A row as read, with a value of the wrong type taken as a table that is not ours.
    fn checked_row(
        &self,
        row: rusqlite::Result<Result<HistoryRow, BoxError>>,
    ) -> Result<HistoryRow, BoxError> {
        match row {
            Err(rusqlite::Error::InvalidColumnType(_, ref name, ty))
                if self.declared_integer(name) =>
            {
                Err(Box::new(Error::UnreadableHistoryRow {
                    table: self.sql.name.clone(),
                    problem: format!(
                        "its column `{name}` holds a value of type {ty} where migrate writes \
                         an integer"
                    ),
                }))
            }
            Err(
                error @ (rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)),
            ) => Err(self.foreign_table(error.to_string())),
            Err(error) => Err(error.into()),
            Ok(row) => row,
        }
    }

    /// Whether the history table declares `column` INTEGER, as migrate creates it: a
    /// value of another type in it is a row edited by hand, not a table of another kind.
    fn declared_integer(&self, column: &str) -> bool {
        self.conn
            .inner
            .query_row(
                "SELECT type FROM pragma_table_info(?1) WHERE name = ?2",
                [self.sql.name.as_str(), column],
                |row| row.get::<_, String>(0),
            )
            .is_ok_and(|ty| ty.eq_ignore_ascii_case("INTEGER"))
    }
}

impl Sqlite {
    /// Inserts `row` as core encoded it, the time taken now.
    fn insert_row(&mut self, row: &NewRow<'_>) -> Result<(), BoxError> {
        let version = i64::try_from(row.version())?;
        let micros = i64::try_from(row.duration().as_micros()).unwrap_or(i64::MAX);
        self.conn.inner.prepare_cached(&self.sql.insert)?.execute((
            row.set(),
            version,
            row.description(),
            row.type_name(),
            row.checksum_column(),
            history::utc_now(),
            micros,
            row.complete(),
        ))?;
        Ok(())
    }

    /// The narrow read of `set`; every row built, one in place each (the start-up path).
    fn read_set(&mut self, set: &str) -> Result<Vec<HistoryRow>, BoxError> {
        // The version first: a commit landing between the two reads then makes the next
        // `begin` see a stale history and read again, never the reverse.
        let data_version = self.data_version()?;
        let Some(mut statement) = self.prepare_history(&self.sql.select_applied)? else {
            self.mark_read(data_version, false);
            self.fast.read(Some((set, &[])));
            return Ok(Vec::new());
        };
        let mut read = Vec::new();
        let mut rows = statement.query([set])?;
        while let Some(row) = rows.next()? {
            read.push(self.checked_row(history::read_applied_row(set, row))?);
        }
        drop(rows);
        drop(statement);
        self.mark_read(data_version, true);
        self.fast.read(Some((set, &read)));
        Ok(read)
    }

    /// The full read of every set.
    fn read_all(&mut self) -> Result<Vec<HistoryRow>, BoxError> {
        let data_version = self.data_version()?;
        self.fast.read(None);
        let Some(mut statement) = self.prepare_history(&self.sql.select)? else {
            self.mark_read(data_version, false);
            return Ok(Vec::new());
        };
        let rows = statement
            .query_map([], history::read_row)?
            .map(|row| self.checked_row(row))
            .collect::<Result<Vec<_>, BoxError>>()?;
        drop(statement);
        self.mark_read(data_version, true);
        Ok(rows)
    }

    /// `BEGIN IMMEDIATE`: the write lock, waited for up to the busy timeout. Whether the
    /// history changed since the last read.
    fn begin_immediate(&mut self) -> Result<Freshness, BoxError> {
        self.conn.guard(false);
        self.conn.inner.execute_batch("BEGIN IMMEDIATE")?;
        let now = match self.data_version() {
            Ok(now) => now,
            Err(error) => {
                let _ = self.conn.inner.execute_batch("ROLLBACK");
                return Err(error.into());
            }
        };
        if Some(now) != self.data_version {
            self.fast.stale();
            return Ok(Freshness::Stale);
        }
        Ok(Freshness::Current)
    }

    /// A condition's read-only transaction, under the write lock: it decides on the
    /// database as it is, and the write transaction after it finds any commit made in
    /// between (`PRAGMA data_version`) and plans again.
    fn begin_read_only(&mut self) -> Result<Freshness, BoxError> {
        if !self.conn.inner.is_autocommit() {
            // In a batch: read-only inside its transaction, which sees what it did so far.
            self.conn.inner.execute_batch("PRAGMA query_only = 1")?;
            self.read_only = Some(ReadOnly::Scope);
            return Ok(Freshness::Current);
        }
        let freshness = self.begin_immediate()?;
        self.read_only = Some(ReadOnly::Transaction);
        if freshness == Freshness::Current {
            self.conn.inner.execute_batch("PRAGMA query_only = 1")?;
            self.conn.guard(true);
        }
        Ok(freshness)
    }
}

const ONE_WRITER: &str = "SQLite lets one connection write at a time, so a second migration \
    would only wait for the first; to migrate many SQLite files at once, run the migrator \
    over them with Migrator::fan_out (`migrate up --each`)";

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::TRANSACTIONAL
    }

    fn read_history(&mut self, read: Read<'_>) -> Result<HistoryRead, BoxError> {
        match read {
            Read::SetUnlessUpToDate { set, known } => {
                if self.fast.up_to_date(&self.conn.inner, known) {
                    // Nothing was read: the next `begin` must take the history as changed.
                    self.data_version = None;
                    self.fast.read(None);
                    return Ok(HistoryRead::UpToDate);
                }
                let rows = self.read_set(set)?;
                Ok(HistoryRead::unless_up_to_date(rows, known))
            }
            Read::Set(set) => self.read_set(set).map(HistoryRead::Rows),
            _ => self.read_all().map(HistoryRead::Rows),
        }
    }

    fn write_history(&mut self, change: HistoryChange<'_>) -> Result<(), BoxError> {
        self.fast.write(&change);
        match &change {
            HistoryChange::Insert(row) => {
                if matches!(row.state(), RowState::Incomplete { .. }) {
                    // A mark: the schema read at this step's `begin` is the one its code
                    // starts from.
                    self.keys.hold();
                }
                self.insert_row(row)
            }
            HistoryChange::Delete { set, version } => {
                let version = i64::try_from(*version)?;
                self.conn
                    .inner
                    .prepare_cached(&self.sql.delete)?
                    .execute((set, version))?;
                Ok(())
            }
            HistoryChange::SetChecksum {
                set,
                version,
                checksum_column,
            } => {
                let version = i64::try_from(*version)?;
                self.conn
                    .inner
                    .prepare_cached(&self.sql.update_checksum)?
                    .execute((set, version, checksum_column))?;
                Ok(())
            }
            _ => Err("a change of the history this version of migrate-sqlite cannot write".into()),
        }
    }

    fn begin(&mut self, mode: TxMode) -> Result<Freshness, BoxError> {
        if mode == TxMode::ReadOnly {
            return self.begin_read_only();
        }
        if self.begin_immediate()? == Freshness::Stale {
            return Ok(Freshness::Stale);
        }
        let now = self.data_version.unwrap_or_default();
        if !self.table_exists {
            if let Err(error) = self.conn.inner.execute_batch(&self.sql.create) {
                let _ = self.conn.inner.execute_batch("ROLLBACK");
                return Err(error.into());
            }
            self.table_exists = true;
            self.shape_checked = true;
        }
        if !self.shape_checked {
            // Once per run, and only when there is work: a table we did not create must
            // take our rows before any migration runs.
            if let Err(error) = self.check_shape() {
                let _ = self.conn.inner.execute_batch("ROLLBACK");
                return Err(error);
            }
            self.shape_checked = true;
        }
        self.keys.begin(&self.conn, &mut self.foreign_keys, now);
        self.conn.guard(true);
        Ok(Freshness::Current)
    }

    fn commit(&mut self) -> Result<(), BoxError> {
        let denied = self.conn.transaction_statement_denied();
        self.conn.guard(false);
        if denied {
            return Err(TRANSACTION_DENIED.into());
        }
        if self.conn.inner.is_autocommit() {
            return Err("the migration's transaction ended before its commit".into());
        }
        self.fast.before_commit(&self.conn.inner, &self.sql)?;
        self.conn.inner.execute_batch("COMMIT")?;
        self.fast.committed();
        self.keys.end(true);
        Ok(())
    }

    fn rollback(&mut self) -> Result<(), BoxError> {
        match self.read_only.take() {
            Some(ReadOnly::Scope) => {
                // Back to the batch's transaction, writable.
                self.conn.inner.execute_batch("PRAGMA query_only = 0")?;
                return Ok(());
            }
            Some(ReadOnly::Transaction) => {
                self.conn.guard(false);
                let writable = self.conn.inner.execute_batch("PRAGMA query_only = 0");
                if !self.conn.inner.is_autocommit() {
                    self.conn.inner.execute_batch("ROLLBACK")?;
                }
                return writable.map_err(BoxError::from);
            }
            None => {}
        }
        // What this transaction wrote to the history, the header and the companion table
        // is undone.
        self.fast.rolled_back();
        self.conn.guard(false);
        self.keys.end(false);
        if !self.conn.inner.is_autocommit() {
            self.conn.inner.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    fn end_run(&mut self) -> Result<(), BoxError> {
        // The lock is the write transaction, which every step ends itself.
        Ok(())
    }

    fn db(&mut self) -> &mut dyn Db {
        &mut self.conn
    }

    fn prepare_code(&mut self, _: &RegisteredMigration, _: CodeScope) -> Result<(), BoxError> {
        // SQLite has no per-migration settings: the busy timeout is the connection's.
        Ok(())
    }

    fn verify(&mut self) -> Result<(), BoxError> {
        // Only what the migration could have broken: see `foreign_keys`.
        self.keys.check(&self.conn, self.foreign_keys)
    }

    fn sessions(&mut self) -> Result<&mut dyn Sessions, Unsupported> {
        Err(Unsupported::new(ONE_WRITER))
    }
}
