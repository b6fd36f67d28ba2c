//! Checks of the item the attribute is on: a non-generic struct without fields, which the
//! generated code can construct and register.

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{Data, DeriveInput, Fields, FieldsNamed, FieldsUnnamed, Ident, Visibility};

use crate::args::{Args, Dependency};
use crate::source::FileFacts;

const HOW: &str = "#[migration] goes on a unit struct, e.g. `pub struct AddIsSpammer;`";

/// The struct a migration is registered for.
pub struct AnnotatedStruct {
    pub ident: Ident,
    pub vis: Visibility,
    /// An expression that builds the struct: `Name`, `Name {}` or `Name()`.
    pub construct: TokenStream,
}

/// Checks the item, reporting every problem with the struct at once.
pub fn check(item: TokenStream) -> syn::Result<AnnotatedStruct> {
    let input: DeriveInput = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(error) => return Err(not_a_struct(item).unwrap_or(error)),
    };
    let fields = match &input.data {
        Data::Struct(data) => &data.fields,
        Data::Enum(data) => return Err(wrong_item(data.enum_token, "an enum")),
        Data::Union(data) => return Err(wrong_item(data.union_token, "a union")),
    };

    let mut errors: Vec<syn::Error> = Vec::new();
    if !input.generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.generics,
            "a migration struct cannot be generic: the registry needs one concrete type; \
             remove the generic parameters",
        ));
    }
    if let Some(where_clause) = &input.generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            "a migration struct cannot have a where clause; remove it",
        ));
    }
    let ident = &input.ident;
    let construct = match fields {
        Fields::Unit => quote!(#ident),
        Fields::Named(named) if named.named.is_empty() => quote!(#ident {}),
        Fields::Unnamed(unnamed) if unnamed.unnamed.is_empty() => quote!(#ident()),
        Fields::Named(FieldsNamed { named: list, .. })
        | Fields::Unnamed(FieldsUnnamed { unnamed: list, .. }) => {
            errors.push(syn::Error::new_spanned(
                list,
                format!(
                    "a migration struct cannot have fields, as #[migration] builds it itself: \
                     make it a unit struct, `struct {ident};`, and keep what the migration \
                     needs in its code"
                ),
            ));
            TokenStream::new()
        }
    };
    // In source order: the generics come before the fields.
    let mut errors = errors.into_iter();
    if let Some(mut all) = errors.next() {
        all.extend(errors);
        return Err(all);
    }
    Ok(AnnotatedStruct {
        ident: input.ident,
        vis: input.vis,
        construct,
    })
}

fn wrong_item(keyword: impl ToTokens, what: &str) -> syn::Error {
    syn::Error::new_spanned(keyword, format!("{HOW}, not on {what}"))
}

/// Names the kind of a non-struct item (function, impl block, ...) by its keyword, so the
/// error can point at it.
fn not_a_struct(item: TokenStream) -> Option<syn::Error> {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    for (i, token) in tokens.iter().enumerate() {
        let TokenTree::Ident(ident) = token else {
            continue;
        };
        let followed_by_fn = || {
            tokens[i + 1..]
                .iter()
                .take_while(|t| !matches!(t, TokenTree::Group(_)))
                .any(|t| matches!(t, TokenTree::Ident(f) if f == "fn"))
        };
        let what = match ident.to_string().as_str() {
            "fn" => "a function",
            "const" | "async" | "unsafe" | "extern" if followed_by_fn() => "a function",
            "impl" => "an impl block",
            "trait" => "a trait",
            "mod" => "a module",
            "type" => "a type alias",
            "static" => "a static",
            "const" => "a constant",
            "use" => "a use declaration",
            "macro_rules" => "a macro",
            _ => continue,
        };
        return Some(wrong_item(ident, what));
    }
    None
}

/// A file named for a version (`m0003_add_metadata.rs`) holds that version's migration.
pub fn check_file_name(args: &Args, facts: &FileFacts) -> syn::Result<()> {
    let (version, literal) = &args.version;
    match &facts.file_version {
        Some((file_version, name)) if file_version != version => Err(syn::Error::new_spanned(
            literal,
            format!(
                "this file, `{name}`, is named for version {file_version} but the attribute says \
                 version {version}; make them agree: rename the file or change the version"
            ),
        )),
        _ => Ok(()),
    }
}

/// `after = [..]` as far as the attribute can see: no migration depends on itself, on a
/// later version, or on the same one twice. A struct's version and set are checked by the
/// compiler, in the generated code (`expand`); a version that no migration has, at
/// discovery.
pub fn check_dependencies(args: &Args, annotated: &AnnotatedStruct) -> syn::Result<()> {
    let Some(after) = &args.after else {
        return Ok(());
    };
    let own = args.version.0;
    let mut errors: Vec<syn::Error> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for dependency in after {
        let (key, error) = match dependency {
            Dependency::Version(version, literal) => (
                version.to_string(),
                if *version == own {
                    Some(syn::Error::new_spanned(
                        literal,
                        format!(
                            "migration {own} cannot depend on itself: remove {version} from `after`"
                        ),
                    ))
                } else if *version > own {
                    Some(syn::Error::new_spanned(
                        literal,
                        format!(
                            "migration {own} cannot depend on version {version}, a later one: a \
                             migration needs only earlier ones, so give this migration a \
                             version above {version} or remove {version} from `after`"
                        ),
                    ))
                } else {
                    None
                },
            ),
            Dependency::Migration(path) => {
                let name = path.to_token_stream().to_string().replace(' ', "");
                let is_self = path.is_ident(&annotated.ident) || path.is_ident("Self");
                (
                    name.clone(),
                    is_self.then(|| {
                        syn::Error::new_spanned(
                            path,
                            format!(
                                "migration {own} cannot depend on itself: remove `{name}` from `after`"
                            ),
                        )
                    }),
                )
            }
        };
        let span_of = |dependency: &Dependency| match dependency {
            Dependency::Version(_, literal) => literal.to_token_stream(),
            Dependency::Migration(path) => path.to_token_stream(),
        };
        if let Some(error) = error {
            errors.push(error);
        } else if seen.contains(&key) {
            errors.push(syn::Error::new_spanned(
                span_of(dependency),
                format!("`{key}` is listed twice in `after`; keep one"),
            ));
        }
        seen.push(key);
    }
    let mut errors = errors.into_iter();
    match errors.next() {
        Some(mut all) => {
            all.extend(errors);
            Err(all)
        }
        None => Ok(()),
    }
}
