//! The generated code: the user's struct unchanged, a `get_migration()` for it, and its
//! entry in the registry. Every path is absolute and goes through the runtime crate's
//! hidden `__private` module, so the user's imports never matter.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::args::Args;
use crate::valid::Target;

pub fn expand(args: &Args, target: &Target, krate: &TokenStream, item: TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let Target {
        ident,
        vis,
        construct,
    } = target;
    let (version, version_lit) = &args.version;
    let description = &args.description;
    let type_name = ident.to_string();

    // The struct must implement the traits: the casts fail on the struct's name, where
    // `#[diagnostic::on_unimplemented]` on each trait says what to write.
    let up = quote_spanned!(ident.span()=> &#construct as &'static dyn #private::Migration);
    let down = if args.irreversible {
        quote!(::core::option::Option::None)
    } else {
        quote_spanned!(ident.span()=>
            ::core::option::Option::Some(&#construct as &'static dyn #private::Reversible))
    };
    let location = quote_spanned!(ident.span()=> ::core::file!(), ::core::line!());

    // A second migration with the same version in this crate defines this macro again:
    // rustc's "defined multiple times" error points at the second version literal.
    let duplicate_guard = format_ident!(
        "duplicate_migration_version_{}",
        version,
        span = version_lit.span()
    );
    // Across crates, the two entries' symbols collide at link time, naming the version.
    let symbol = format!(
        "migrate: migration version {version} is defined twice; give one of the two migrations another version"
    );
    let doc = format!(
        "The registered migration {version} ({:?}) that `#[migration]` made of this struct.",
        description.value()
    );

    quote! {
        #item

        #[doc(hidden)]
        #[macro_export]
        macro_rules! #duplicate_guard { () => {}; }

        const _: () = {
            #[#private::linkme::distributed_slice(#private::MIGRATIONS)]
            #[linkme(crate = #private::linkme)]
            #[unsafe(export_name = #symbol)]
            static MIGRATION: #private::RegisteredMigration = #private::RegisteredMigration::__new(
                #version,
                #description,
                #type_name,
                #location,
                #up,
                #down,
            );

            impl #ident {
                #[doc = #doc]
                #[allow(dead_code)]
                #vis fn get_migration() -> &'static #private::RegisteredMigration {
                    &MIGRATION
                }
            }
        };
    }
}
