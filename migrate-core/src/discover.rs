//! Discovery: read the registry once, sort it by version and reject duplicates.

use std::sync::OnceLock;

use crate::error::{Error, MigrationRef, Result};
use crate::registry::{MIGRATION_FOLDERS, MIGRATIONS, RegisteredMigration};

/// The largest version a migration can have: versions are stored as SQLite `INTEGER`s,
/// which are signed 64-bit, so the range is `1..=i64::MAX`. The attribute checks it at
/// compile time. Timestamp versions such as `20261124093000` fit with room to spare.
///
/// ```
/// assert_eq!(migrate_core::MAX_VERSION, i64::MAX as u64);
/// ```
pub const MAX_VERSION: u64 = migrate_spec::MAX_VERSION;

/// Every migration registered with `#[migration]` in the crates linked into this
/// program, sorted by set and version: the discovered migrations, read and validated once
/// per process. Migrations of the default set (no `set = ".."`) come first.
///
/// # Errors
///
/// [`Error::DuplicateVersion`] when two registered migrations share a version and the
/// build did not catch it (it catches it within a crate, and the linker across crates);
/// [`Error::UnknownDependency`] when a migration's `after = [..]` names a version that no
/// migration of its set has.
///
/// ```rust,standalone_crate
/// for migration in migrate_core::discovered_migrations()? {
///     println!("{migration}");
/// }
/// # Ok::<(), migrate_core::Error>(())
/// ```
pub fn discovered_migrations() -> Result<&'static [&'static RegisteredMigration]> {
    type Discovered = core::result::Result<Vec<&'static RegisteredMigration>, Invalid>;
    static DISCOVERED: OnceLock<Discovered> = OnceLock::new();
    match DISCOVERED.get_or_init(|| validate(MIGRATIONS.iter())) {
        Ok(list) => Ok(list),
        Err(invalid) => Err(invalid.clone().into()),
    }
}

// Here rather than in error.rs: it asks discovery, and discovery reports through
// `Error`, so the error module needs nothing of this one.
impl Error {
    /// [`Error::NoMigrations`] for the set `set` (`""` for the default set), listing the
    /// sets that discovery does find in this program: what a check of the migrations
    /// (e.g. a test helper) reports when it is given none. For the backends' testing
    /// helpers; not part of the public API.
    #[doc(hidden)]
    pub fn no_migrations(set: &str) -> Error {
        let mut sets: Vec<&'static str> = discovered_migrations()
            .map(|list| list.iter().map(|m| m.set()).collect())
            .unwrap_or_default();
        sets.dedup();
        Error::NoMigrations {
            set: set.to_owned(),
            sets,
        }
    }
}

/// Whether the program links at least one migrations folder (`include_migrations!()`) and
/// every one of them is empty: a new project, which may have no migration yet.
pub(crate) fn only_empty_folders_linked() -> bool {
    !MIGRATION_FOLDERS.is_empty() && MIGRATION_FOLDERS.iter().all(|f| f.files() == 0)
}

/// What makes a list of registered migrations invalid: kept by discovery (which runs
/// once) and turned into an [`Error`] at every call.
#[derive(Clone, Debug)]
pub(crate) enum Invalid {
    Duplicate(Duplicate),
    /// A migration's `after = [..]` names a version its set does not have, or one that is
    /// not earlier (which the attribute refuses; checked here all the same, so that no
    /// list the planner sees has a cycle).
    Dependency {
        migration: &'static RegisteredMigration,
        dependency: u64,
    },
}

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Self {
        match invalid {
            Invalid::Duplicate(duplicate) => duplicate.into(),
            Invalid::Dependency {
                migration,
                dependency,
            } if dependency >= migration.version() => Error::DependencyNotEarlier {
                migration: MigrationRef::of(migration),
                line: migration.line(),
                dependency,
            },
            Invalid::Dependency {
                migration,
                dependency,
            } => Error::UnknownDependency {
                set: migration.set(),
                migration: MigrationRef::of(migration),
                line: migration.line(),
                dependency,
            },
        }
    }
}

/// Two registered migrations with the same version.
#[derive(Clone, Debug)]
pub(crate) struct Duplicate {
    set: &'static str,
    version: u64,
    first: (&'static str, &'static str, u32),
    second: (&'static str, &'static str, u32),
}

impl From<Duplicate> for Error {
    fn from(d: Duplicate) -> Self {
        Error::DuplicateVersion {
            set: d.set,
            version: d.version,
            first_type: d.first.0,
            first_file: d.first.1,
            first_line: d.first.2,
            second_type: d.second.0,
            second_file: d.second.1,
            second_line: d.second.2,
        }
    }
}

/// Sorts migrations by version and checks that no version appears twice and that every
/// dependency is an earlier migration of the same set.
pub(crate) fn validate(
    migrations: impl IntoIterator<Item = &'static RegisteredMigration>,
) -> core::result::Result<Vec<&'static RegisteredMigration>, Invalid> {
    let mut list: Vec<&'static RegisteredMigration> = migrations.into_iter().collect();
    // The default set sorts first (`set_order`); its entries, usually all of them, are
    // ordered by an integer key, the rest by the full comparison. The same order as one
    // sort with the full comparison, for less work at every start.
    let split = partition(&mut list, |m| m.set().is_empty());
    let (default, named) = list.split_at_mut(split);
    default.sort_unstable_by_key(|m| (m.version(), m.file(), m.line()));
    named.sort_unstable_by(|a, b| {
        set_order(a.set(), b.set())
            .then(a.version().cmp(&b.version()))
            .then_with(|| (a.file(), a.line()).cmp(&(b.file(), b.line())))
    });
    for pair in list.windows(2) {
        let (first, second) = (pair[0], pair[1]);
        if first.version() == second.version() && same_set(first.set(), second.set()) {
            // The same entry registered twice (explicit registration of a migration that
            // is also discovered) is one migration, not a conflict.
            if core::ptr::eq(first, second) {
                continue;
            }
            return Err(Invalid::Duplicate(Duplicate {
                set: first.set(),
                version: first.version(),
                first: (first.type_name(), first.file(), first.line()),
                second: (second.type_name(), second.file(), second.line()),
            }));
        }
    }
    list.dedup_by(|a, b| core::ptr::eq(*a, *b));
    check_dependencies(&list)?;
    Ok(list)
}

/// Every version in an `after = [..]` is an earlier migration of the same set: a binary
/// search in the sorted list per dependency, nothing for migrations that declare none.
fn check_dependencies(list: &[&'static RegisteredMigration]) -> core::result::Result<(), Invalid> {
    let mut set_start = 0;
    for (at, migration) in list.iter().enumerate() {
        if at > 0 && !same_set(list[at - 1].set(), migration.set()) {
            set_start = at;
        }
        let Some(after) = migration.dependencies() else {
            continue;
        };
        // The set's earlier migrations: those before this one in the sorted list.
        let earlier = &list[set_start..at];
        for &dependency in after {
            let found = dependency < migration.version()
                && earlier
                    .binary_search_by_key(&dependency, |m| m.version())
                    .is_ok();
            if !found {
                return Err(Invalid::Dependency {
                    migration,
                    dependency,
                });
            }
        }
    }
    Ok(())
}

/// Orders set names, the default set (`""`) first. Comparing two empty strings through
/// `str::cmp` calls `memcmp` on a dangling pointer, which glibc is slow at: with 10,000
/// migrations of the default set that alone took discovery from 0.5 ms to 11 ms
/// (docs/performance.md). Empty names never reach it here.
/// Moves the entries for which `first` holds to the front, returning how many there are.
fn partition<T>(list: &mut [T], first: impl Fn(&T) -> bool) -> usize {
    let mut split = 0;
    for i in 0..list.len() {
        if first(&list[i]) {
            list.swap(split, i);
            split += 1;
        }
    }
    split
}

pub(crate) fn set_order(a: &str, b: &str) -> core::cmp::Ordering {
    if a.is_empty() || b.is_empty() {
        a.len().cmp(&b.len())
    } else {
        a.cmp(b)
    }
}

/// Whether two set names are the same, without `memcmp` for the default set.
pub(crate) fn same_set(a: &str, b: &str) -> bool {
    a.len() == b.len() && (a.is_empty() || a == b)
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

    fn entry(
        version: u64,
        type_name: &'static str,
        file: &'static str,
    ) -> &'static RegisteredMigration {
        Box::leak(Box::new(crate::registry::registered_migration(
            version, "test", type_name, file, 4, &Noop, None, "", true, None, "0",
        )))
    }

    fn with_after(version: u64, set: &'static str, after: &[u64]) -> &'static RegisteredMigration {
        let after: &'static [u64] = Box::leak(after.to_vec().into_boxed_slice());
        Box::leak(Box::new(crate::registry::with_metadata(
            crate::registry::registered_migration(
                version, "Needs", "Needs", "n.rs", 9, &Noop, None, set, true, None, "0",
            ),
            crate::metadata::Metadata::new(&[], None, Some(after)),
        )))
    }

    #[test]
    fn dependencies_on_earlier_migrations_of_the_set_are_valid() {
        let list = validate([
            with_after(3, "", &[1]),
            entry(1, "A", "a.rs"),
            entry(2, "B", "b.rs"),
            with_after(4, "", &[]),
            with_after(5, "", &[2, 4, 1]),
        ])
        .unwrap();
        assert_eq!(list.len(), 5);
    }

    #[test]
    fn a_dependency_on_a_version_nobody_has_names_both_ends() {
        let error: Error = validate([entry(1, "A", "a.rs"), with_after(3, "", &[1, 2])])
            .unwrap_err()
            .into();
        assert!(
            matches!(
                error,
                Error::UnknownDependency {
                    migration: MigrationRef { version: 3, .. },
                    dependency: 2,
                    ..
                }
            ),
            "{error:#?}"
        );
        assert_eq!(
            error.to_string(),
            "migration 3 \"Needs\" (n.rs:9) depends on version 2 (`after = [..]` in its \
             attribute), but no migration in this program has version 2; correct the version \
             in `after`, or link the crate that defines migration 2 into this program (see \
             docs/discovery.md)"
        );
    }

    /// Versions are per set: version 1 of another set is not this set's version 1.
    #[test]
    fn a_dependency_is_looked_up_in_the_migrations_own_set() {
        let mut other = crate::registry::registered_migration(
            1,
            "Other",
            "Other",
            "o.rs",
            1,
            &Noop,
            None,
            "analytics",
            true,
            None,
            "0",
        );
        other = crate::registry::with_metadata(other, crate::metadata::Metadata::NONE);
        let other: &'static RegisteredMigration = Box::leak(Box::new(other));
        let error: Error = validate([other, with_after(2, "", &[1])])
            .unwrap_err()
            .into();
        assert!(
            matches!(error, Error::UnknownDependency { set: "", .. }),
            "{error:#?}"
        );
        let error: Error = validate([entry(1, "A", "a.rs"), with_after(2, "billing", &[1])])
            .unwrap_err()
            .into();
        assert!(
            error
                .to_string()
                .contains("no migration in set \"billing\" in this program"),
            "{error}"
        );
        assert!(validate([other, with_after(2, "analytics", &[1])]).is_ok());
    }

    /// The attribute refuses these at compile time; discovery again, so that the planner
    /// never sees a cycle (3 needing 4 and 4 needing 3 would be one).
    #[test]
    fn a_dependency_on_the_same_or_a_later_version_is_refused() {
        for (after, dependency) in [(&[4][..], 4), (&[3][..], 3)] {
            let error: Error = validate([with_after(3, "", after), with_after(4, "", &[3])])
                .unwrap_err()
                .into();
            assert!(
                matches!(error, Error::DependencyNotEarlier { migration: MigrationRef { version: 3, .. }, dependency: d, .. } if d == dependency),
                "{error:#?}"
            );
            assert!(
                error.to_string().contains("which is not earlier"),
                "{error}"
            );
        }
    }

    #[test]
    fn set_names_order_the_default_set_first() {
        use core::cmp::Ordering;
        assert_eq!(set_order("", ""), Ordering::Equal);
        assert_eq!(set_order("", "a"), Ordering::Less);
        assert_eq!(set_order("b", ""), Ordering::Greater);
        assert_eq!(set_order("a", "b"), Ordering::Less);
        assert!(same_set("", "") && same_set("x", "x"));
        assert!(!same_set("", "x") && !same_set("x", "y"));
    }

    #[test]
    fn sorts_by_version() {
        let list = validate([
            entry(3, "C", "c.rs"),
            entry(1, "A", "a.rs"),
            entry(2, "B", "b.rs"),
        ])
        .unwrap();
        let versions: Vec<u64> = list.iter().map(|m| m.version()).collect();
        assert_eq!(versions, [1, 2, 3]);
    }

    #[test]
    fn a_duplicate_version_names_both_types_and_files() {
        let error: Error = validate([entry(2, "Second", "b.rs"), entry(2, "First", "a.rs")])
            .unwrap_err()
            .into();
        assert_eq!(
            error.to_string(),
            "migration version 2 is used twice, by `First` (a.rs:4) and `Second` (b.rs:4); \
             give one of them a version no other migration has"
        );
    }

    #[test]
    fn the_same_entry_twice_is_one_migration() {
        let a = entry(5, "A", "a.rs");
        let list = validate([a, a]).unwrap();
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn discovery_reads_the_registry_of_this_program() {
        // migrate-core's own tests register no migration.
        assert!(discovered_migrations().unwrap().is_empty());
    }

    #[test]
    fn finding_none_of_a_set_names_the_sets_the_program_has() {
        let text = Error::NoMigrations {
            set: "analytic".to_owned(),
            sets: vec!["", "analytics"],
        }
        .to_string();
        assert!(
            text.contains(
                "(the program does have migrations in the default set \
                 (`Migrator::discovered()`), set \"analytics\" \
                 (`Migrator::discovered_set(\"analytics\")`): check the set's name)"
            ),
            "{text}"
        );
    }
}
