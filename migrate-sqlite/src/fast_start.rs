//! The fast start ([`Sqlite::fast_start`](crate::Sqlite::fast_start)): a fingerprint of
//! the history kept in the database header's `user_version`, so that a start with
//! everything applied reads two header fields instead of the history.
//!
//! The fingerprint of a set of applied migrations is a 32-bit sum of one hash per
//! migration (its set, version and source checksum), so a step changes it in O(1). When
//! the stored one equals the fingerprint of every migration the program knows, the
//! history holds exactly those migrations with those checksums, and
//! [`Read::SetUnlessUpToDate`] is answered without reading the history. On any
//! difference the full check runs. docs/performance.md says why this cannot skip a
//! pending migration or hide drift.
//!
//! The backend sees every history write of its transactions ([`FastStart::write`]), so
//! it keeps the fingerprint right itself: at each commit of a transaction that changed
//! the history, and in that transaction, it stores the fingerprint of the history as the
//! transaction leaves it, or 0 (no fingerprint) while the history holds an incomplete or
//! a skipped row, or when it does not know the history (the fast start off, or the
//! history not read narrowly first).

use std::collections::HashMap;

use migrate_core::{BoxError, HistoryChange, HistoryRow, RegisteredMigration, RowState};
use migrate_spec::Fnv64;
use rusqlite::{Connection, OptionalExtension};

use crate::history::HistorySql;

/// The hash of one migration: FNV-1a over its set, version and checksum, folded to 32 bits.
fn part(set: &str, version: u64, checksum: &str) -> u32 {
    let mut hash = Fnv64::new();
    hash.field(set.as_bytes());
    hash.field(&version.to_le_bytes());
    hash.field(checksum.as_bytes());
    let hash = hash.finish();
    #[allow(clippy::cast_possible_truncation)]
    let folded = (hash ^ (hash >> 32)) as u32;
    folded
}

/// The fingerprint the history has when exactly `known` is applied, unchanged.
fn of_known(known: &[&'static RegisteredMigration]) -> u32 {
    known
        .iter()
        .map(|m| part(m.set(), m.version(), m.checksum()))
        .fold(0, u32::wrapping_add)
}

/// What one version contributes to a fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Entry {
    /// Applied, with its hash.
    Applied(u32),
    /// Skipped or incomplete: while there is one, the history has no fingerprint a fast
    /// start may trust (a skipped migration's condition is evaluated at every start).
    Unfinished,
}

/// A running fingerprint of one set's history, updated write by write, with the writes of
/// the open transaction undone on its rollback.
#[derive(Clone, Debug)]
struct Fingerprint {
    set: String,
    entries: HashMap<u64, Entry>,
    total: u32,
    unfinished: usize,
    /// The entries the open transaction replaced, to put back on its rollback.
    journal: Vec<(u64, Option<Entry>)>,
}

impl Fingerprint {
    /// The fingerprint of `history`, the rows of `set`.
    fn of_history(set: &str, history: &[HistoryRow]) -> Self {
        let mut fingerprint = Fingerprint {
            set: set.to_owned(),
            entries: HashMap::with_capacity(history.len()),
            total: 0,
            unfinished: 0,
            journal: Vec::new(),
        };
        for row in history {
            let entry = match row.state {
                RowState::Applied => Entry::Applied(part(&row.set, row.version, &row.checksum)),
                _ => Entry::Unfinished,
            };
            fingerprint.put(row.version, Some(entry));
        }
        fingerprint.journal.clear();
        fingerprint
    }

    /// The value to store: `None` while a migration is skipped or marked incomplete.
    fn value(&self) -> Option<u32> {
        (self.unfinished == 0).then_some(self.total)
    }

    fn count(&mut self, entry: Option<Entry>, added: bool) {
        match (entry, added) {
            (Some(Entry::Applied(part)), true) => self.total = self.total.wrapping_add(part),
            (Some(Entry::Applied(part)), false) => self.total = self.total.wrapping_sub(part),
            (Some(Entry::Unfinished), true) => self.unfinished += 1,
            (Some(Entry::Unfinished), false) => self.unfinished -= 1,
            (None, _) => {}
        }
    }

    /// Sets what `version` contributes, remembering what it replaced.
    fn put(&mut self, version: u64, entry: Option<Entry>) {
        let old = match entry {
            Some(entry) => self.entries.insert(version, entry),
            None => self.entries.remove(&version),
        };
        self.count(old, false);
        self.count(entry, true);
        self.journal.push((version, old));
    }

    /// After `change`; `false` when it is a change of another set, which this fingerprint
    /// cannot follow.
    fn apply(&mut self, change: &HistoryChange<'_>) -> bool {
        match change {
            HistoryChange::Insert(row) if row.set() == self.set => {
                let entry = match row.state() {
                    RowState::Applied => {
                        Entry::Applied(part(row.set(), row.version(), row.checksum()))
                    }
                    _ => Entry::Unfinished,
                };
                self.put(row.version(), Some(entry));
                true
            }
            HistoryChange::Delete { set, version } if *set == self.set => {
                self.put(*version, None);
                true
            }
            HistoryChange::SetChecksum {
                set,
                version,
                checksum_column,
            } if *set == self.set => {
                // Only an applied row's hash changes; a skipped row stays skipped.
                if let Some(Entry::Applied(_)) = self.entries.get(version) {
                    let entry = Entry::Applied(part(set, *version, checksum_column));
                    self.put(*version, Some(entry));
                }
                true
            }
            _ => false,
        }
    }

    /// The open transaction committed: its writes stay.
    fn commit(&mut self) {
        self.journal.clear();
    }

    /// The open transaction rolled back: its writes are undone.
    fn rollback(&mut self) {
        while let Some((version, old)) = self.journal.pop() {
            let now = match old {
                Some(entry) => self.entries.insert(version, entry),
                None => self.entries.remove(&version),
            };
            self.count(now, false);
            self.count(old, true);
        }
    }
}

/// The stored fingerprint is bound to the header's schema version, so that any schema
/// change made outside migrate (a dropped history table, a column removed by hand)
/// makes a fast start miss. Multiplying by an odd constant keeps every bit of it.
fn bind(schema_version: i32) -> u32 {
    schema_version.cast_unsigned().wrapping_mul(0x9e37_79b1)
}

/// What the fast start keeps of one connection.
#[derive(Debug, Default)]
pub(crate) struct FastStart {
    /// Whether the fingerprint is trusted at start-up (opt-in). Kept up to date or
    /// invalidated either way.
    pub(crate) on: bool,
    /// Whether the companion table that proves migrate owns `user_version` exists, as
    /// far as this run knows.
    companion_exists: Option<bool>,
    /// `user_version` and the recorded value as this connection's last write left them;
    /// valid while nobody else commits (dropped at every read and every stale `begin`).
    header: Option<(i32, Option<i32>)>,
    /// The fingerprint of the set's history as last read narrowly and written since;
    /// `None` when the fast start is off or the history was not read so.
    tracked: Option<Fingerprint>,
    /// Whether the open transaction changed the history (or the header).
    dirty: bool,
}

impl FastStart {
    /// For [`Read::SetUnlessUpToDate`](migrate_core::Read::SetUnlessUpToDate): whether the
    /// stored fingerprint equals that of every migration in `known`, read where that
    /// costs two header fields (no schema load, however many tables the database has).
    /// Any error is a miss: the full check runs.
    pub(crate) fn up_to_date(
        &self,
        conn: &Connection,
        known: &[&'static RegisteredMigration],
    ) -> bool {
        if !self.on {
            return false;
        }
        let stored = || -> rusqlite::Result<Option<u32>> {
            let value: i32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
            if value == 0 {
                return Ok(None);
            }
            let schema: i32 = conn.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
            Ok(Some(value.cast_unsigned() ^ bind(schema)))
        };
        let hit = matches!(stored(), Ok(Some(stored)) if stored == of_known(known));
        if hit {
            log::debug!("history fingerprint matches every known migration: nothing to do");
        }
        hit
    }

    /// After a read of the history: the per-run facts another connection may have
    /// changed are asked again, and the fingerprint follows the rows of `set` read
    /// (`None`: a read of every set, which it does not follow).
    pub(crate) fn read(&mut self, set_rows: Option<(&str, &[HistoryRow])>) {
        self.companion_exists = None;
        self.header = None;
        self.tracked = match set_rows {
            Some((set, rows)) if self.on => Some(Fingerprint::of_history(set, rows)),
            _ => None,
        };
    }

    /// Another connection committed since the last read.
    pub(crate) fn stale(&mut self) {
        self.header = None;
    }

    /// A history write of the open transaction.
    pub(crate) fn write(&mut self, change: &HistoryChange<'_>) {
        self.dirty = true;
        if let Some(tracked) = &mut self.tracked
            && !tracked.apply(change)
        {
            self.tracked = None;
        }
    }

    /// Right before the commit of the open transaction: when it changed the history,
    /// stores the fingerprint of the history it leaves (or invalidates the stored one),
    /// in the same transaction, so that it commits or rolls back with the history.
    pub(crate) fn before_commit(
        &mut self,
        conn: &Connection,
        sql: &HistorySql,
    ) -> Result<(), BoxError> {
        if !self.dirty {
            return Ok(());
        }
        let fingerprint = self.tracked.as_ref().and_then(Fingerprint::value);
        self.store(conn, sql, fingerprint)
    }

    /// The open transaction committed.
    pub(crate) fn committed(&mut self) {
        self.dirty = false;
        if let Some(tracked) = &mut self.tracked {
            tracked.commit();
        }
    }

    /// The open transaction rolled back: what it wrote to the history, the header and
    /// the companion table is undone.
    pub(crate) fn rolled_back(&mut self) {
        if std::mem::take(&mut self.dirty) {
            self.header = None;
            self.companion_exists = None;
        }
        if let Some(tracked) = &mut self.tracked {
            tracked.rollback();
        }
    }

    /// `user_version` as migrate last recorded writing it, when it ever did.
    fn recorded_user_version(
        &mut self,
        conn: &Connection,
        sql: &HistorySql,
    ) -> Result<Option<i32>, BoxError> {
        let exists = match self.companion_exists {
            Some(exists) => exists,
            None => {
                let exists = conn
                    .query_row(
                        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                        [&sql.companion],
                        |_| Ok(()),
                    )
                    .optional()?
                    .is_some();
                self.companion_exists = Some(exists);
                exists
            }
        };
        if !exists {
            return Ok(None);
        }
        Ok(conn
            .prepare_cached(&sql.companion_select)?
            .query_row([], |row| row.get(0))
            .optional()?)
    }

    /// Stores `fingerprint` (the history's, or `None` when it must never be taken as up
    /// to date), or invalidates the stored value, even with the fast start off, so that
    /// a value stored earlier never outlives the history it described.
    fn store(
        &mut self,
        conn: &Connection,
        sql: &HistorySql,
        fingerprint: Option<u32>,
    ) -> Result<(), BoxError> {
        let (current, recorded) = match self.header {
            Some(header) => header,
            None => {
                let recorded = self.recorded_user_version(conn, sql)?;
                if recorded.is_none() && !self.on {
                    // migrate never wrote user_version here: nothing to keep up to date.
                    return Ok(());
                }
                let current: i32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
                (current, recorded)
            }
        };
        // Ours when it still holds what migrate recorded at its last write; or when it
        // is 0 and the fast start is on (turning it on says the program does not use
        // user_version; 0 is also what the docs say to write after a hand edit).
        let owned = recorded == Some(current) || (current == 0 && self.on);
        if !owned {
            if self.on && self.header.is_none() {
                log::info!(
                    "user_version holds {current}, a value migrate did not write; leaving it \
                     alone, so the start-up check reads the history"
                );
            }
            self.header = Some((current, recorded));
            return Ok(());
        }
        if recorded.is_none() {
            // DDL, so before the schema version is read below.
            conn.execute_batch(&sql.companion_create)?;
            self.companion_exists = Some(true);
        }
        let value = match fingerprint {
            Some(fingerprint) if self.on => {
                let schema: i32 = conn.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
                (fingerprint ^ bind(schema)).cast_signed()
            }
            // Invalidated: a history with an incomplete mark or a skipped row, or a fast
            // start turned off (a later fast start must not trust a value this run did
            // not keep up).
            _ => 0,
        };
        // Inside the transaction: it commits or rolls back with the history.
        let companion = &sql.companion_quoted;
        let record = if recorded.is_some() {
            format!("UPDATE {companion} SET user_version = {value}")
        } else {
            format!("INSERT INTO {companion} (user_version) VALUES ({value})")
        };
        if value != current {
            conn.execute_batch(&format!("PRAGMA user_version = {value}"))?;
        }
        if recorded != Some(value) {
            conn.execute_batch(&record)?;
        }
        self.header = Some((value, Some(value)));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: u64, checksum: &str, complete: bool) -> HistoryRow {
        HistoryRow::new("", version, checksum, complete)
    }

    fn of_parts(parts: &[(u64, &str)]) -> u32 {
        parts
            .iter()
            .map(|(version, checksum)| part("", *version, checksum))
            .fold(0, u32::wrapping_add)
    }

    /// The fingerprint stored in existing databases' headers must stay valid: these are
    /// the hashes the earlier code gave (its own FNV-1a loop, before `Fnv64`), kept as
    /// numbers.
    #[test]
    fn a_migrations_hash_is_the_one_existing_databases_store() {
        assert_eq!(part("", 1, "a"), 0x7856_a900);
        assert_eq!(
            part("billing", 20_261_124_093_000, "0123456789abcdef"),
            0x844e_f4cb
        );
        assert_eq!(part("", migrate_core::MAX_VERSION, ""), 0xeb43_3d50);
    }

    #[test]
    fn a_history_of_exactly_the_known_migrations_matches() {
        let history = [row(2, "b", true), row(1, "a", true)];
        assert_eq!(
            Fingerprint::of_history("", &history).value(),
            Some(of_parts(&[(1, "a"), (2, "b")]))
        );
    }

    #[test]
    fn a_missing_changed_unfinished_or_skipped_migration_does_not_match() {
        let expected = of_parts(&[(1, "a"), (2, "b")]);
        for history in [
            vec![row(1, "a", true)],
            vec![row(1, "a", true), row(2, "changed", true)],
            vec![row(1, "a", true), row(2, "b", false)],
            vec![row(1, "a", true), row(2, "skipped:b:no", true)],
            vec![row(1, "a", true), row(2, "b", true), row(3, "c", false)],
            vec![row(1, "a", true), row(2, "b", true), row(3, "c", true)],
        ] {
            assert_ne!(
                Fingerprint::of_history("", &history).value(),
                Some(expected),
                "{history:?}"
            );
        }
    }

    #[test]
    fn a_rollback_undoes_the_writes_of_its_transaction() {
        let mut running = Fingerprint::of_history("", &[row(1, "a", true)]);
        let before = running.value();
        assert!(running.apply(&HistoryChange::Delete {
            set: "",
            version: 1
        }));
        assert_eq!(running.value(), Some(0));
        running.rollback();
        assert_eq!(running.value(), before);
        assert!(!running.apply(&HistoryChange::Delete {
            set: "other",
            version: 1
        }));
    }
}
