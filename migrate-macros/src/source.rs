//! What the attribute reads of the file it is in: a checksum of its tokens, recorded in the
//! history so a migration changed after it was applied is caught, and the version a file
//! name such as `m0003_add_metadata.rs` carries.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// The migration's source, as far as the attribute can see it.
pub struct Source {
    /// FNV-1a over the file's tokens (formatting and comments do not count), as 16 hex digits.
    pub checksum: String,
    /// The version in the file name, and the name, when it follows `m<digits>_<name>.rs`.
    pub file_version: Option<(u64, String)>,
}

/// Reads the file the attribute is in. Where the compiler names no file on disk (doc
/// tests, generated code), the checksum covers the attribute and the struct instead.
pub fn read(file: Option<PathBuf>, fallback: &TokenStream) -> Source {
    let tokens = file
        .as_deref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .and_then(|text| text.parse::<TokenStream>().ok())
        .unwrap_or_else(|| fallback.clone());
    let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
    hash_tokens(tokens, &mut hasher);
    Source {
        checksum: format!("{:016x}", hasher.0),
        file_version: file.as_deref().and_then(file_version),
    }
}

struct Fnv(u64);

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // A separator, so that `ab` and `a b` differ.
        self.0 ^= 0xff;
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// Hashes the tokens, leaving out doc comments (`#[doc = ..]`, `#![doc = ..]`).
fn hash_tokens(tokens: TokenStream, hasher: &mut Fnv) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        if let Some(skip) = doc_attribute_len(&tokens[i..]) {
            i += skip;
            continue;
        }
        match &tokens[i] {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                hasher.write(open.as_bytes());
                hash_tokens(group.stream(), hasher);
                hasher.write(close.as_bytes());
            }
            TokenTree::Ident(ident) => hasher.write(ident.to_string().as_bytes()),
            TokenTree::Punct(punct) => hasher.write(punct.to_string().as_bytes()),
            TokenTree::Literal(literal) => hasher.write(literal.to_string().as_bytes()),
        }
        i += 1;
    }
}

/// How many tokens a doc attribute at the start of `tokens` spans: `#` `[doc ..]` or
/// `#` `!` `[doc ..]`.
fn doc_attribute_len(tokens: &[TokenTree]) -> Option<usize> {
    let TokenTree::Punct(hash) = tokens.first()? else {
        return None;
    };
    if hash.as_char() != '#' {
        return None;
    }
    let bang = matches!(tokens.get(1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
    let group_at = if bang { 2 } else { 1 };
    let TokenTree::Group(group) = tokens.get(group_at)? else {
        return None;
    };
    let is_doc = group.delimiter() == Delimiter::Bracket
        && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc");
    is_doc.then_some(group_at + 1)
}

/// `m0003_add_metadata.rs` carries version 3.
fn file_version(path: &Path) -> Option<(u64, String)> {
    let name = path.file_name()?.to_str()?;
    let digits = name.strip_prefix('m')?;
    let end = digits.find(|c: char| !c.is_ascii_digit())?;
    if end == 0 || !digits[end..].starts_with('_') {
        return None;
    }
    Some((digits[..end].parse().ok()?, name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checksum(text: &str) -> String {
        let mut hasher = Fnv(0xcbf2_9ce4_8422_2325);
        hash_tokens(text.parse().unwrap(), &mut hasher);
        format!("{:016x}", hasher.0)
    }

    #[test]
    fn formatting_and_comments_do_not_change_the_checksum() {
        let a = checksum("fn up() { db.execute(\"CREATE TABLE t (id)\") }");
        let b = checksum(
            "/// Creates t.\n// a comment\nfn up()\n{\n    db.execute(\"CREATE TABLE t (id)\") // x\n}",
        );
        assert_eq!(a, b);
        assert_ne!(
            a,
            checksum("fn up() { db.execute(\"CREATE TABLE u (id)\") }")
        );
        assert_ne!(checksum("a b"), checksum("ab"));
    }

    #[test]
    fn file_names_carry_versions() {
        assert_eq!(
            file_version(Path::new("src/migrations/m0003_add_metadata.rs")),
            Some((3, "m0003_add_metadata.rs".to_owned()))
        );
        assert_eq!(file_version(Path::new("m3_x.rs")).map(|v| v.0), Some(3));
        assert_eq!(file_version(Path::new("migration.rs")), None);
        assert_eq!(file_version(Path::new("m_x.rs")), None);
        assert_eq!(file_version(Path::new("m12x.rs")), None);
    }
}
