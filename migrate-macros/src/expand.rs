//! The generated code: the user's struct unchanged, a `get_migration()` for it, and its
//! entry in the registry. Every path is absolute and goes through the runtime crate's
//! hidden `__private` module, so the user's imports never matter.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

use crate::args::{Args, Dependency, LockTimeout};
use crate::source::FileFacts;
use crate::valid::AnnotatedStruct;

pub fn expand(
    args: &Args,
    annotated: &AnnotatedStruct,
    facts: &FileFacts,
    krate: &TokenStream,
    item: TokenStream,
) -> TokenStream {
    let private = quote!(#krate::__private);
    let AnnotatedStruct {
        ident,
        vis,
        construct,
    } = annotated;
    let (version, version_lit) = &args.version;
    let description = &args.description;
    let type_name = ident.to_string();
    let set = args
        .set
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();
    let transactional = args.transaction;
    let lock_timeout = match args.lock_timeout {
        None => quote!(::core::option::Option::None),
        Some(LockTimeout::Off) => {
            quote!(::core::option::Option::Some(#private::LockTimeout::Off))
        }
        Some(LockTimeout::Millis(millis)) => quote!(::core::option::Option::Some(
            #private::LockTimeout::After(::core::time::Duration::from_millis(#millis))
        )),
    };
    let checksum = &facts.checksum;
    let metadata = metadata(args, &type_name, &set, &private);
    let (condition, predicate) = condition(args, &private);

    // The struct must implement the traits: the coercions fail on the struct's name,
    // where `#[diagnostic::on_unimplemented]` on each trait says what to write.
    let (up, down) = if args.irreversible {
        (
            quote_spanned!(ident.span()=> &#construct),
            quote!(::core::option::Option::None),
        )
    } else {
        // rustc drops an unmet bound that another one at the same span implies, and
        // `Reversible` implies `Migration`: a struct with neither impl would hear only of
        // `Reversible`. The `Migration` check gets the same place in the expansion's
        // context, a different span to rustc, so both are reported.
        let span = Span::call_site().located_at(ident.span());
        let up_construct = respan(construct.clone(), span);
        (
            quote_spanned!(span=> &#up_construct),
            quote_spanned!(ident.span()=> ::core::option::Option::Some(&#construct)),
        )
    };
    let location = quote_spanned!(ident.span()=> ::core::file!(), ::core::line!());

    // A second migration with the same version in this crate defines this macro again:
    // rustc's "defined multiple times" error points at the second version literal. Its
    // wording is rustc's, so the name says what to do. Versions are per set, and so are
    // the guards.
    let duplicate_guard =
        format_ident!("{}", guard_macro(*version, &set), span = version_lit.span());
    // Across crates, two guards with this symbol collide at link time, and the linker's
    // "duplicate symbol" error names it. The guard is a static of its own: were the symbol
    // on the entry, the linker would satisfy it from the first crate and could leave the
    // second crate's entry out, silently dropping a migration (tests/tests/build/cross_crate.rs).
    // The symbol is a plain C identifier (set names are lowercase letters, digits and `_`):
    // rustc writes exported symbols into the linker's version script for a `cdylib`, and
    // a linker accepts nothing else there.
    let symbol = guard_symbol(*version, &set);
    let doc = format!(
        "The registered migration {version} ({:?}) that `#[migration]` made of this struct.",
        description.value()
    );

    // Every token of the guard carries the literal's span, so the item rustc points at
    // is the version literal rather than the whole attribute.
    let guard = quote_spanned! {version_lit.span()=>
        #[doc(hidden)]
        #[macro_export]
        // A struct defined in a function body is a migration like any other.
        #[allow(non_local_definitions)]
        macro_rules! #duplicate_guard { () => {}; }
    };

    quote! {
        #item

        #guard

        const _: () = {
            #predicate

            #[#private::linkme::distributed_slice(#private::MIGRATIONS)]
            #[linkme(crate = #private::linkme)]
            static MIGRATION: #private::RegisteredMigration = #private::with_condition(#private::with_metadata(
                #private::registered_migration(
                    #version,
                    #description,
                    #type_name,
                    #location,
                    #up,
                    #down,
                    #set,
                    #transactional,
                    #lock_timeout,
                    #checksum,
                ),
                #metadata,
            ), #condition);

            impl #private::Registered for #ident {
                const VERSION: u64 = #version;
                const SET: &'static str = #set;
            }

            #[unsafe(export_name = #symbol)]
            static DUPLICATE_VERSION_GUARD: u8 = 0;

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

/// The `Metadata` of the registry entry: tags, category and dependencies. A dependency
/// named by its struct gives its version through `Registered` (an error on the name when
/// it is not a migration), checked in constants to be earlier and in the same set: a
/// failed check is a compile error on the name, saying what to do.
fn metadata(args: &Args, type_name: &str, set: &str, private: &TokenStream) -> TokenStream {
    let tags = &args.tags;
    let category = match &args.category {
        Some(category) => quote!(::core::option::Option::Some(#category)),
        None => quote!(::core::option::Option::None),
    };
    let version = args.version.0;
    let after = match &args.after {
        None => quote!(::core::option::Option::None),
        Some(dependencies) => {
            let versions = dependencies.iter().map(|dependency| match dependency {
                Dependency::Version(number, _) => quote!(#number),
                Dependency::Migration(path) => {
                    let span = path.segments.last().map_or_else(Span::call_site, |s| s.ident.span());
                    let name = quote!(#path).to_string().replace(' ', "");
                    let later = format!(
                        "migration {version} (`{type_name}`) cannot depend on `{name}`: its version \
                         is the same or later, and a migration needs only earlier ones; give \
                         `{type_name}` a version above `{name}`'s or remove `{name}` from `after`"
                    );
                    let other_set = format!(
                        "migration {version} (`{type_name}`) cannot depend on `{name}`, which is in \
                         another set: sets are applied independently; remove `{name}` from `after`"
                    );
                    quote_spanned! {span=>
                        {
                            const VERSION: u64 = <#path as #private::Registered>::VERSION;
                            const _: () = if VERSION >= #version {
                                ::core::panic!("{}", #later)
                            };
                            const _: () = if !#private::same_set(
                                <#path as #private::Registered>::SET,
                                #set,
                            ) {
                                ::core::panic!("{}", #other_set)
                            };
                            VERSION
                        }
                    }
                }
            });
            quote!(::core::option::Option::Some(&[#(#versions),*]))
        }
    };
    quote!(#private::Metadata::new(&[#(#tags),*], #category, #after))
}

/// The `Condition` of the registry entry, and the wrapper of the `when` predicate: a
/// function of the one type the registry holds, which calls the user's and converts what
/// it returns (`bool`, `When`, or a `Result` of either with an error that converts to
/// `BoxError`: `Decision`). A predicate of another shape is a type error on its path.
fn condition(args: &Args, private: &TokenStream) -> (TokenStream, TokenStream) {
    let environments = match &args.environments {
        Some(names) => quote!(::core::option::Option::Some(&[#(#names),*])),
        None => quote!(::core::option::Option::None),
    };
    let Some(path) = &args.when else {
        return (
            quote!(#private::Condition::new(::core::option::Option::None, #environments)),
            TokenStream::new(),
        );
    };
    let name = quote!(#path).to_string().replace(' ', "");
    // Located at the path, so that a function of another shape is an error on it (first
    // the signature, then `Decision` for what it returns); resolved at the call site, so
    // that `context` is the wrapper's argument also when a `macro_rules!` macro passed the
    // path in.
    let span = Span::call_site().located_at(
        path.segments
            .last()
            .map_or_else(Span::call_site, |s| s.ident.span()),
    );
    let function = quote_spanned! {span=>
        let condition: fn(&mut #private::PlanContext<'_>) -> _ = #path;
    };
    let call = quote_spanned!(span=> condition(context));
    let predicate = quote! {
        fn when(
            context: &mut #private::PlanContext<'_>,
        ) -> ::core::result::Result<#private::When, #private::BoxError> {
            #function
            #private::Decision::decide(#call)
        }
    };
    (
        quote!(#private::Condition::new(
            ::core::option::Option::Some((when as #private::Predicate, #name)),
            #environments
        )),
        predicate,
    )
}

/// The name of the same-crate duplicate-version guard, a `macro_rules!` that a second
/// migration with the version defines again; rustc's error quotes it, so it says what to
/// do, e.g. `migration_version_3_is_used_twice_in_this_crate__give_one_of_them_another_version`.
fn guard_macro(version: u64, set: &str) -> String {
    format!(
        "migration_version_{version}{}_is_used_twice_in_this_crate__give_one_of_them_another_version",
        in_set(set)
    )
}

/// The link symbol of the duplicate-version guard: a plain C identifier that says what is
/// wrong, e.g. `migrate__migration_version_3_is_defined_twice__give_one_of_the_two_migrations_another_version`.
fn guard_symbol(version: u64, set: &str) -> String {
    format!(
        "migrate__migration_version_{version}{}_is_defined_twice__give_one_of_the_two_migrations_another_version",
        in_set(set)
    )
}

/// `_in_set_<set>` for a named set, nothing for the default one.
fn in_set(set: &str) -> String {
    if set.is_empty() {
        String::new()
    } else {
        format!("_in_set_{set}")
    }
}

/// The tokens with every span replaced, inside groups too.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut new = Group::new(group.delimiter(), respan(group.stream(), span));
                new.set_span(span);
                token = TokenTree::Group(new);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every linker accepts the symbol, in a `cdylib`'s version script too: letters,
    /// digits and `_`, not starting with a digit. Versions and sets give distinct symbols.
    #[test]
    fn guard_symbols_are_c_identifiers_naming_the_version_and_set() {
        let symbols = [
            guard_symbol(3, ""),
            guard_symbol(3, "analytics"),
            guard_symbol(30, ""),
            guard_symbol(i64::MAX as u64, "a_1"),
        ];
        for symbol in &symbols {
            assert!(
                symbol.starts_with("migrate__")
                    && symbol
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{symbol}"
            );
        }
        assert_eq!(
            symbols[1],
            "migrate__migration_version_3_in_set_analytics_is_defined_twice__give_one_of_the_two_migrations_another_version"
        );
        let distinct: std::collections::HashSet<_> = symbols.iter().collect();
        assert_eq!(distinct.len(), symbols.len());
    }

    /// The guard macro's name is an identifier, in the default set and a named one, and
    /// versions and sets give distinct names.
    #[test]
    fn guard_macros_are_identifiers_naming_the_version_and_set() {
        let names = [
            guard_macro(3, ""),
            guard_macro(3, "analytics"),
            guard_macro(30, ""),
            guard_macro(i64::MAX as u64, "a_1"),
        ];
        for name in &names {
            syn::parse_str::<syn::Ident>(name).unwrap();
        }
        assert_eq!(
            names[0],
            "migration_version_3_is_used_twice_in_this_crate__give_one_of_them_another_version"
        );
        assert_eq!(
            names[1],
            "migration_version_3_in_set_analytics_is_used_twice_in_this_crate__give_one_of_them_another_version"
        );
        let distinct: std::collections::HashSet<_> = names.iter().collect();
        assert_eq!(distinct.len(), names.len());
    }
}
