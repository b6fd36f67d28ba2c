//! Suggesting the key a misspelt one meant.

use super::keys;

/// The key a misspelt one most likely meant: a small edit away, or one it begins.
pub(super) fn nearest_key(name: &str) -> Option<&'static str> {
    keys::names()
        .map(|key| (edit_distance(name, key), key))
        .min()
        .filter(|(distance, key)| *distance <= key.len() / 3 + 1)
        .map(|(_, key)| key)
        .or_else(|| keys::names().find(|key| name.len() >= 3 && key.starts_with(name)))
}

pub(super) fn unknown_key_message(name: &str, nearest: Option<&str>) -> String {
    match nearest {
        Some(key) => format!("unknown key `{name}`; did you mean `{key}`?"),
        None => {
            let names: Vec<String> = keys::names().map(|key| format!("`{key}`")).collect();
            let (last, others) = names.split_last().expect("the table has keys");
            format!(
                "unknown key `{name}`; the keys are {} and {last}",
                others.join(", ")
            )
        }
    }
}

/// Levenshtein distance, for suggesting the key the user meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("version", "version"), 0);
        assert_eq!(edit_distance("verison", "version"), 2);
        assert_eq!(edit_distance("versio", "version"), 1);
        assert_eq!(edit_distance("desc", "description"), 7);
    }

    #[test]
    fn unknown_keys_suggest_the_nearest_or_list_all() {
        assert_eq!(nearest_key("verion"), Some("version"));
        assert_eq!(nearest_key("desc"), Some("description"));
        assert_eq!(nearest_key("table"), None);
        assert_eq!(
            unknown_key_message("verion", Some("version")),
            "unknown key `verion`; did you mean `version`?"
        );
        assert!(unknown_key_message("table", None).contains("the keys are"));
        assert!(unknown_key_message("table", None).contains("`lock_timeout`"));
        assert_eq!(
            unknown_key_message("table", None),
            "unknown key `table`; the keys are `version`, `description`, `irreversible`, `set`, \
             `transaction`, `lock_timeout`, `tags`, `category`, `after`, `when` and `environments`"
        );
        assert_eq!(nearest_key("lock_timeot"), Some("lock_timeout"));
        assert_eq!(nearest_key("lock"), Some("lock_timeout"));
    }
}
