//! The fingerprint of a set of applied migrations: a 32-bit sum of one hash per
//! migration (its set, version and source checksum), so a step changes it in O(1).
//!
//! A backend may keep the fingerprint of its history where reading it costs next to
//! nothing (SQLite: a header field, read without loading the schema). When it equals the
//! fingerprint of every migration the program knows, the history holds exactly those
//! migrations with those checksums, and the start-up check is done without reading the
//! history. On any difference the full check runs. docs/performance.md says why this
//! cannot skip a pending migration or hide drift.

use std::collections::HashMap;

use crate::history::AppliedMigration;
use crate::registry::RegisteredMigration;

/// The hash of one migration: FNV-1a over its set, version and checksum, folded to 32 bits.
fn part(set: &str, version: u64, checksum: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut write = |bytes: &[u8]| {
        for &byte in bytes {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    };
    write(set.as_bytes());
    write(&version.to_le_bytes());
    write(checksum.as_bytes());
    #[allow(clippy::cast_possible_truncation)]
    let folded = (hash ^ (hash >> 32)) as u32;
    folded
}

/// The fingerprint the history has when exactly `known` is applied, unchanged.
pub(crate) fn of_known(known: &[&'static RegisteredMigration]) -> u32 {
    known
        .iter()
        .map(|m| part(m.set(), m.version(), m.checksum()))
        .fold(0, u32::wrapping_add)
}

/// A running fingerprint of a history, updated step by step.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fingerprint {
    total: u32,
    parts: HashMap<u64, u32>,
    /// Versions with an incomplete mark: while there is one, the history has no
    /// fingerprint a fast start may trust.
    incomplete: Vec<u64>,
    /// Versions recorded as skipped: while there is one, every start evaluates its
    /// condition again, so the history has no fingerprint a fast start may trust either.
    skipped: Vec<u64>,
    /// Set for steps committed in an order no single running fingerprint follows
    /// (migrations run at once): the history then has no fingerprint to store.
    untrusted: bool,
}

impl Fingerprint {
    /// The fingerprint of `history` (all of one set).
    pub(crate) fn of_history(history: &[AppliedMigration]) -> Self {
        let mut fingerprint = Fingerprint::default();
        for row in history {
            if !row.complete {
                fingerprint.incomplete.push(row.version);
                continue;
            }
            if row.skipped().is_some() {
                fingerprint.skipped.push(row.version);
                continue;
            }
            let part = part(&row.set, row.version, &row.checksum);
            fingerprint.parts.insert(row.version, part);
            fingerprint.total = fingerprint.total.wrapping_add(part);
        }
        fingerprint
    }

    /// A fingerprint whose value is always `None`: for migrations run at once, each
    /// committing on its own session, where the stored value is invalidated instead.
    pub(crate) fn untrusted() -> Self {
        Fingerprint {
            untrusted: true,
            ..Fingerprint::default()
        }
    }

    /// The value to store: `None` while a migration is marked incomplete.
    pub(crate) fn value(&self) -> Option<u32> {
        (self.incomplete.is_empty() && self.skipped.is_empty() && !self.untrusted)
            .then_some(self.total)
    }

    /// After `m` is applied (recorded with its current checksum).
    pub(crate) fn applied(&mut self, m: &RegisteredMigration) {
        self.reverted(m.version());
        let part = part(m.set(), m.version(), m.checksum());
        self.parts.insert(m.version(), part);
        self.total = self.total.wrapping_add(part);
    }

    /// After `m`'s row is written again with its current checksum (baseline, accepted
    /// changes): a skipped row stays skipped.
    pub(crate) fn rewritten(&mut self, m: &RegisteredMigration) {
        if !self.skipped.contains(&m.version()) {
            self.applied(m);
        }
    }

    /// After `version` is recorded as skipped.
    pub(crate) fn skipped(&mut self, version: u64) {
        self.reverted(version);
        self.skipped.push(version);
    }

    /// After `version` is removed from the history.
    pub(crate) fn reverted(&mut self, version: u64) {
        self.incomplete.retain(|&v| v != version);
        self.skipped.retain(|&v| v != version);
        if let Some(part) = self.parts.remove(&version) {
            self.total = self.total.wrapping_sub(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migration::{BoxError, Db, Migration};

    struct Noop;
    impl Migration for Noop {
        fn up(&self, _: &mut dyn Db) -> Result<(), BoxError> {
            Ok(())
        }
    }

    fn known(version: u64, checksum: &'static str) -> &'static RegisteredMigration {
        Box::leak(Box::new(crate::registry::registered_migration(
            version, "m", "M", "f.rs", 1, &Noop, None, "", true, None, checksum,
        )))
    }

    fn row(version: u64, checksum: &str, complete: bool) -> AppliedMigration {
        AppliedMigration {
            set: String::new(),
            version,
            description: "m".to_owned(),
            type_name: "M".to_owned(),
            applied_at: String::new(),
            duration: core::time::Duration::ZERO,
            checksum: checksum.to_owned(),
            complete,
        }
    }

    #[test]
    fn a_history_of_exactly_the_known_migrations_matches() {
        let known = [known(1, "a"), known(2, "b")];
        let history = [row(2, "b", true), row(1, "a", true)];
        assert_eq!(
            Fingerprint::of_history(&history).value(),
            Some(of_known(&known))
        );
    }

    #[test]
    fn a_missing_changed_or_unfinished_migration_does_not_match() {
        let known = [known(1, "a"), known(2, "b")];
        let expected = of_known(&known);
        for history in [
            vec![row(1, "a", true)],
            vec![row(1, "a", true), row(2, "changed", true)],
            vec![row(1, "a", true), row(2, "b", false)],
            vec![row(1, "a", true), row(2, "b", true), row(3, "c", false)],
            vec![row(1, "a", true), row(2, "b", true), row(3, "c", true)],
        ] {
            assert_ne!(
                Fingerprint::of_history(&history).value(),
                Some(expected),
                "{history:?}"
            );
        }
    }

    #[test]
    fn steps_update_it_as_a_fresh_computation_would() {
        let (one, two) = (known(1, "a"), known(2, "b"));
        let mut running = Fingerprint::of_history(&[row(1, "old", true)]);
        running.applied(one); // re-recorded with the current checksum
        running.applied(two);
        assert_eq!(running.value(), Some(of_known(&[one, two])));
        running.reverted(2);
        assert_eq!(running.value(), Some(of_known(&[one])));
        // An incomplete mark removes the value until the mark goes.
        let mut marked = Fingerprint::of_history(&[row(1, "a", true), row(2, "b", false)]);
        assert_eq!(marked.value(), None);
        marked.applied(two);
        assert_eq!(marked.value(), Some(of_known(&[one, two])));
    }
}
