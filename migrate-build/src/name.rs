//! Names: which file names make module names, the version a file name carries, and the
//! file and struct names of a new migration, made from its description.

/// Rust's keywords, strict and reserved, as of edition 2024: none can name a module.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Names a new migration's struct must not take: what its file imports and the prelude
/// names its code uses.
const TAKEN_TYPE_NAMES: &[&str] = &[
    "BoxError",
    "Box",
    "Db",
    "Err",
    "Migration",
    "None",
    "Ok",
    "Option",
    "Result",
    "Reversible",
    "Some",
    "String",
    "Vec",
];

/// The longest name part (after the version) of a new migration's file name.
const MAX_SLUG_LEN: usize = 50;

/// Whether `stem` (a file name without `.rs`) can be a module name: lowercase ASCII
/// letters, digits and `_`, starting with a letter, and not a keyword. Module names in
/// other cases compile but warn (`non_snake_case`) in the user's build.
pub(crate) fn is_module_name(stem: &str) -> bool {
    let mut chars = stem.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !KEYWORDS.contains(&stem)
}

/// A module name close to `stem`, to suggest as the new file name: `0004-Add Foo` gives
/// `m0004_add_foo`, `type` gives `type_migration`.
pub(crate) fn suggest_module_name(stem: &str) -> String {
    let snake = snake_case(stem);
    let name = match snake.chars().next() {
        None => "migration".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("m{snake}"),
        Some(_) => snake,
    };
    if KEYWORDS.contains(&name.as_str()) {
        format!("{name}_migration")
    } else {
        name
    }
}

/// The version a file name carries: the one rule, [`migrate_spec::file_name_version`].
pub(crate) use migrate_spec::file_name_version;

/// `text` in snake case, ASCII only: lowercase letters and digits, the rest of the words
/// joined by single `_`s. A lowercase-to-uppercase step starts a new word
/// (`isSpammer` gives `is_spammer`).
pub(crate) fn snake_case(text: &str) -> String {
    let mut out = String::new();
    let mut separate = false;
    let mut previous_lower = false;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if (separate || (previous_lower && c.is_ascii_uppercase())) && !out.is_empty() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            separate = false;
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            separate = true;
            previous_lower = false;
        }
    }
    out
}

/// The name part of a new migration's file name: the description in snake case, cut at
/// a word boundary to at most [`MAX_SLUG_LEN`] characters.
pub(crate) fn slug(description: &str) -> String {
    let snake = snake_case(description);
    if snake.len() <= MAX_SLUG_LEN {
        return snake;
    }
    let cut = snake[..=MAX_SLUG_LEN]
        .rfind('_')
        .filter(|&i| i > 0)
        .unwrap_or(MAX_SLUG_LEN);
    snake[..cut].to_owned()
}

/// The struct name of a new migration from its file's name part: `add_foo` gives
/// `AddFoo`. One that would start with a digit, be empty, or shadow a name the
/// migration's code uses gets `Migration` added.
pub(crate) fn type_name(slug: &str, version: u64) -> String {
    let camel: String = slug
        .split('_')
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    match camel.chars().next() {
        None => format!("Migration{version}"),
        Some(c) if c.is_ascii_digit() => format!("Migration{camel}"),
        Some(_) if TAKEN_TYPE_NAMES.contains(&camel.as_str()) => format!("{camel}Migration"),
        Some(_) => camel,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        for ok in [
            "m0001_initial_schema",
            "m1",
            "add_users",
            "a_b_1",
            "type_",
            "m0003_",
        ] {
            assert!(is_module_name(ok), "{ok}");
        }
        for bad in [
            "",
            "_",
            "_m1",
            "0001_initial",
            "M0001_initial",
            "m0001-initial",
            "m0001 initial",
            "m0001.initial",
            "addUsers",
            "type",
            "mod",
            "gen",
            "self",
            "crate",
            "m0001_é",
        ] {
            assert!(!is_module_name(bad), "{bad}");
        }
    }

    #[test]
    fn suggestions_are_module_names() {
        for (stem, suggestion) in [
            ("0004-add-foo", "m0004_add_foo"),
            ("0004_add_foo", "m0004_add_foo"),
            ("M0004_AddFoo", "m0004_add_foo"),
            ("add users", "add_users"),
            ("type", "type_migration"),
            ("_", "migration"),
            ("été", "t"),
        ] {
            let suggested = suggest_module_name(stem);
            assert_eq!(suggested, suggestion, "{stem}");
            assert!(is_module_name(&suggested), "{suggested}");
        }
    }

    #[test]
    fn versions_in_file_names() {
        assert_eq!(file_name_version("m0003_add_metadata"), Some(Ok(3)));
        assert_eq!(file_name_version("m001_initial_schema"), Some(Ok(1)));
        assert_eq!(
            file_name_version("m20261124093000_add_index"),
            Some(Ok(20_261_124_093_000))
        );
        assert_eq!(file_name_version("m7"), Some(Ok(7)));
        assert_eq!(file_name_version("m7_"), Some(Ok(7)));
        assert_eq!(
            file_name_version("m99999999999999999999_x"),
            Some(Err("99999999999999999999"))
        );
        for none in [
            "add_metadata",
            "m_add",
            "mig0003_x",
            "m0003add",
            "m",
            "x0003_a",
        ] {
            assert_eq!(file_name_version(none), None, "{none}");
        }
    }

    #[test]
    fn snake_case_of_descriptions() {
        for (text, snake) in [
            ("Add metadata to chat_users", "add_metadata_to_chat_users"),
            (
                "Add is_spammer to chat_users",
                "add_is_spammer_to_chat_users",
            ),
            ("  Add   isSpammer!! ", "add_is_spammer"),
            ("Create users (v2)", "create_users_v2"),
            ("Drop the 'old' table; again", "drop_the_old_table_again"),
            ("HTTP log", "http_log"),
            ("2nd try", "2nd_try"),
            ("Ajouter l'été", "ajouter_l_t"),
            ("日本語", ""),
            ("", ""),
        ] {
            assert_eq!(snake_case(text), snake, "{text:?}");
        }
    }

    #[test]
    fn slugs_are_cut_at_a_word_boundary() {
        let long = "Add a column that holds the user's preferred notification channel and time";
        let slug = slug(long);
        assert!(slug.len() <= MAX_SLUG_LEN, "{slug}");
        assert_eq!(slug, "add_a_column_that_holds_the_user_s_preferred");
        let one_word = "a".repeat(80);
        assert_eq!(super::slug(&one_word).len(), MAX_SLUG_LEN);
    }

    #[test]
    fn type_names() {
        assert_eq!(
            type_name("add_metadata_to_chat_users", 3),
            "AddMetadataToChatUsers"
        );
        assert_eq!(type_name("2nd_try", 4), "Migration2ndTry");
        assert_eq!(type_name("", 4), "Migration4");
        assert_eq!(type_name("result", 4), "ResultMigration");
        assert_eq!(type_name("migration", 4), "MigrationMigration");
        assert_eq!(type_name("db", 4), "DbMigration");
    }
}
