//! The keys of `#[migration(..)]`, one row each: its name, the example its messages
//! give, and where its value goes. Adding a key is adding a row (and its field of
//! [`Args`](super::Args)).

use super::value::{
    self, AFTER_EXAMPLE, CATEGORY_EXAMPLE, DESCRIPTION_EXAMPLE, ENVIRONMENTS_EXAMPLE,
    LOCK_TIMEOUT_EXAMPLE, SET_EXAMPLE, TAGS_EXAMPLE, TRANSACTION_EXAMPLE, VERSION_EXAMPLE,
    WHEN_EXAMPLE,
};
use super::{Draft, Entry};

/// One key of the attribute.
pub(super) struct Key {
    pub(super) name: &'static str,
    /// How to write it, for the messages about its form: `e.g. version = 3`.
    pub(super) example: &'static str,
    /// Reads the entry into the key's slot of the draft.
    pub(super) take: fn(&mut Draft, &Entry) -> syn::Result<()>,
}

/// Every key, in the order the messages list them.
pub(super) const KEYS: &[Key] = &[
    Key {
        name: "version",
        example: VERSION_EXAMPLE,
        take: |draft, entry| draft.version.take(entry, |e| value::version(e.value()?)),
    },
    Key {
        name: "description",
        example: DESCRIPTION_EXAMPLE,
        take: |draft, entry| {
            draft
                .description
                .take(entry, |e| value::description(e.value()?))
        },
    },
    Key {
        name: "irreversible",
        example: "",
        take: |draft, entry| draft.irreversible.take(entry, Entry::flag),
    },
    Key {
        name: "set",
        example: SET_EXAMPLE,
        take: |draft, entry| draft.set.take(entry, |e| value::set(e.value()?)),
    },
    Key {
        name: "transaction",
        example: TRANSACTION_EXAMPLE,
        take: |draft, entry| {
            draft
                .transaction
                .take(entry, |e| value::transaction(e.value()?))
        },
    },
    Key {
        name: "lock_timeout",
        example: LOCK_TIMEOUT_EXAMPLE,
        take: |draft, entry| {
            draft
                .lock_timeout
                .take(entry, |e| value::lock_timeout(e.value()?))
        },
    },
    Key {
        name: "tags",
        example: TAGS_EXAMPLE,
        take: |draft, entry| draft.tags.take(entry, |e| value::tags(e.value()?)),
    },
    Key {
        name: "category",
        example: CATEGORY_EXAMPLE,
        take: |draft, entry| draft.category.take(entry, |e| value::category(e.value()?)),
    },
    Key {
        name: "after",
        example: AFTER_EXAMPLE,
        take: |draft, entry| draft.after.take(entry, |e| value::after(e.value()?)),
    },
    Key {
        name: "when",
        example: WHEN_EXAMPLE,
        take: |draft, entry| draft.when.take(entry, |e| value::when(e.value()?)),
    },
    Key {
        name: "environments",
        example: ENVIRONMENTS_EXAMPLE,
        take: |draft, entry| {
            draft
                .environments
                .take(entry, |e| value::environments(e.value()?))
        },
    },
];

/// The row of the key named `name`.
pub(super) fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|key| key.name == name)
}

/// The keys' names, in the table's order.
pub(super) fn names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|key| key.name)
}
