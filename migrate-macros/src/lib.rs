//! The `#[migration]` attribute of `migrate`. Use it through `migrate-core` or
//! `migrate-sqlite`, which re-export it as `migration`; this crate is their
//! implementation detail.
//!
//! The attribute runs in three stages: `args` parses `version = .., description = ..`,
//! `valid` checks the item it is on, `expand` generates the registration. Every
//! problem found is reported, each on the token at fault, next to the user's item
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

fn attribute(args: TokenStream, item: TokenStream, krate: proc_macro2::TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let args_tokens = proc_macro2::TokenStream::from(args);
    let fallback = quote!(#args_tokens #item);
    let args = args::parse(args_tokens);
    let file = source::file_of(args.as_ref().ok().map(|args| args.version.1.span()));
    let source = source::read(file.as_deref(), &fallback);
    let args = match (args, &source) {
        (Ok(args), Ok(source)) => valid::check_file_name(&args, source).map(|()| args),
        (args, _) => args,
    };
    let target = valid::check(item.clone());
    let (args, target) = match (args, target) {
        (Ok(args), Ok(target)) => match valid::check_dependencies(&args, &target) {
            Ok(()) => (Ok(args), Ok(target)),
            Err(error) => (Err(error), Ok(target)),
        },
        other => other,
    };
    match (args, source, target) {
        (Ok(args), Ok(source), Ok(target)) => {
            expand::expand(&args, &target, &source, &krate, item).into()
        }
        (args, source, target) => {
            let errors = args
                .err()
                .into_iter()
                .chain(source.err())
                .chain(target.err())
                .map(|error| error.to_compile_error());
            quote!(#item #(#errors)*).into()
        }
    }
}
