//! The `#[migration]` attribute of `migrate`. Use it through `migrate-core` or
//! `migrate-sqlite`/`migrate-postgres`, which re-export it as `migration`; this crate is
//! their implementation detail.
//!
//! The attribute runs in four stages:
//!
//! 1. `args` parses `version = .., description = ..` into typed `Args`;
//! 2. `source` reads the file the migration is in: its checksum and the version its
//!    name carries (`FileFacts`);
//! 3. `valid` checks the item it is on (`AnnotatedStruct`) and what needs
//!    two of the above together (file name against version, `after = [..]`);
//! 4. `expand` generates the registration.
//!
//! Every problem found is reported, each on the token at fault, next to the user's item
//! unchanged so one mistake does not cause others.

use proc_macro::TokenStream;
use quote::quote;

mod args;
mod expand;
mod source;
mod valid;

/// `#[migration(version = N, description = "...")]` for users of `migrate-core`: the
/// generated code names `::migrate_core`.
#[proc_macro_attribute]
pub fn migration(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(args, item, quote!(::migrate_core))
}

/// The same attribute for users of `migrate-sqlite`, which re-exports it as `migration`:
/// the generated code names `::migrate_sqlite`, so those users need no other dependency.
#[proc_macro_attribute]
pub fn sqlite_migration(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(args, item, quote!(::migrate_sqlite))
}

/// The same attribute for users of `migrate-postgres`, which re-exports it as
/// `migration`: the generated code names `::migrate_postgres`.
#[proc_macro_attribute]
pub fn postgres_migration(args: TokenStream, item: TokenStream) -> TokenStream {
    attribute(args, item, quote!(::migrate_postgres))
}

/// The four stages; on any error, the item unchanged and every error found.
fn attribute(args: TokenStream, item: TokenStream, krate: proc_macro2::TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let args_tokens = proc_macro2::TokenStream::from(args);
    let fallback = quote!(#args_tokens #item);
    let args = args::parse(args_tokens);
    let file = source::file_of(args.as_ref().ok().map(|args| args.version.1.span()));
    let facts = source::read(file.as_deref(), &fallback);
    let args = match (args, &facts) {
        (Ok(args), Ok(facts)) => valid::check_file_name(&args, facts).map(|()| args),
        (args, _) => args,
    };
    let annotated = valid::check(item.clone());
    let (args, annotated) = match (args, annotated) {
        (Ok(args), Ok(annotated)) => match valid::check_dependencies(&args, &annotated) {
            Ok(()) => (Ok(args), Ok(annotated)),
            Err(error) => (Err(error), Ok(annotated)),
        },
        other => other,
    };
    match (args, facts, annotated) {
        (Ok(args), Ok(facts), Ok(annotated)) => {
            expand::expand(&args, &annotated, &facts, &krate, item).into()
        }
        (args, facts, annotated) => {
            let errors = args
                .err()
                .into_iter()
                .chain(facts.err())
                .chain(annotated.err())
                .map(|error| error.to_compile_error());
            quote!(#item #(#errors)*).into()
        }
    }
}
