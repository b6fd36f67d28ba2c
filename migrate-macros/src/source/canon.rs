//! The canonical form of a migration file's tokens, which its checksum hashes, built so
//! that `rustfmt` (either style edition) never changes it while any change to code or SQL
//! does (the rule is written down in docs/safety.md, "Drift"):
//!
//! - left out: `use` items, `extern crate` items, out-of-line `mod x;` declarations (with
//!   their attributes and visibility), `#[derive(..)]` and doc attributes, every `,` and
//!   `;`, the braces of a block that holds at most one statement (rustfmt adds and
//!   removes those around match-arm and closure bodies), and the `lock_timeout`, `tags`,
//!   `category` and `after` arguments of a `#[migration(..)]` attribute (how it may wait,
//!   how it is labelled and ordered, not what it does);
//! - a parenthesis group that holds only another one counts once (`((x))` is `(x)`);
//! - everything else (identifiers, literals, operators, parentheses, brackets, the braces
//!   of blocks with several statements) counts, in order;
//! - a file included with `include_str!`, `include_bytes!` or `include!` and a
//!   string-literal path counts with its path and its bytes.

use std::path::Path;

use migrate_spec::Fnv64;
use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

/// The canonical form being hashed, and what it needs to read included files.
pub(super) struct Canon<'a> {
    pub(super) hasher: Fnv64,
    /// The file and its text, for included files (relative to its folder) and the line an
    /// error names; `None` for the fallback tokens.
    pub(super) file: Option<(&'a Path, &'a str)>,
    /// The first included file that could not be read.
    pub(super) error: Option<String>,
}

impl<'a> Canon<'a> {
    pub(super) fn new(file: Option<(&'a Path, &'a str)>) -> Self {
        Canon {
            hasher: Fnv64::new(),
            file,
            error: None,
        }
    }

    pub(super) fn finish(self) -> Result<String, String> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(format!("{:016x}", self.hasher.finish())),
        }
    }

    pub(super) fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            if let Some(skip) = left_out_len(&tokens[i..]) {
                i += skip;
                continue;
            }
            if let Some(attribute) = migration_attribute_without_metadata(&tokens[i..]) {
                // `#`, then the attribute as if `lock_timeout = ..` (and the rest) were not in it.
                self.hasher.field(b"#");
                self.group(&attribute);
                i += 2;
                continue;
            }
            match &tokens[i] {
                TokenTree::Group(group) => self.group(group),
                TokenTree::Punct(punct) if matches!(punct.as_char(), ',' | ';') => {}
                TokenTree::Punct(punct) => self.hasher.field(punct.to_string().as_bytes()),
                TokenTree::Literal(literal) => self.hasher.field(literal.to_string().as_bytes()),
                TokenTree::Ident(ident) => {
                    self.hasher.field(ident.to_string().as_bytes());
                    if matches!(
                        ident.to_string().as_str(),
                        "include_str" | "include_bytes" | "include"
                    ) {
                        self.include(&tokens[i + 1..]);
                    }
                }
            }
            i += 1;
        }
    }

    fn group(&mut self, group: &Group) {
        let (open, close): (&[u8], &[u8]) = match group.delimiter() {
            Delimiter::Parenthesis => (b"(", b")"),
            Delimiter::Bracket => (b"[", b"]"),
            Delimiter::Brace if statements(&group.stream()) > 1 => (b"{", b"}"),
            Delimiter::Brace | Delimiter::None => (b"", b""),
        };
        let mut stream = group.stream();
        if group.delimiter() == Delimiter::Parenthesis {
            // rustfmt removes nested parentheses: `((x))` is `(x)`. A tuple's are kept.
            while let Some(inner) = only_parenthesis_group(&stream) {
                stream = inner;
            }
        }
        if !open.is_empty() {
            self.hasher.field(open);
        }
        self.tokens(stream);
        if !close.is_empty() {
            self.hasher.field(close);
        }
    }
}

/// The keys of `#[migration(..)]` that say how a migration is run or described, not what
/// it does: changing them is not drift. `lock_timeout` is how long it may wait; `tags`,
/// `category` and `after` are what `status` filters by and what the planner orders by.
const NOT_IN_CHECKSUM: &[&str] = &["lock_timeout", "tags", "category", "after"];

/// At `#[migration(..)]` (or `#[some::path::migration(..)]`) with any of the
/// [`NOT_IN_CHECKSUM`] arguments: the bracket group without them. `None` elsewhere, and
/// for an attribute without those keys, which is hashed as it is.
fn migration_attribute_without_metadata(tokens: &[TokenTree]) -> Option<Group> {
    let (Some(TokenTree::Punct(hash)), Some(TokenTree::Group(attribute))) =
        (tokens.first(), tokens.get(1))
    else {
        return None;
    };
    if hash.as_char() != '#' || attribute.delimiter() != Delimiter::Bracket {
        return None;
    }
    let mut inside: Vec<TokenTree> = attribute.stream().into_iter().collect();
    let Some(TokenTree::Group(args)) = inside.last() else {
        return None;
    };
    let path = &inside[..inside.len() - 1];
    let is_migration = args.delimiter() == Delimiter::Parenthesis
        && matches!(path.last(), Some(TokenTree::Ident(name)) if name == "migration")
        && path.iter().all(|t| match t {
            TokenTree::Ident(_) => true,
            TokenTree::Punct(p) => p.as_char() == ':',
            _ => false,
        });
    if !is_migration {
        return None;
    }
    // The arguments, split at their commas (left out like every comma); an argument
    // `key = value` with a key to leave out goes.
    let args_tokens: Vec<TokenTree> = args.stream().into_iter().collect();
    let is_comma = |t: &TokenTree| matches!(t, TokenTree::Punct(comma) if comma.as_char() == ',');
    let left_out = |entry: &[TokenTree]| {
        matches!(entry, [TokenTree::Ident(key), TokenTree::Punct(eq), ..]
            if eq.as_char() == '=' && NOT_IN_CHECKSUM.iter().any(|k| key == k))
    };
    let entries: Vec<&[TokenTree]> = args_tokens.split(is_comma).collect();
    if !entries.iter().any(|entry| left_out(entry)) {
        return None;
    }
    let kept: TokenStream = entries
        .into_iter()
        .filter(|entry| !left_out(entry))
        .flat_map(|entry| entry.iter().cloned())
        .collect();
    let mut args = Group::new(Delimiter::Parenthesis, kept);
    args.set_span(attribute.span());
    inside.pop();
    inside.push(TokenTree::Group(args));
    Some(Group::new(Delimiter::Bracket, inside.into_iter().collect()))
}

/// The number of statements in a block: the non-empty parts between its top-level `;`s.
fn statements(stream: &TokenStream) -> usize {
    let mut count = 0;
    let mut empty = true;
    for token in stream.clone() {
        match token {
            TokenTree::Punct(punct) if punct.as_char() == ';' => {
                count += usize::from(!empty);
                empty = true;
            }
            _ => empty = false,
        }
    }
    count + usize::from(!empty)
}

/// The stream of the parenthesis group that is all of `stream`, unless it is a tuple.
fn only_parenthesis_group(stream: &TokenStream) -> Option<TokenStream> {
    let mut tokens = stream.clone().into_iter();
    let (Some(TokenTree::Group(inner)), None) = (tokens.next(), tokens.next()) else {
        return None;
    };
    let inner = inner.stream();
    let tuple = inner
        .clone()
        .into_iter()
        .any(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ','));
    (!tuple).then_some(inner)
}

/// How many tokens at the start of `tokens` the checksum leaves out: a `use`, `extern
/// crate` or `mod x;` item with its outer attributes and visibility (rustfmt sorts and
/// merges these), or one doc or derive attribute.
fn left_out_len(tokens: &[TokenTree]) -> Option<usize> {
    let mut at = 0;
    // Outer attributes belong to the item after them; an inner one (`#!`) to the module.
    while let Some((len, false, _)) = attribute(&tokens[at..]) {
        at += len;
    }
    at += visibility_len(&tokens[at..]);
    if let Some(len) = import_len(&tokens[at..]) {
        return Some(at + len);
    }
    match attribute(tokens) {
        Some((len, _, name)) if name == "doc" || name == "derive" => Some(len),
        _ => None,
    }
}

/// An attribute at the start of `tokens`: its length, whether it is inner (`#!`), and
/// the first identifier of its path.
fn attribute(tokens: &[TokenTree]) -> Option<(usize, bool, String)> {
    let TokenTree::Punct(hash) = tokens.first()? else {
        return None;
    };
    if hash.as_char() != '#' {
        return None;
    }
    let inner = matches!(tokens.get(1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
    let group_at = if inner { 2 } else { 1 };
    let TokenTree::Group(group) = tokens.get(group_at)? else {
        return None;
    };
    if group.delimiter() != Delimiter::Bracket {
        return None;
    }
    let name = match group.stream().into_iter().next() {
        Some(TokenTree::Ident(ident)) => ident.to_string(),
        _ => String::new(),
    };
    Some((group_at + 1, inner, name))
}

/// `pub`, `pub(crate)`, `pub(in path)`: 0, 1 or 2 tokens.
fn visibility_len(tokens: &[TokenTree]) -> usize {
    match tokens {
        [TokenTree::Ident(vis), TokenTree::Group(group), ..]
            if vis == "pub" && group.delimiter() == Delimiter::Parenthesis =>
        {
            2
        }
        [TokenTree::Ident(vis), ..] if vis == "pub" => 1,
        _ => 0,
    }
}

/// `use ..;` (not `use<..>`, precise capturing), `extern crate ..;` or `mod name;`, up
/// to and with its `;`.
fn import_len(tokens: &[TokenTree]) -> Option<usize> {
    let is =
        |at: usize, word: &str| matches!(tokens.get(at), Some(TokenTree::Ident(i)) if i == word);
    let is_punct = |at: usize, c: char| matches!(tokens.get(at), Some(TokenTree::Punct(p)) if p.as_char() == c);
    let through_semicolon = || {
        tokens
            .iter()
            .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
            .map(|at| at + 1)
    };
    if is(0, "use") && !is_punct(1, '<') || is(0, "extern") && is(1, "crate") {
        through_semicolon()
    } else if is(0, "mod") && matches!(tokens.get(1), Some(TokenTree::Ident(_))) && is_punct(2, ';')
    {
        Some(3)
    } else {
        None
    }
}
