//! `--tag` and `--category` on `status` and `history`: which migrations a command shows.
//!
//! A migration is selected when it has every tag given (`--tag a --tag b`: both) and the
//! category given. A tag or category that no migration of the set has is refused before
//! anything is read or written, naming the ones that exist: a typo would otherwise
//! select nothing, and `status --check` would pass on nothing.

use clap::ArgMatches;
use migrate_core::RegisteredMigration;

/// The tags and category asked for on the command line; empty when none were.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    tags: Vec<String>,
    category: Option<String>,
}

impl Filter {
    /// The filter of `sub`'s `--tag` and `--category`, checked against `known` (the
    /// migrations of the set): `Err` with the message of a usage error when a tag or
    /// category is not one any of them has, or when together they select none.
    pub(crate) fn new(
        sub: &ArgMatches,
        known: &[&'static RegisteredMigration],
    ) -> Result<Self, String> {
        let mut tags: Vec<String> = Vec::new();
        for tag in sub.get_many::<String>("tag").into_iter().flatten() {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        let filter = Filter {
            tags,
            category: sub.get_one::<String>("category").cloned(),
        };
        filter.check(known)?;
        Ok(filter)
    }

    /// Whether no `--tag` or `--category` was given: everything is selected.
    pub(crate) fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.category.is_none()
    }

    /// Whether `migration` has every tag and the category asked for.
    pub(crate) fn selects(&self, migration: &RegisteredMigration) -> bool {
        self.tags.iter().all(|tag| migration.has_tag(tag))
            && self
                .category
                .as_deref()
                .is_none_or(|category| migration.category() == Some(category))
    }

    /// Whether the row of `version` is shown: a migration of `known` that
    /// [`selects`](Self::selects) picks, or, without a filter, any row (a version in the
    /// history that the program does not contain has no tags, so a filter leaves it out).
    pub(crate) fn selects_version(
        &self,
        version: u64,
        known: &[&'static RegisteredMigration],
    ) -> bool {
        self.is_empty() || find(known, version).is_some_and(|m| self.selects(m))
    }

    /// What was asked for, for messages and the history document: `tags billing and slow,
    /// category data`.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        match self.tags.as_slice() {
            [] => {}
            [tag] => parts.push(format!("tag {tag}")),
            [first @ .., last] => parts.push(format!("tags {} and {last}", first.join(", "))),
        }
        if let Some(category) = &self.category {
            parts.push(format!("category {category}"));
        }
        parts.join(", ")
    }

    fn check(&self, known: &[&'static RegisteredMigration]) -> Result<(), String> {
        if self.is_empty() {
            // Nothing asked for: everything is shown, also when there is nothing (a new
            // project without migrations).
            return Ok(());
        }
        let mut problems = Vec::new();
        let unknown_tags: Vec<&str> = self
            .tags
            .iter()
            .map(String::as_str)
            .filter(|tag| !known.iter().any(|m| m.has_tag(tag)))
            .collect();
        if !unknown_tags.is_empty() {
            let mut existing: Vec<&str> = known.iter().flat_map(|m| m.tags()).copied().collect();
            existing.sort_unstable();
            existing.dedup();
            problems.push(format!(
                "no migration has the tag {}; {}",
                unknown_tags.join(", "),
                in_use("tags", &existing, "tags = [\"billing\", \"slow\"]")
            ));
        }
        if let Some(category) = &self.category
            && !known.iter().any(|m| m.category() == Some(category))
        {
            let mut existing: Vec<&str> = known.iter().filter_map(|m| m.category()).collect();
            existing.sort_unstable();
            existing.dedup();
            problems.push(format!(
                "no migration has the category {category}; {}",
                in_use("categories", &existing, "category = \"data\"")
            ));
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        if !known.iter().any(|m| self.selects(m)) {
            return Err(format!(
                "no migration has {} together: each one exists, but not on the same \
                 migration (several --tag select the migrations that have all of them); \
                 drop one, or run `status --tag TAG` with one to see which have it",
                self.describe()
            ));
        }
        Ok(())
    }
}

/// The migration of `version` among `known` (sorted by version, as discovery leaves them).
pub(crate) fn find(
    known: &[&'static RegisteredMigration],
    version: u64,
) -> Option<&'static RegisteredMigration> {
    known
        .binary_search_by_key(&version, |m| m.version())
        .ok()
        .map(|i| known[i])
}

/// The second half of an unknown-tag or -category message: the ones in use, or how to
/// give a migration some when none has any.
fn in_use(what: &str, existing: &[&str], example: &str) -> String {
    if existing.is_empty() {
        format!(
            "no migration has {what} yet: give one `{example}` in its #[migration(..)] \
             attribute"
        )
    } else {
        format!("the {what} in use: {}", existing.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(tags: &[&str], category: Option<&str>) -> Filter {
        Filter {
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            category: category.map(str::to_owned),
        }
    }

    #[test]
    fn descriptions_read_as_a_sentence() {
        assert_eq!(filter(&["slow"], None).describe(), "tag slow");
        assert_eq!(
            filter(&["a", "b", "c"], Some("data")).describe(),
            "tags a, b and c, category data"
        );
        assert_eq!(filter(&[], Some("data")).describe(), "category data");
    }

    #[test]
    fn an_empty_filter_selects_every_row() {
        assert!(filter(&[], None).selects_version(7, &[]));
        assert!(!filter(&["slow"], None).selects_version(7, &[]));
    }

    /// A program without migrations (a new project) and no filter asked for: nothing to
    /// refuse; with a filter, the tag is unknown.
    #[test]
    fn no_filter_is_never_refused_even_without_migrations() {
        assert_eq!(filter(&[], None).check(&[]), Ok(()));
        assert!(filter(&["slow"], None).check(&[]).is_err());
    }
}
