//! The check behind each backend's `testing::check_migrations`: every migration applies
//! on a fresh database, every `down` restores the schema exactly as it was before its
//! `up`, and everything applies again. The backend supplies the fresh database and how
//! to read its schema.

use crate::backend::Backend;
use crate::error::Error;
use crate::manager::Migrator;
use crate::migration::Db;

/// What a migration check did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checked {
    /// Every version applied, in order.
    pub applied: Vec<u64>,
    /// The versions whose `down` was run and restored the schema.
    pub reverted: Vec<u64>,
    /// The irreversible versions, whose `down` could not be checked.
    pub irreversible: Vec<u64>,
}

/// Applies `migrator`'s migrations one by one on `backend`, a fresh database; after each
/// reversible one, runs its `down` and compares `schema` (the backend's own reading of
/// its catalog, one line per object, the history table left out) with the schema before
/// its `up`, then applies it again. Finally reverts as far as the migrations allow and
/// applies all again. For backend authors: users call their backend's
/// `testing::check_migrations`.
///
/// # Panics
///
/// When `migrator` has no migrations, with the message of [`Error::NoMigrations`]: a
/// test that checks nothing must not pass. When a migration fails to apply or revert, or
/// a `down` leaves the schema different from before its `up`; the message names the
/// migration and shows the difference.
pub fn check_migrations_on(
    migrator: &Migrator,
    backend: &mut dyn Backend,
    mut schema: impl FnMut(&mut dyn Db) -> Vec<String>,
) -> Checked {
    if migrator.migrations().is_empty() {
        panic!(
            "check_migrations has nothing to check: {}",
            Error::no_migrations(migrator.set())
        );
    }
    let mut checked = Checked::default();
    let mut previous = 0;
    for m in migrator.migrations() {
        let before = schema(backend.db());
        if let Err(error) = migrator.to_version(backend, m.version()) {
            panic!(
                "migration {m} does not apply on a fresh database: {}",
                chain(&error)
            );
        }
        checked.applied.push(m.version());
        if m.is_reversible() {
            if let Err(error) = migrator.to_version(backend, previous) {
                panic!("the down of migration {m} fails: {}", chain(&error));
            }
            let after = schema(backend.db());
            if after != before {
                panic!(
                    "the down of migration {m} does not restore the schema as it was before its \
                     up:\n{}",
                    difference(&before, &after)
                );
            }
            if let Err(error) = migrator.to_version(backend, m.version()) {
                panic!(
                    "migration {m} does not apply again after its down: {}",
                    chain(&error)
                );
            }
            checked.reverted.push(m.version());
        } else {
            checked.irreversible.push(m.version());
        }
        previous = m.version();
    }

    // All the way down (to the last irreversible migration), and up again.
    let floor = checked.irreversible.last().copied().unwrap_or(0);
    if let Err(error) = migrator.to_version(backend, floor) {
        panic!(
            "reverting every migration down to {floor} fails: {}",
            chain(&error)
        );
    }
    if let Err(error) = migrator.to_latest(backend) {
        panic!("applying every migration again fails: {}", chain(&error));
    }
    checked
}

fn difference(before: &[String], after: &[String]) -> String {
    let mut lines = Vec::new();
    for entry in before.iter().filter(|e| !after.contains(e)) {
        lines.push(format!("  before its up, not after its down: {entry}"));
    }
    for entry in after.iter().filter(|e| !before.contains(e)) {
        lines.push(format!("  after its down, not before its up:  {entry}"));
    }
    lines.join("\n")
}

fn chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// One of each [`Remedy`](crate::Remedy), with sample fields: for a front end's test that
/// it words every remedy for its own user (the `migrate` command tests that each names a
/// command or flag it has).
///
/// ```
/// assert!(migrate_core::testing::remedies().contains(&migrate_core::Remedy::AcceptChanges));
/// ```
pub fn remedies() -> Vec<crate::Remedy> {
    crate::error::one_of_each()
}
