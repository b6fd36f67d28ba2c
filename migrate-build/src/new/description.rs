//! The rules of a new migration's description: one line, no control or text-direction
//! character, not blank.

use crate::error::{Error, Result};

/// Checks a new migration's description as [`write_migration`](crate::write_migration) and
/// [`write_new_migration`](crate::write_new_migration) do, before they touch the folder: for a caller that wants to
/// refuse it before doing anything else (the `migrate new` command does).
///
/// A description is one line of text: after trimming the spaces around it, it must not
/// be blank, and it must not contain
///
/// - a control character (Unicode's `Cc`: U+0000 to U+001F and U+007F to U+009F, among
///   them NUL, a tab and a newline): the description is one line in the status table,
///   the history table and the migration's doc comment;
/// - a character that changes the direction of text (U+061C, U+200E, U+200F, U+202A to
///   U+202E, U+2066 to U+2069): the file would show something other than what it does,
///   and `rustc` denies them in string literals.
///
/// Any other character is fine, letters of every script and emoji included.
///
/// # Errors
///
/// [`Error::BlankDescription`]; [`Error::DescriptionCharacter`] naming the first
/// character refused (as `U+XXXX`) and its position, counted in characters from 1 in
/// `description` as given.
///
/// ```
/// use migrate_build::{Error, check_description};
///
/// assert!(check_description("Add tags to notes").is_ok());
/// let error = check_description("Add \u{202E}sgat").unwrap_err();
/// assert!(matches!(error, Error::DescriptionCharacter { character: '\u{202E}', position: 5, .. }));
/// assert!(error.to_string().contains("U+202E (RIGHT-TO-LEFT OVERRIDE) at character 5"));
/// ```
pub fn check_description(description: &str) -> Result<()> {
    checked_description(description).map(|_| ())
}

/// The characters that change the direction of text, which `rustc` denies in literals
/// (`text_direction_codepoint_in_literal`), with their Unicode names.
const TEXT_DIRECTION: &[(char, &str)] = &[
    ('\u{061C}', "ARABIC LETTER MARK"),
    ('\u{200E}', "LEFT-TO-RIGHT MARK"),
    ('\u{200F}', "RIGHT-TO-LEFT MARK"),
    ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202C}', "POP DIRECTIONAL FORMATTING"),
    ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', "FIRST STRONG ISOLATE"),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
];

/// The name of a control character a description may hold by mistake.
fn control_name(c: char) -> &'static str {
    match c {
        '\0' => "NULL",
        '\t' => "CHARACTER TABULATION",
        '\n' => "LINE FEED",
        '\r' => "CARRIAGE RETURN",
        '\u{1B}' => "ESCAPE",
        '\u{7F}' => "DELETE",
        _ => "a control character",
    }
}

/// The description trimmed, or why it cannot be one: [`check_description`].
pub(super) fn checked_description(description: &str) -> Result<&str> {
    for (index, character) in description.chars().enumerate() {
        let name = match TEXT_DIRECTION.iter().find(|(c, _)| *c == character) {
            Some((_, name)) => *name,
            None if character.is_control() => control_name(character),
            None => continue,
        };
        return Err(Error::DescriptionCharacter {
            character,
            name,
            position: index + 1,
        });
    }
    let description = description.trim();
    if description.is_empty() {
        return Err(Error::BlankDescription);
    }
    Ok(description)
}
