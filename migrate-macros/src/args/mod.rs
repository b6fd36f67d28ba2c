//! Parsing the attribute's arguments into [`Args`], one field per key, collecting every
//! mistake with the span of the token at fault.
//!
//! `syn::meta::parser` walks the `key = value` entries. Each key's row of the table in
//! [`keys`] sends its value through its parser ([`value`]) into its [`Slot`], where a
//! second entry for the key is refused. Two mistakes the meta grammar stops at are
//! reported here and stepped over, so that the entries after them are still checked: an
//! argument without a key (`3`, `"Add x"`) and a missing comma between two entries.

mod keys;
mod suggest;
mod value;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::quote;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, Lit, LitInt, LitStr, Token};

pub use value::{Dependency, LockTimeout};

use value::{DESCRIPTION_ARG, DESCRIPTION_EXAMPLE, VERSION_ARG, VERSION_EXAMPLE, single_literal};

/// The arguments of `#[migration(..)]`, checked.
pub struct Args {
    /// The version and the literal it came from (duplicate-version errors point at it).
    pub version: (u64, LitInt),
    pub description: LitStr,
    /// The migration has no `down`.
    pub irreversible: bool,
    /// The named set the migration belongs to; `None` for the default set.
    pub set: Option<LitStr>,
    /// Whether the migration runs inside a transaction (`transaction = false` opts out).
    pub transaction: bool,
    /// The migration's own lock timeout; `None` leaves the backend's default.
    pub lock_timeout: Option<LockTimeout>,
    /// `tags = [..]`: distinct, checked labels in the order written.
    pub tags: Vec<LitStr>,
    /// `category = ".."`.
    pub category: Option<LitStr>,
    /// `after = [..]`; `None` when not given (the migration needs every earlier one).
    pub after: Option<Vec<Dependency>>,
    /// `when = path::to::predicate`.
    pub when: Option<syn::Path>,
    /// `environments = [..]`: distinct, checked names.
    pub environments: Option<Vec<LitStr>>,
}

/// Parses the arguments, reporting every mistake at once.
pub fn parse(tokens: TokenStream) -> syn::Result<Args> {
    let mut draft = Draft::default();
    let mut errors = Errors::default();
    // The meta grammar wants a key first: arguments without one are stepped over here.
    let leading = |input: ParseStream| {
        leading_keyless(input, &mut draft, &mut errors)?;
        input.parse::<TokenStream>()
    };
    let walked = leading.parse2(tokens.clone()).and_then(|rest| {
        syn::meta::parser(|meta| {
            match meta.path.get_ident() {
                Some(key) => keyed(key.clone(), meta.input, &mut draft, &mut errors)?,
                None => path_key(&meta.path, meta.input, &mut errors)?,
            }
            separator(meta.input, &mut draft, &mut errors)
        })
        .parse2(rest)
    });
    if let Err(error) = walked {
        errors.push(error);
    }
    draft.finish(&tokens, errors)
}

/// The arguments as far as they are read: a slot per key, and the required keys that a
/// mistake already reported stood for.
#[derive(Default)]
struct Draft {
    version: Slot<(u64, LitInt)>,
    description: Slot<LitStr>,
    irreversible: Slot<()>,
    set: Slot<LitStr>,
    transaction: Slot<bool>,
    lock_timeout: Slot<LockTimeout>,
    tags: Slot<Vec<LitStr>>,
    category: Slot<LitStr>,
    after: Slot<Vec<Dependency>>,
    when: Slot<syn::Path>,
    environments: Slot<Vec<LitStr>>,
    /// Keys that an unknown key or an argument without a key was reported as meaning: no
    /// "missing" error for them on top.
    meant: Vec<&'static str>,
}

impl Draft {
    /// The checked arguments, or every error: those found, and a missing required key
    /// that no reported mistake stood for.
    fn finish(self, tokens: &TokenStream, mut errors: Errors) -> syn::Result<Args> {
        // Point at the arguments when there are some; `#[migration]` alone has only itself.
        let missing = |message: String| {
            if tokens.is_empty() {
                syn::Error::new(Span::call_site(), message)
            } else {
                syn::Error::new_spanned(tokens, message)
            }
        };
        let version_missing = !self.version.given && !self.meant.contains(&"version");
        let description_missing = !self.description.given && !self.meant.contains(&"description");
        match (version_missing, description_missing) {
            (true, true) => errors.push(missing(format!(
                "missing `version` and `description`: write #[migration({VERSION_ARG}, {DESCRIPTION_ARG})]"
            ))),
            (true, false) => errors.push(missing(format!(
                "missing `version`: add the migration's number, {VERSION_EXAMPLE}"
            ))),
            (false, true) => errors.push(missing(format!(
                "missing `description`: say what the migration does, {DESCRIPTION_EXAMPLE}"
            ))),
            (false, false) => {}
        }
        match (
            errors.into_result(),
            self.version.value,
            self.description.value,
        ) {
            (Ok(()), Some(version), Some(description)) => Ok(Args {
                version,
                description,
                irreversible: self.irreversible.value.is_some(),
                set: self.set.value,
                transaction: self.transaction.value.unwrap_or(true),
                lock_timeout: self.lock_timeout.value,
                tags: self.tags.value.unwrap_or_default(),
                category: self.category.value,
                after: self.after.value,
                when: self.when.value,
                environments: self.environments.value,
            }),
            (Err(error), _, _) => Err(error),
            // Not reached: a key seen but invalid has already recorded its error.
            (Ok(()), _, _) => Err(missing(format!(
                "invalid #[migration] arguments: write #[migration({VERSION_ARG}, {DESCRIPTION_ARG})]"
            ))),
        }
    }
}

/// One key's value (serde's `Attr` pattern): the first entry for the key fills it, and
/// a second one is refused here, whether or not the first was valid.
struct Slot<T> {
    given: bool,
    value: Option<T>,
}

impl<T> Default for Slot<T> {
    fn default() -> Self {
        Slot {
            given: false,
            value: None,
        }
    }
}

impl<T> Slot<T> {
    /// Takes `entry` for this key: refused when the key was given before, else its value
    /// as `parse` reads it.
    fn take(
        &mut self,
        entry: &Entry,
        parse: impl FnOnce(&Entry) -> syn::Result<T>,
    ) -> syn::Result<()> {
        if std::mem::replace(&mut self.given, true) {
            return Err(syn::Error::new(
                entry.key.span(),
                format!("`{}` is given twice; keep only one", entry.key),
            ));
        }
        self.value = Some(parse(entry)?);
        Ok(())
    }
}

/// One `key = value` as written: the key, its `=` if any, and the tokens up to the next
/// comma.
struct Entry {
    key: Ident,
    eq: Option<Token![=]>,
    value: TokenStream,
    /// The key's example, for the messages about its form.
    example: &'static str,
}

impl Entry {
    /// The value after `key =`, not empty.
    fn value(&self) -> syn::Result<TokenStream> {
        let Entry {
            key,
            eq,
            value,
            example,
        } = self;
        let Some(eq) = eq else {
            return Err(syn::Error::new_spanned(
                quote!(#key #value),
                format!("expected `{key} = ..`, {example}"),
            ));
        };
        if value.is_empty() {
            return Err(syn::Error::new_spanned(
                eq,
                format!("expected a value after `{key} =`, {example}"),
            ));
        }
        Ok(value.clone())
    }

    /// A flag: the key alone, with no `=` and no value.
    fn flag(&self) -> syn::Result<()> {
        let Entry { key, eq, value, .. } = self;
        if eq.is_none() && value.is_empty() {
            Ok(())
        } else {
            Err(syn::Error::new_spanned(
                quote!(#key #eq #value),
                format!("`{key}` takes no value: write just `{key}`"),
            ))
        }
    }
}

/// The errors found so far, combined into one.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn into_result(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// An entry whose key is `key`, after the key: its value through the key's row of the
/// table, or the error of an unknown key.
fn keyed(
    key: Ident,
    input: ParseStream,
    draft: &mut Draft,
    errors: &mut Errors,
) -> syn::Result<()> {
    let eq: Option<Token![=]> = if input.peek(Token![=]) {
        Some(input.parse()?)
    } else {
        None
    };
    let value = rest_of_entry(input)?;
    let name = key.to_string();
    let Some(row) = keys::find(&name) else {
        let nearest = suggest::nearest_key(&name);
        draft.meant.extend(nearest);
        errors.push(syn::Error::new(
            key.span(),
            suggest::unknown_key_message(&name, nearest),
        ));
        return Ok(());
    };
    let entry = Entry {
        key,
        eq,
        value,
        example: row.example,
    };
    if let Err(error) = (row.take)(draft, &entry) {
        errors.push(error);
    }
    Ok(())
}

/// An entry whose key is a path (`a::b = ..`): no key is one.
fn path_key(path: &syn::Path, input: ParseStream, errors: &mut Errors) -> syn::Result<()> {
    rest_of_entry(input)?;
    let name = quote!(#path).to_string().replace(' ', "");
    errors.push(syn::Error::new_spanned(
        path,
        suggest::unknown_key_message(&name, None),
    ));
    Ok(())
}

/// An argument without `key =` (also an empty one between two commas), reported: a lone
/// integer is the version and a lone string the description, so say which key to write;
/// anything else gets the general form.
fn keyless(input: ParseStream, draft: &mut Draft, errors: &mut Errors) -> syn::Result<()> {
    let tokens = rest_of_entry(input)?;
    let message = match single_literal(&tokens) {
        Some(Lit::Int(int)) if !draft.version.given => {
            draft.meant.push("version");
            format!("arguments are named: write version = {int}")
        }
        Some(Lit::Str(s)) if !draft.description.given => {
            draft.meant.push("description");
            format!("arguments are named: write description = {}", s.token())
        }
        _ => format!(
            "expected `key = value` arguments, e.g. #[migration({VERSION_ARG}, {DESCRIPTION_ARG})]"
        ),
    };
    errors.push(syn::Error::new_spanned(&tokens, message));
    Ok(())
}

/// The arguments without a key before the first one with a key, each reported, with the
/// commas after them: what is left starts with a key, as the meta grammar wants.
fn leading_keyless(input: ParseStream, draft: &mut Draft, errors: &mut Errors) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(Ident::peek_any) {
        keyless(input, draft, errors)?;
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        } else if !input.is_empty() {
            missing_comma(input, errors)?;
        }
    }
    Ok(())
}

/// After an entry: leaves the input at the end or at the comma before an entry with a
/// key, for the meta grammar to go on; the entries it cannot read on the way (after a
/// missing comma, or without a key) are read and reported here.
fn separator(input: ParseStream, draft: &mut Draft, errors: &mut Errors) -> syn::Result<()> {
    loop {
        if input.is_empty() {
            return Ok(());
        }
        if input.peek(Token![,]) {
            let after = input.fork();
            after.parse::<Token![,]>()?;
            if after.is_empty() || after.peek(Ident::peek_any) {
                return Ok(());
            }
            input.parse::<Token![,]>()?;
            keyless(input, draft, errors)?;
        } else {
            // `rest_of_entry` stopped at the next key: the comma is missing.
            missing_comma(input, errors)?;
            let key = input.call(Ident::parse_any)?;
            keyed(key, input, draft, errors)?;
        }
    }
}

fn missing_comma(input: ParseStream, errors: &mut Errors) -> syn::Result<()> {
    let next: TokenTree = input.fork().parse()?;
    errors.push(syn::Error::new_spanned(
        &next,
        format!("expected `,` before `{next}`: separate the arguments with commas"),
    ));
    Ok(())
}

/// The tokens up to the next top-level comma (not consumed) or the end. It also stops
/// before a known key or a `key =` that follows a value, where a comma is missing.
fn rest_of_entry(input: ParseStream) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        if !tokens.is_empty() && next_is_key(input) {
            break;
        }
        tokens.extend([input.parse::<TokenTree>()?]);
    }
    Ok(tokens)
}

fn next_is_key(input: ParseStream) -> bool {
    let fork = input.fork();
    match fork.call(Ident::parse_any) {
        Ok(ident) => keys::find(&ident.to_string()).is_some() || fork.peek(Token![=]),
        Err(_) => false,
    }
}
