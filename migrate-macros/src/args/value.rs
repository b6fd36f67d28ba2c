//! The value parsers, one per kind of value: each takes the tokens after `key =` and
//! returns the value or the error to report on them, saying what to write instead.

use proc_macro2::{TokenStream, TokenTree};
use syn::{Lit, LitInt, LitStr};

use migrate_spec::{MAX_LABEL_LEN, MAX_VERSION};

use super::Errors;

pub(super) const VERSION_ARG: &str = "version = 3";
pub(super) const DESCRIPTION_ARG: &str = "description = \"Add is_spammer to chat_users\"";
pub(super) const VERSION_EXAMPLE: &str = "e.g. version = 3";
pub(super) const DESCRIPTION_EXAMPLE: &str = "e.g. description = \"Add is_spammer to chat_users\"";
pub(super) const SET_EXAMPLE: &str = "e.g. set = \"analytics\"";
pub(super) const TRANSACTION_EXAMPLE: &str =
    "write transaction = false to run the migration outside a transaction";
pub(super) const TAGS_EXAMPLE: &str = "e.g. tags = [\"billing\", \"slow\"]";
pub(super) const CATEGORY_EXAMPLE: &str = "e.g. category = \"data\"";
pub(super) const WHEN_EXAMPLE: &str =
    "e.g. when = checks::has_postgis, a fn(&mut PlanContext) -> Result<bool or When, BoxError>";
pub(super) const ENVIRONMENTS_EXAMPLE: &str = "e.g. environments = [\"dev\", \"test\"]";
pub(super) const AFTER_EXAMPLE: &str =
    "e.g. after = [CreateUsers] (a migration struct) or after = [3] (a version)";
pub(super) const LOCK_TIMEOUT_EXAMPLE: &str = "e.g. lock_timeout = \"30s\" (units `ms`, `s`, `m`), or lock_timeout = \"off\" to wait as long as it takes";

/// PostgreSQL's `lock_timeout` is an `int` of milliseconds.
pub(super) const MAX_LOCK_TIMEOUT_MS: u64 = i32::MAX as u64;

/// A migration's own `lock_timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockTimeout {
    /// At least 1 and at most [`MAX_LOCK_TIMEOUT_MS`].
    Millis(u64),
    Off,
}

/// One entry of `after = [..]`.
pub enum Dependency {
    /// `after = [3]`: the migration with that version in the same set.
    Version(u64, LitInt),
    /// `after = [CreateUsers]`: the migration that struct is.
    Migration(syn::Path),
}

/// The value when it is one literal, also when a `macro_rules!` macro passed it in as a
/// `$version:literal` fragment (an invisible group around the literal).
pub(super) fn single_literal(value: &TokenStream) -> Option<Lit> {
    let mut iter = value.clone().into_iter();
    match (iter.next(), iter.next()) {
        (Some(TokenTree::Literal(literal)), None) => Some(Lit::new(literal)),
        (Some(TokenTree::Group(group)), None)
            if group.delimiter() == proc_macro2::Delimiter::None =>
        {
            single_literal(&group.stream())
        }
        _ => None,
    }
}

pub(super) fn version(value: TokenStream) -> syn::Result<(u64, LitInt)> {
    let err = |message: String| Err(syn::Error::new_spanned(&value, message));
    let Some(literal) = single_literal(&value) else {
        let negative = matches!(value.clone().into_iter().next(), Some(TokenTree::Punct(p)) if p.as_char() == '-');
        return if negative {
            err(format!("version must be at least 1, {VERSION_EXAMPLE}"))
        } else {
            err(format!(
                "version must be an integer literal, {VERSION_EXAMPLE}; constants and expressions are not evaluated"
            ))
        };
    };
    let int = match literal {
        Lit::Int(int) => int,
        Lit::Str(s) if s.value().trim().parse::<u64>().is_ok() => {
            return err(format!(
                "version must be an integer literal, not a string: write version = {}",
                s.value().trim()
            ));
        }
        Lit::Float(_) => return err(format!("version must be a whole number, {VERSION_EXAMPLE}")),
        _ => {
            return err(format!(
                "version must be an integer literal, {VERSION_EXAMPLE}"
            ));
        }
    };
    let max_for_suffix: u128 = match int.suffix() {
        "" | "u64" | "u128" | "usize" => u128::from(MAX_VERSION),
        "u8" => u128::from(u8::MAX),
        "u16" => u128::from(u16::MAX),
        "u32" => u128::from(u32::MAX),
        suffix => {
            return err(format!(
                "version must be an unsigned integer: drop the `{suffix}` suffix, {VERSION_EXAMPLE}"
            ));
        }
    };
    let Ok(number) = int.base10_parse::<u128>() else {
        return err(too_large());
    };
    if number == 0 {
        return err(format!("version must be at least 1, {VERSION_EXAMPLE}"));
    }
    if number > u128::from(MAX_VERSION) {
        return err(too_large());
    }
    if number > max_for_suffix {
        return err(format!(
            "version {number} does not fit the `{}` suffix; drop the suffix",
            int.suffix()
        ));
    }
    let number = u64::try_from(number).map_err(|_| syn::Error::new_spanned(&value, too_large()))?;
    Ok((number, int))
}

fn too_large() -> String {
    format!(
        "version is too large: versions are stored as signed 64-bit SQLite integers, so the \
         largest is {MAX_VERSION}; a timestamp such as 20261124093000 fits"
    )
}

pub(super) fn description(value: TokenStream) -> syn::Result<LitStr> {
    match single_literal(&value) {
        Some(Lit::Str(s)) if s.value().trim().is_empty() => Err(syn::Error::new_spanned(
            &value,
            format!(
                "description must not be blank: say what the migration does, {DESCRIPTION_EXAMPLE}"
            ),
        )),
        Some(Lit::Str(s)) => Ok(s),
        _ => Err(syn::Error::new_spanned(
            &value,
            format!("description must be a string literal, {DESCRIPTION_EXAMPLE}"),
        )),
    }
}

/// A set name: it becomes part of identifiers and symbols, so lowercase letters, digits and
/// underscores only.
pub(super) fn set(value: TokenStream) -> syn::Result<LitStr> {
    match single_literal(&value) {
        Some(Lit::Str(s))
            if !s.value().is_empty()
                && s.value()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
        {
            Ok(s)
        }
        Some(Lit::Str(_)) => Err(syn::Error::new_spanned(
            &value,
            format!("a set name is lowercase letters, digits and `_`, {SET_EXAMPLE}"),
        )),
        _ => Err(syn::Error::new_spanned(
            &value,
            format!("set must be a string literal, {SET_EXAMPLE}"),
        )),
    }
}

pub(super) fn transaction(value: TokenStream) -> syn::Result<bool> {
    let mut iter = value.clone().into_iter();
    match (iter.next(), iter.next()) {
        (Some(TokenTree::Ident(b)), None) if b == "true" => Ok(true),
        (Some(TokenTree::Ident(b)), None) if b == "false" => Ok(false),
        _ => Err(syn::Error::new_spanned(
            &value,
            format!("transaction must be `true` or `false`; {TRANSACTION_EXAMPLE}"),
        )),
    }
}

/// The elements of a bracketed list, `[a, b, c]`, split at its top-level commas (a
/// trailing comma allowed); `None` when the value is not one bracketed group.
fn list(value: &TokenStream) -> Option<Vec<TokenStream>> {
    let mut iter = value.clone().into_iter();
    let group = match (iter.next(), iter.next()) {
        (Some(TokenTree::Group(group)), None)
            if group.delimiter() == proc_macro2::Delimiter::Bracket =>
        {
            group
        }
        (Some(TokenTree::Group(group)), None)
            if group.delimiter() == proc_macro2::Delimiter::None =>
        {
            return list(&group.stream());
        }
        _ => return None,
    };
    let mut items = Vec::new();
    let mut item = TokenStream::new();
    for token in group.stream() {
        match &token {
            TokenTree::Punct(comma) if comma.as_char() == ',' => {
                items.push(std::mem::take(&mut item));
            }
            _ => item.extend([token]),
        }
    }
    if !item.is_empty() {
        items.push(item);
    }
    Some(items)
}

/// `tags = ["billing", "slow"]`: a list of distinct labels (see [`label`]), not empty.
pub(super) fn tags(value: TokenStream) -> syn::Result<Vec<LitStr>> {
    labels("tag", "tags", &value, TAGS_EXAMPLE)
}

/// `category = "data"`: one label (see [`label`]).
pub(super) fn category(value: TokenStream) -> syn::Result<LitStr> {
    label("category", &value, CATEGORY_EXAMPLE)
}

/// `environments = ["dev", "test"]`: a list of distinct labels (see [`label`]), not empty.
pub(super) fn environments(value: TokenStream) -> syn::Result<Vec<LitStr>> {
    labels("environment", "environments", &value, ENVIRONMENTS_EXAMPLE)
}

/// A bracketed list of distinct labels (`tags`, `environments`), not empty.
fn labels(what: &str, key: &str, value: &TokenStream, example: &str) -> syn::Result<Vec<LitStr>> {
    let Some(items) = list(value) else {
        return Err(syn::Error::new_spanned(
            value,
            format!("{key} must be a list of string literals in brackets, {example}"),
        ));
    };
    if items.is_empty() {
        return Err(syn::Error::new_spanned(
            value,
            format!("{key} = [] lists no {what}: name at least one, {example}, or remove `{key}`"),
        ));
    }
    let mut errors = Errors::default();
    let mut labels: Vec<LitStr> = Vec::new();
    for item in items {
        if item.is_empty() {
            continue;
        }
        match label(what, &item, example) {
            Ok(label) if labels.iter().any(|l| l.value() == label.value()) => {
                errors.push(syn::Error::new_spanned(
                    &label,
                    format!("{what} \"{}\" is listed twice; keep one", label.value()),
                ));
            }
            Ok(label) => labels.push(label),
            Err(error) => errors.push(error),
        }
    }
    errors.into_result().map(|()| labels)
}

/// `when = checks::has_postgis`: the path of a function (no call, no closure).
pub(super) fn when(value: TokenStream) -> syn::Result<syn::Path> {
    let err = |message: String| Err(syn::Error::new_spanned(&value, message));
    if let Some(Lit::Str(s)) = single_literal(&value) {
        return err(format!(
            "when names a function, not a string: write when = {}",
            s.value().trim()
        ));
    }
    match syn::parse2::<syn::Path>(value.clone()) {
        Ok(path) => Ok(path),
        Err(_) => err(format!(
            "when must name a function by its path, without calling it, {WHEN_EXAMPLE}"
        )),
    }
}

/// A tag, category or environment: a string literal of lowercase letters, digits, `-`,
/// `_` and `.`, at most [`MAX_LABEL_LEN`] long, so that `--tag slow` on the command line
/// names it without quoting or case questions.
fn label(what: &str, value: &TokenStream, example: &str) -> syn::Result<LitStr> {
    let err = |message: String| Err(syn::Error::new_spanned(value, message));
    // "an environment", "a tag".
    let a = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    let Some(Lit::Str(literal)) = single_literal(value) else {
        return err(format!("{a} {what} must be a string literal, {example}"));
    };
    let text = literal.value();
    if text.trim().is_empty() {
        return err(format!("{a} {what} must not be empty, {example}"));
    }
    if text.len() > MAX_LABEL_LEN {
        return err(format!(
            "{a} {what} is at most {MAX_LABEL_LEN} characters: a word to filter by, not a sentence \
             (say more in the description)"
        ));
    }
    if !text.chars().all(migrate_spec::is_label_char) {
        let suggestion = migrate_spec::label_suggestion(&text);
        let hint = if suggestion.is_empty() {
            String::new()
        } else {
            format!(": write \"{suggestion}\"")
        };
        return err(format!(
            "{a} {what} is lowercase letters, digits, `-`, `_` and `.`{hint}"
        ));
    }
    Ok(literal)
}

/// `after = [CreateUsers, 3]`: the migrations this one needs, by struct or by version.
/// Relations to the migration's own version are checked later (`valid`).
pub(super) fn after(value: TokenStream) -> syn::Result<Vec<Dependency>> {
    let Some(items) = list(&value) else {
        return Err(syn::Error::new_spanned(
            &value,
            format!("after must be a list in brackets, {AFTER_EXAMPLE}"),
        ));
    };
    let mut errors = Errors::default();
    let mut dependencies = Vec::new();
    for item in items.into_iter().filter(|item| !item.is_empty()) {
        match single_literal(&item) {
            Some(Lit::Int(_)) => match version(item) {
                Ok((number, literal)) => dependencies.push(Dependency::Version(number, literal)),
                Err(error) => errors.push(error),
            },
            Some(Lit::Str(s)) => errors.push(syn::Error::new_spanned(
                &item,
                format!(
                    "after names migrations by struct or version, not by string: write after = [{}]",
                    s.value().trim()
                ),
            )),
            Some(_) => errors.push(syn::Error::new_spanned(
                &item,
                format!("expected a migration struct or a version, {AFTER_EXAMPLE}"),
            )),
            None => match syn::parse2::<syn::Path>(item.clone()) {
                Ok(path) if path.segments.iter().all(|s| s.arguments.is_none()) => {
                    dependencies.push(Dependency::Migration(path));
                }
                _ => errors.push(syn::Error::new_spanned(
                    &item,
                    format!("expected a migration struct or a version, {AFTER_EXAMPLE}"),
                )),
            },
        }
    }
    errors.into_result().map(|()| dependencies)
}

/// `lock_timeout = "30s"`: a string literal, checked by [`parse_lock_timeout`].
pub(super) fn lock_timeout(value: TokenStream) -> syn::Result<LockTimeout> {
    let err = |message: String| syn::Error::new_spanned(&value, message);
    match single_literal(&value) {
        Some(Lit::Str(s)) => parse_lock_timeout(&s.value()).map_err(err),
        Some(Lit::Int(int)) => Err(err(format!(
            "lock_timeout must be a string with a unit: write lock_timeout = \"{0}s\" or \"{0}ms\"",
            int.base10_digits()
        ))),
        _ => Err(err(format!(
            "lock_timeout must be a string literal, {LOCK_TIMEOUT_EXAMPLE}"
        ))),
    }
}

/// The text of a `lock_timeout`: `"off"`, or a whole number of at least 1 followed by
/// `ms`, `s` or `m` (minutes), at most PostgreSQL's limit. The error says what to write.
fn parse_lock_timeout(text: &str) -> Result<LockTimeout, String> {
    if text.trim().is_empty() {
        return Err(format!(
            "lock_timeout must not be empty, {LOCK_TIMEOUT_EXAMPLE}"
        ));
    }
    if text == "off" {
        return Ok(LockTimeout::Off);
    }
    if text.chars().any(char::is_whitespace) {
        return Err(format!(
            "lock_timeout is written without spaces: write lock_timeout = \"{}\"",
            text.split_whitespace().collect::<String>()
        ));
    }
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(format!(
            "lock_timeout must be a whole number with a unit or \"off\", {LOCK_TIMEOUT_EXAMPLE}"
        ));
    }
    let factor: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "" => {
            return Err(format!(
                "lock_timeout needs a unit: write \"{number}ms\", \"{number}s\" or \"{number}m\""
            ));
        }
        _ if unit.starts_with(['.', ',']) => {
            return Err(
                "lock_timeout must be a whole number: use a smaller unit, e.g. \"1500ms\" for 1.5 seconds"
                    .to_owned(),
            );
        }
        _ => {
            return Err(format!(
                "unknown unit `{unit}` in lock_timeout: the units are `ms`, `s` and `m` (minutes), e.g. \"30s\""
            ));
        }
    };
    let too_long = || {
        format!(
            "lock_timeout is too long: PostgreSQL takes at most {MAX_LOCK_TIMEOUT_MS}ms (about 24 \
             days); write lock_timeout = \"off\" to wait as long as it takes"
        )
    };
    let millis = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(too_long)?;
    if millis == 0 {
        return Err(
            "lock_timeout must be more than zero: to PostgreSQL a zero lock_timeout means no \
             limit at all; write lock_timeout = \"off\" for that, or a duration such as \"500ms\""
                .to_owned(),
        );
    }
    if millis > MAX_LOCK_TIMEOUT_MS {
        return Err(too_long());
    }
    Ok(LockTimeout::Millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_timeouts_are_whole_numbers_with_a_unit_or_off() {
        use LockTimeout::{Millis, Off};
        assert_eq!(parse_lock_timeout("500ms"), Ok(Millis(500)));
        assert_eq!(parse_lock_timeout("30s"), Ok(Millis(30_000)));
        assert_eq!(parse_lock_timeout("5m"), Ok(Millis(300_000)));
        assert_eq!(parse_lock_timeout("1ms"), Ok(Millis(1)));
        assert_eq!(parse_lock_timeout("off"), Ok(Off));
        assert_eq!(
            parse_lock_timeout("2147483647ms"),
            Ok(Millis(2_147_483_647))
        );
        assert_eq!(parse_lock_timeout("35791m"), Ok(Millis(2_147_460_000)));

        let refused = |text: &str, says: &str| {
            let message = parse_lock_timeout(text).unwrap_err();
            assert!(message.contains(says), "{text:?}: {message}");
        };
        refused("", "must not be empty");
        refused("  ", "must not be empty");
        refused("30", "needs a unit: write \"30ms\", \"30s\" or \"30m\"");
        refused("30h", "unknown unit `h`");
        refused("30min", "unknown unit `min`");
        refused("30S", "unknown unit `S`");
        refused("1.5s", "whole number");
        refused("s", "whole number with a unit");
        refused("-1s", "whole number with a unit");
        refused("none", "whole number with a unit or \"off\"");
        refused("30 s", "write lock_timeout = \"30s\"");
        refused("0ms", "more than zero");
        refused("0s", "\"off\"");
        refused("2147483648ms", "too long");
        refused("35792m", "too long");
        refused("99999999999999999999s", "too long");
        refused("18446744073709551615m", "too long");
    }
}
