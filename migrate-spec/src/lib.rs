//! The rules of `migrate` that more than one of its crates applies, each written once.
//!
//! The attribute (`migrate-macros`), the build-script helper (`migrate-build`), the
//! command line (`migrate-cli`) and the runtime (`migrate-core` and the backends) all
//! depend on this crate, so that they cannot disagree:
//!
//! - [`MAX_VERSION`]: the version range;
//! - [`is_label`], [`is_label_char`], [`MAX_LABEL_LEN`] and [`label_suggestion`]: the
//!   grammar of tags, categories and environment names;
//! - [`file_name_version`] and [`file_stem`]: the version a migration's file name
//!   carries, read and written by the same rule;
//! - [`Fnv64`]: the hash of checksums and fingerprints;
//! - [`HISTORY_COLUMNS`] and [`DEFAULT_HISTORY_TABLE`]: the history table's logical
//!   columns and its default name.
//!
//! It is an implementation detail of `migrate`, pinned with `=` by the crates that use
//! it: use the rules through them.

/// The largest version a migration can have: versions are stored as signed 64-bit
/// integers (SQLite's `INTEGER`, PostgreSQL's `bigint`). The smallest is 1.
///
/// ```
/// assert_eq!(migrate_spec::MAX_VERSION, 9_223_372_036_854_775_807);
/// // A timestamp version fits.
/// assert!(20261124093000 <= migrate_spec::MAX_VERSION);
/// ```
pub const MAX_VERSION: u64 = i64::MAX as u64;

/// The longest tag, category or environment name: a word to filter by on the command
/// line, not a sentence.
///
/// ```
/// let longest = "a".repeat(migrate_spec::MAX_LABEL_LEN);
/// assert!(migrate_spec::is_label(&longest));
/// assert!(!migrate_spec::is_label(&format!("{longest}a")));
/// ```
pub const MAX_LABEL_LEN: usize = 64;

/// Whether `c` may appear in a label: a lowercase ASCII letter, a digit, `-`, `_` or `.`.
///
/// ```
/// use migrate_spec::is_label_char;
///
/// assert!("billing-v2_x.y".chars().all(is_label_char));
/// assert!(!is_label_char('A'));
/// assert!(!is_label_char(' '));
/// assert!(!is_label_char('é'));
/// ```
pub const fn is_label_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
}

/// Whether `text` is a label: a tag (`tags = [..]`), a category (`category = ".."`) or an
/// environment name (`environments = [..]`, `--environment`). A label is not empty, is
/// at most [`MAX_LABEL_LEN`] bytes long and holds only [`is_label_char`] characters, so
/// that `--tag slow` on the command line names it without quoting or case questions.
///
/// ```
/// use migrate_spec::is_label;
///
/// assert!(is_label("slow"));
/// assert!(is_label("billing.v2"));
/// assert!(!is_label(""));
/// assert!(!is_label("Slow"));
/// assert!(!is_label("very slow"));
/// ```
pub fn is_label(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_LABEL_LEN && text.chars().all(is_label_char)
}

/// The label closest to `text`, to suggest in an error: trimmed, lowercased, inner
/// whitespace as `-`, other characters a label cannot hold left out. It may be empty (no
/// suggestion) and is not cut to [`MAX_LABEL_LEN`].
///
/// ```
/// use migrate_spec::label_suggestion;
///
/// assert_eq!(label_suggestion(" Very Slow "), "very-slow");
/// assert_eq!(label_suggestion("Billing!"), "billing");
/// assert_eq!(label_suggestion("日本"), "");
/// ```
pub fn label_suggestion(text: &str) -> String {
    text.trim()
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .filter(|&c| is_label_char(c))
        .collect()
}

/// The version a migration's file name carries: `m`, then digits, then `_` or the end of
/// the stem (the file name without `.rs`), as in `m0003_add_metadata`,
/// `m20261124093000_add_index` or `m0003`. `None` for a name that carries none;
/// `Some(Err(digits))` when the digits do not fit a `u64`.
///
/// The attribute refuses a file named for another version than its own, and the build
/// script refuses the same; [`file_stem`] writes names this reads back.
///
/// ```
/// use migrate_spec::file_name_version;
///
/// assert_eq!(file_name_version("m0003_add_metadata"), Some(Ok(3)));
/// assert_eq!(file_name_version("m20261124093000_add_index"), Some(Ok(20261124093000)));
/// assert_eq!(file_name_version("m0003"), Some(Ok(3)));
/// assert_eq!(file_name_version("m0003add"), None);
/// assert_eq!(file_name_version("m_add"), None);
/// assert_eq!(file_name_version("add_metadata"), None);
/// assert_eq!(
///     file_name_version("m99999999999999999999_x"),
///     Some(Err("99999999999999999999"))
/// );
/// ```
pub fn file_name_version(stem: &str) -> Option<Result<u64, &str>> {
    let rest = stem.strip_prefix('m')?;
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, after) = rest.split_at(end);
    if digits.is_empty() || !(after.is_empty() || after.starts_with('_')) {
        return None;
    }
    Some(digits.parse().map_err(|_| digits))
}

/// The stem (file name without `.rs`) of a new migration's file: `m`, the version padded
/// to four digits, then `_` and `slug` unless it is empty. [`file_name_version`] reads
/// `version` back from it.
///
/// ```
/// use migrate_spec::{file_name_version, file_stem};
///
/// assert_eq!(file_stem(4, "add_foo"), "m0004_add_foo");
/// assert_eq!(file_stem(20261124093000, "add_index"), "m20261124093000_add_index");
/// assert_eq!(file_stem(3, ""), "m0003");
/// for (version, slug) in [(3, ""), (4, "add_foo"), (12345, "x")] {
///     assert_eq!(file_name_version(&file_stem(version, slug)), Some(Ok(version)));
/// }
/// ```
pub fn file_stem(version: u64, slug: &str) -> String {
    if slug.is_empty() {
        format!("m{version:04}")
    } else {
        format!("m{version:04}_{slug}")
    }
}

/// FNV-1a, 64 bits, over a sequence of fields: each field's bytes, then a separator byte
/// `0xff`, so that the fields `ab` + `c` and `a` + `bc` hash apart. The migration checksum
/// the attribute records and the runtime's history fingerprint are both made with it.
///
/// ```
/// use migrate_spec::Fnv64;
///
/// // With no field, the FNV-1a offset basis.
/// assert_eq!(Fnv64::new().finish(), 0xcbf2_9ce4_8422_2325);
///
/// let mut one = Fnv64::new();
/// one.field(b"ab");
/// one.field(b"c");
/// let mut other = Fnv64::new();
/// other.field(b"a");
/// other.field(b"bc");
/// assert_ne!(one.finish(), other.finish());
///
/// // The same fields give the same hash.
/// let mut again = Fnv64::new();
/// again.field(b"ab");
/// again.field(b"c");
/// assert_eq!(one.finish(), again.finish());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fnv64(u64);

impl Fnv64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    /// A hash of no field yet.
    ///
    /// ```
    /// assert_eq!(migrate_spec::Fnv64::new(), migrate_spec::Fnv64::default());
    /// ```
    pub const fn new() -> Self {
        Fnv64(Self::OFFSET_BASIS)
    }

    /// Hashes one field: its bytes, then the separator.
    ///
    /// ```
    /// let mut hash = migrate_spec::Fnv64::new();
    /// hash.field(b"");
    /// // The separator alone changes the hash.
    /// assert_ne!(hash.finish(), migrate_spec::Fnv64::new().finish());
    /// ```
    pub const fn field(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            self.byte(bytes[i]);
            i += 1;
        }
        self.byte(0xff);
    }

    /// The hash of the fields so far.
    ///
    /// ```
    /// let mut hash = migrate_spec::Fnv64::new();
    /// hash.field(b"a");
    /// // FNV-1a of the bytes `a`, 0xff.
    /// assert_eq!(hash.finish(), 0x089b_c907_b544_c769);
    /// ```
    pub const fn finish(&self) -> u64 {
        self.0
    }

    const fn byte(&mut self, byte: u8) {
        self.0 ^= byte as u64;
        self.0 = self.0.wrapping_mul(Self::PRIME);
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Self::new()
    }
}

/// The history table's name when none is configured.
///
/// ```
/// assert_eq!(migrate_spec::DEFAULT_HISTORY_TABLE, "migrate_history");
/// ```
pub const DEFAULT_HISTORY_TABLE: &str = "migrate_history";

/// The history table's logical columns, in order: every backend's table has them (each
/// with its own SQL types), and a table of the history's name without them is not a
/// history.
///
/// - `migration_set`: the named set, `""` for the default one;
/// - `version`: the migration's version;
/// - `description`, `type_name`: what the attribute says and the struct's name;
/// - `checksum`: the attribute's checksum of the migration's source (and the marks of
///   rows that record no applied migration);
/// - `applied_at`, `duration_us`: when it ran and for how long;
/// - `complete`: false while a migration outside a transaction is under way.
///
/// ```
/// use migrate_spec::HISTORY_COLUMNS;
///
/// assert_eq!(HISTORY_COLUMNS.len(), 8);
/// assert_eq!(HISTORY_COLUMNS[..2], ["migration_set", "version"]);
/// assert!(HISTORY_COLUMNS.contains(&"checksum"));
/// ```
pub const HISTORY_COLUMNS: [&str; 8] = [
    "migration_set",
    "version",
    "description",
    "type_name",
    "checksum",
    "applied_at",
    "duration_us",
    "complete",
];
