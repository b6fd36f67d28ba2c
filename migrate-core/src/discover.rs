//! Discovery: read the registry once, sort it by version and reject duplicates.

use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::registry::{MIGRATION_FOLDERS, MIGRATIONS, RegisteredMigration};

/// The largest version a migration can have: versions are stored as SQLite `INTEGER`s,
/// which are signed 64-bit, so the range is `1..=i64::MAX`. The attribute checks it at
/// compile time. Timestamp versions such as `20261124093000` fit with room to spare.
pub const MAX_VERSION: u64 = i64::MAX as u64;

/// Every migration registered with `#[migration]` in the crates linked into this
/// program, sorted by set and version: the discovered migrations, read and validated once
/// per process. Migrations of the default set (no `set = ".."`) come first.
///
/// # Errors
///
/// [`Error::DuplicateVersion`] when two registered migrations share a version and the
/// build did not catch it (it catches it within a crate, and the linker across crates).
///
/// ```rust,standalone_crate
/// for migration in migrate_core::discovered_migrations()? {
///     println!("{migration}");
/// }
/// # Ok::<(), migrate_core::Error>(())
/// ```
pub fn discovered_migrations() -> Result<&'static [&'static RegisteredMigration]> {
    type Discovered = core::result::Result<Vec<&'static RegisteredMigration>, Duplicate>;
    static DISCOVERED: OnceLock<Discovered> = OnceLock::new();
    match DISCOVERED.get_or_init(|| validate(MIGRATIONS.iter())) {
        Ok(list) => Ok(list),
        Err(duplicate) => Err(duplicate.clone().into()),
    }
}

// Here rather than in error.rs: it asks discovery, and discovery reports through
// `Error`, so the error module needs nothing of this one.
impl Error {
    /// [`Error::NoMigrations`] for the set `set` (`""` for the default set), listing the
    /// sets that discovery does find in this program: what a check of the migrations
    /// (e.g. a test helper) reports when it is given none.
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

/// Sorts migrations by version and checks that no version appears twice.
pub(crate) fn validate(
    migrations: impl IntoIterator<Item = &'static RegisteredMigration>,
) -> core::result::Result<Vec<&'static RegisteredMigration>, Duplicate> {
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
            return Err(Duplicate {
                set: first.set(),
                version: first.version(),
                first: (first.type_name(), first.file(), first.line()),
                second: (second.type_name(), second.file(), second.line()),
            });
        }
    }
    list.dedup_by(|a, b| core::ptr::eq(*a, *b));
    Ok(list)
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
