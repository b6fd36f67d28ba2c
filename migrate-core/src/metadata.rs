//! What a migration's attribute says about it beyond what it does: its tags and
//! category (`tags = [..]`, `category = ".."`) and the migrations it depends on
//! (`after = [..]`). None of it is part of the checksum: changing it is not drift.

/// The metadata of one migration, as its attribute gives it: what the code `#[migration]`
/// generates passes to `__private::with_metadata`; read it through
/// [`RegisteredMigration`](crate::RegisteredMigration)'s accessors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub(crate) tags: &'static [&'static str],
    pub(crate) category: Option<&'static str>,
    pub(crate) after: Option<&'static [u64]>,
}

impl Metadata {
    /// No tags, no category, dependencies not declared.
    pub const NONE: Metadata = Metadata {
        tags: &[],
        category: None,
        after: None,
    };

    /// The metadata of one migration; called by the code `#[migration]` generates (through
    /// `__private`), not part of the public API.
    pub const fn new(
        tags: &'static [&'static str],
        category: Option<&'static str>,
        after: Option<&'static [u64]>,
    ) -> Metadata {
        Metadata {
            tags,
            category,
            after,
        }
    }
}

/// What `#[migration]` implements for the struct it is on, so that `after = [CreateUsers]`
/// can name the migration by its type: the compiler checks the name, and the version and
/// set come from the attribute. Not public API.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a migration, so `after = [..]` cannot name it",
    label = "not a struct with `#[migration(..)]` on it",
    note = "`after = [..]` lists the migrations this one needs: structs with \
            `#[migration(..)]`, or their versions, e.g. `after = [CreateUsers]` or `after = [3]`"
)]
pub trait Registered {
    /// The `version` of the attribute.
    const VERSION: u64;
    /// The `set` of the attribute, `""` for the default set.
    const SET: &'static str;
}

/// Whether two set names are equal, at compile time (the check that a dependency named
/// by its type is in the migration's own set).
pub const fn same_set(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_names_compare_byte_for_byte() {
        assert!(same_set("", "") && same_set("analytics", "analytics"));
        assert!(!same_set("", "a") && !same_set("analytics", "analytica"));
        const { assert!(same_set("billing", "billing")) };
    }
}
