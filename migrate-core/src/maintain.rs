//! History edits that run no code: a baseline, accepted changes, a cleared incomplete
//! mark. Each is decided on a read, then written in one transaction under the lock that
//! finds the history as read (or reads and decides again).

use core::time::Duration;

use crate::backend::calls::{begin, delete_row, rollback};
use crate::backend::{Backend, Freshness, HistoryChange, NewRow, TxMode};
use crate::error::{Error, MigrationRef, Result};
use crate::history::HistoryRow;
use crate::migration::BoxError;
use crate::plan::Direction;
use crate::registry::RegisteredMigration;
use crate::settings::Settings;

pub(crate) fn baseline(
    settings: &Settings,
    backend: &mut dyn Backend,
    version: u64,
) -> Result<Vec<&'static RegisteredMigration>> {
    let known = &settings.migrations;
    if version != 0
        && known
            .binary_search_by_key(&version, |m| m.version())
            .is_err()
    {
        let latest = known.last().map_or(0, |m| m.version());
        return Err(Error::UnknownTarget { version, latest });
    }
    let upto: Vec<&'static RegisteredMigration> = known
        .iter()
        .copied()
        .filter(|m| m.version() <= version)
        .collect();
    loop {
        let history = settings.read_for_plan(backend)?;
        if !history.is_empty() {
            // Baseline adopts a database migrate has not migrated. On one with history it
            // would record migrations as applied that never ran, past the checks that
            // guard the history: refused, unless the same baseline is already there
            // exactly (running it twice is harmless).
            let same = history.len() == upto.len()
                && history.iter().zip(&upto).all(|(row, m)| {
                    row.version == m.version() && row.is_applied() && row.checksum == m.checksum()
                });
            if same {
                return Ok(Vec::new());
            }
            let highest = history.iter().map(|row| row.version).max().unwrap_or(0);
            return Err(Error::BaselineWithHistory {
                version,
                applied: history.len(),
                highest,
            });
        }
        let action = || format!("record the baseline at version {version}");
        let record = |backend: &mut dyn Backend, m: &RegisteredMigration| {
            backend.write_history(HistoryChange::Insert(NewRow::applied(m, Duration::ZERO)))
        };
        if !in_one_transaction(backend, &upto, action, record)? {
            continue;
        }
        if !upto.is_empty() {
            log::info!("baseline: recorded {} migrations as applied", upto.len());
        }
        return Ok(upto);
    }
}

pub(crate) fn accept_changes(
    settings: &Settings,
    backend: &mut dyn Backend,
) -> Result<Vec<&'static RegisteredMigration>> {
    loop {
        let history = settings.read_for_plan(backend)?;
        let changed: Vec<&'static RegisteredMigration> = settings
            .migrations
            .iter()
            .copied()
            .filter(|m| {
                history.iter().any(|row| {
                    row.version == m.version() && row.is_complete() && row.checksum != m.checksum()
                })
            })
            .collect();
        let action = || "record the accepted checksums".to_owned();
        // A skipped row stays skipped, with the new checksum: its (changed) condition is
        // evaluated again at the next run anyway.
        let update = |backend: &mut dyn Backend, m: &RegisteredMigration| {
            let skipped = history
                .iter()
                .find(|row| row.version == m.version())
                .and_then(HistoryRow::skipped);
            match skipped {
                Some(reason) => delete_row(backend, m).and_then(|()| {
                    backend.write_history(HistoryChange::Insert(NewRow::skipped(m, reason)))
                }),
                // An applied row's checksum column is the checksum itself.
                None => backend.write_history(HistoryChange::SetChecksum {
                    set: m.set(),
                    version: m.version(),
                    checksum_column: m.checksum(),
                }),
            }
        };
        if !in_one_transaction(backend, &changed, action, update)? {
            continue;
        }
        for m in &changed {
            log::warn!("accepted the changed source of migration {m}");
        }
        return Ok(changed);
    }
}

/// Writes one history change per migration of `rows` (`write`) in one transaction under
/// the lock (baseline, accepted checksums). `Ok(false)` when the history changed since it
/// was read: read it again and decide anew. Nothing to write is done at once.
fn in_one_transaction(
    backend: &mut dyn Backend,
    rows: &[&'static RegisteredMigration],
    action: impl FnOnce() -> String,
    mut write: impl FnMut(&mut dyn Backend, &RegisteredMigration) -> core::result::Result<(), BoxError>,
) -> Result<bool> {
    let Some(first) = rows.first() else {
        return Ok(true);
    };
    if begin(backend, first, TxMode::Write)? == Freshness::Stale {
        rollback(backend, first);
        return Ok(false);
    }
    let written = rows
        .iter()
        .try_for_each(|m| write(backend, m))
        .and_then(|()| backend.commit());
    match written {
        Ok(()) => Ok(true),
        Err(source) => {
            rollback(backend, first);
            Err(Error::Database {
                action: action(),
                source,
            })
        }
    }
}

pub(crate) fn clear_incomplete(
    settings: &Settings,
    backend: &mut dyn Backend,
    version: u64,
) -> Result<Option<Direction>> {
    let database = |source| Error::Database {
        action: format!("clear the incomplete mark of migration {version}"),
        source,
    };
    loop {
        let history = settings.read_for_plan(backend)?;
        let Some(row) = history.iter().find(|row| row.version == version) else {
            return Ok(None);
        };
        let Some(direction) = row.interrupted_direction() else {
            return Ok(None);
        };
        // An interrupted down leaves the migration applied, as before the down, so that
        // the next down runs it again; that needs the migration, with the source it was
        // applied with.
        let restore = match direction {
            Direction::Up => None,
            Direction::Down => {
                let known = settings
                    .migrations
                    .binary_search_by_key(&version, |m| m.version())
                    .ok()
                    .map(|i| settings.migrations[i]);
                match known {
                    Some(m) if row.checksum == m.checksum() => Some(m),
                    Some(m) => {
                        return Err(Error::Modified {
                            migration: MigrationRef::of(m),
                            recorded: row.checksum.clone(),
                            current: m.checksum().to_owned(),
                        });
                    }
                    None => None,
                }
            }
        };
        // Decided again under the lock: the process running the migration may have
        // finished it since, and its finished row must stay.
        if backend.begin(TxMode::Write).map_err(database)? == Freshness::Stale {
            let _ = backend.rollback();
            continue;
        }
        let cleared = backend
            .write_history(HistoryChange::Delete {
                set: &settings.set,
                version,
            })
            .and_then(|()| match restore {
                Some(m) => {
                    backend.write_history(HistoryChange::Insert(NewRow::applied(m, Duration::ZERO)))
                }
                None => Ok(()),
            })
            .and_then(|()| backend.commit());
        if let Err(source) = cleared {
            let _ = backend.rollback();
            return Err(database(source));
        }
        match restore {
            Some(_) => log::warn!(
                "cleared the incomplete mark of migration {version}: it is applied again, as \
                 before its interrupted down, and the next down runs it again"
            ),
            None => log::warn!(
                "cleared the incomplete mark of migration {version}; the next run applies it again"
            ),
        }
        return Ok(Some(direction));
    }
}
