//! The textual scan of a migration file: where its `#[migration(..)]` attributes are and
//! which versions they give. No parser: comments are dropped and string and character
//! literals emptied first, so a commented-out attribute or SQL text in a string never
//! counts, and then the attributes are found by their shape.

/// A `#[migration]` attribute found in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Attribute {
    /// The value of `version = N`, when the attribute has one written as an integer
    /// literal (`3`, `0003`, `20_261_124_093_000`, `3u64`, `0x10`).
    pub(crate) version: Option<u64>,
}

/// Every `#[migration]` attribute of `source`, in order: `#[migration(..)]`, also with a
/// path (`#[migrate_sqlite::migration(..)]`), and the malformed `#[migration]` and
/// `#[migration = ..]`, which the attribute itself reports better than a build script can.
pub(crate) fn migration_attributes(source: &str) -> Vec<Attribute> {
    let code: Vec<char> = strip_comments_and_literals(source).chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < code.len() {
        if code[i] != '#' {
            i += 1;
            continue;
        }
        i += 1;
        let mut j = skip_whitespace(&code, i);
        if code.get(j) != Some(&'[') {
            continue;
        }
        j = skip_whitespace(&code, j + 1);
        let (last_segment, after_path) = path(&code, j);
        if last_segment != "migration" {
            continue;
        }
        let next = skip_whitespace(&code, after_path);
        match code.get(next) {
            Some('(') => {
                let end = matching_close(&code, next);
                let args: String = code[next + 1..end].iter().collect();
                found.push(Attribute {
                    version: version_arg(&args),
                });
                i = end;
            }
            Some(']' | '=') => found.push(Attribute { version: None }),
            _ => {}
        }
    }
    found
}

fn skip_whitespace(code: &[char], mut i: usize) -> usize {
    while code.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A path such as `migration`, `::migrate_sqlite::migration` or `r#migration` at `i`: its
/// last segment and the index after it.
fn path(code: &[char], mut i: usize) -> (String, usize) {
    let mut last = String::new();
    loop {
        i = skip_whitespace(code, i);
        if code.get(i) == Some(&':') && code.get(i + 1) == Some(&':') {
            i = skip_whitespace(code, i + 2);
        } else if !last.is_empty() {
            return (last, i);
        }
        if code.get(i) == Some(&'r') && code.get(i + 1) == Some(&'#') {
            i += 2;
        }
        let start = i;
        while code.get(i).copied().is_some_and(is_ident_char) {
            i += 1;
        }
        if i == start {
            return (String::new(), i);
        }
        last = code[start..i].iter().collect();
    }
}

/// The index of the bracket that closes the one at `open`, or the end of the code.
fn matching_close(code: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in code.iter().enumerate().skip(open) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// The integer of `version = N` in an attribute's arguments.
fn version_arg(args: &str) -> Option<u64> {
    let chars: Vec<char> = args.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !is_ident_char(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_ident_char(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if word != "version" {
            continue;
        }
        let eq = skip_whitespace(&chars, i);
        if chars.get(eq) != Some(&'=') {
            continue;
        }
        let value = skip_whitespace(&chars, eq + 1);
        let mut end = value;
        while chars.get(end).copied().is_some_and(is_ident_char) {
            end += 1;
        }
        let literal: String = chars[value..end].iter().collect();
        return parse_integer(&literal);
    }
    None
}

/// An integer literal as Rust writes it: `_` separators, `0x`/`0o`/`0b` prefixes and an
/// integer type suffix allowed.
pub(crate) fn parse_integer(literal: &str) -> Option<u64> {
    let literal = literal.replace('_', "");
    let (digits, radix) = match literal.get(..2) {
        Some("0x") => (&literal[2..], 16),
        Some("0o") => (&literal[2..], 8),
        Some("0b") => (&literal[2..], 2),
        _ => (literal.as_str(), 10),
    };
    let suffixes = ["u8", "u16", "u32", "u64", "u128", "usize"];
    let digits = suffixes
        .iter()
        .find_map(|s| digits.strip_suffix(s))
        .unwrap_or(digits);
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `source` with every comment replaced by a space and every string, byte string, C
/// string and character literal by an empty one (`""`, `''`), raw ones included.
pub(crate) fn strip_comments_and_literals(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_ident = i > 0 && is_ident_char(chars[i - 1]);
        match c {
            '/' if next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                out.push(' ');
            }
            '/' if next == Some('*') => {
                let mut depth = 0usize;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                out.push(' ');
            }
            '"' => {
                i = skip_string(&chars, i + 1);
                out.push_str("\"\"");
            }
            'b' | 'c' | 'r' if !after_ident => {
                // `r"..."`, `r#"..."#`, `br".."`, `cr".."`; `b".."`, `c".."` are plain
                // strings after the prefix, `b'x'` a plain character literal.
                let mut j = i + 1;
                if c != 'r' && chars.get(j) == Some(&'r') {
                    j += 1;
                }
                let raw = c == 'r' || j == i + 2;
                let hashes_start = j;
                while raw && chars.get(j) == Some(&'#') {
                    j += 1;
                }
                let hashes = j - hashes_start;
                if raw && chars.get(j) == Some(&'"') {
                    i = skip_raw_string(&chars, j + 1, hashes);
                    out.push_str("\"\"");
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            '\'' => {
                // A character literal (`'x'`, `'\''`, `'\u{1F600}'`) or a lifetime or
                // label (`'a`), which stays.
                if next == Some('\\') {
                    let mut j = i + 2;
                    j += 1; // the escaped character, which may be `'`
                    while j < chars.len() && chars[j] != '\'' {
                        j += 1;
                    }
                    i = j + 1;
                    out.push_str("''");
                } else if chars.get(i + 2) == Some(&'\'') {
                    i += 3;
                    out.push_str("''");
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The index after the `"` that closes a string whose contents start at `i`.
fn skip_string(chars: &[char], mut i: usize) -> usize {
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The index after the `"#..#` that closes a raw string with `hashes` hashes whose
/// contents start at `i`.
fn skip_raw_string(chars: &[char], mut i: usize, hashes: usize) -> usize {
    while i < chars.len() {
        if chars[i] == '"' && (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) {
            return i + 1 + hashes;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(source: &str) -> Vec<Option<u64>> {
        migration_attributes(source)
            .into_iter()
            .map(|a| a.version)
            .collect()
    }

    #[test]
    fn finds_the_attribute_and_its_version() {
        let source = r#"use migrate_sqlite::{migration, Migration};

#[migration(version = 3, description = "Add metadata")]
pub struct AddMetadata;
"#;
        assert_eq!(versions(source), [Some(3)]);
    }

    #[test]
    fn reads_every_way_to_write_the_version() {
        for (args, version) in [
            ("version=3", 3),
            ("description = \"x\", version = 0003", 3),
            ("version = 20_261_124_093_000", 20_261_124_093_000),
            ("version = 3u64", 3),
            ("version = 0x10", 16),
            ("\n    version = 7,\n    description = \"x\",\n", 7),
        ] {
            let source = format!("#[migration({args})]\nstruct M;");
            assert_eq!(versions(&source), [Some(version)], "{args}");
        }
    }

    #[test]
    fn accepts_paths_and_spacing() {
        for attribute in [
            "#[migrate_sqlite::migration(version = 4, description = \"x\")]",
            "#[::migrate_core::migration(version = 4, description = \"x\")]",
            "# [ migration ( version = 4 , description = \"x\" ) ]",
            "#[\n    migration(\n        version = 4,\n        description = \"x\",\n    )\n]",
        ] {
            assert_eq!(versions(attribute), [Some(4)], "{attribute}");
        }
    }

    #[test]
    fn malformed_attributes_count_without_a_version() {
        // The attribute reports these itself, with a span; the build script lets them by.
        assert_eq!(versions("#[migration]\nstruct M;"), [None]);
        assert_eq!(versions("#[migration = 3]\nstruct M;"), [None]);
        assert_eq!(versions("#[migration(version = \"3\")]"), [None]);
        assert_eq!(versions("#[migration(description = \"x\")]"), [None]);
    }

    #[test]
    fn comments_do_not_count() {
        for source in [
            "// #[migration(version = 1, description = \"x\")]\nstruct M;",
            "/// #[migration(version = 1, description = \"x\")]\nstruct M;",
            "/* #[migration(version = 1, description = \"x\")] */ struct M;",
            "/* outer /* nested */ #[migration(version = 1)] */ struct M;",
            "//! #[migration(version = 1)]\n",
        ] {
            assert_eq!(versions(source), [], "{source}");
        }
    }

    #[test]
    fn strings_and_characters_do_not_count() {
        for source in [
            "const S: &str = \"#[migration(version = 1)]\";",
            "const S: &str = \"escaped \\\" #[migration(version = 1)]\";",
            "const S: &str = r#\"a \" #[migration(version = 1)]\"#;",
            "const S: &[u8] = br\"#[migration(version = 1)]\";",
            "const S: &[u8] = b\"#[migration(version = 1)]\";",
            "const C: char = '\"'; const S: &str = \"#[migration(version = 1)]\";",
        ] {
            assert_eq!(versions(source), [], "{source}");
        }
    }

    #[test]
    fn sql_comment_markers_in_strings_do_not_hide_the_attribute() {
        let source = r#"
const SQL: &str = "SELECT '/*' -- // not a comment";
const Q: char = '\'';
fn f<'a>(x: &'a str) -> &'a str { x }
#[migration(version = 5, description = "Has /* and // in it")]
pub struct M;
"#;
        assert_eq!(versions(source), [Some(5)]);
    }

    #[test]
    fn a_version_in_the_description_is_not_the_version() {
        let source = "#[migration(description = \"version = 9\", version = 2)]";
        assert_eq!(versions(source), [Some(2)]);
    }

    #[test]
    fn several_attributes() {
        let source = "#[migration(version = 1, description = \"a\")]\nstruct A;\n\
                      #[derive(Debug)]\n#[migration(version = 2, description = \"b\")]\nstruct B;";
        assert_eq!(versions(source), [Some(1), Some(2)]);
    }

    #[test]
    fn other_attributes_do_not_count() {
        for source in [
            "#[derive(Debug)]\nstruct M;",
            "#[migrations(version = 1)]\nstruct M;",
            "#[no_migration(version = 1)]\nstruct M;",
            "#[cfg(migration)]\nstruct M;",
            "fn migration() {}\nstruct M;",
        ] {
            assert_eq!(versions(source), [], "{source}");
        }
    }

    #[test]
    fn parses_integer_literals() {
        assert_eq!(parse_integer("42"), Some(42));
        assert_eq!(parse_integer("4_2usize"), Some(42));
        assert_eq!(parse_integer("0b101"), Some(5));
        assert_eq!(parse_integer("0o17"), Some(15));
        assert_eq!(parse_integer(""), None);
        assert_eq!(parse_integer("x"), None);
        assert_eq!(parse_integer("3i64"), None);
        assert_eq!(parse_integer("99999999999999999999999"), None);
    }
}
