//! Following `include_str!`, `include_bytes!` and `include!` with a string-literal path:
//! the included file counts in the checksum with its path and its bytes.

use std::path::Path;

use proc_macro2::TokenTree;

use super::canon::Canon;
use super::io_reason;

impl Canon<'_> {
    /// After `include_str` (or `include_bytes`, `include`): `!` and a group starting with a
    /// string literal, the path relative to the file's folder. Hashes the path and the
    /// file's bytes.
    pub(super) fn include(&mut self, after: &[TokenTree]) {
        let Some((path, text)) = self.file else {
            return;
        };
        let (Some(TokenTree::Punct(bang)), Some(TokenTree::Group(args))) =
            (after.first(), after.get(1))
        else {
            return;
        };
        if bang.as_char() != '!' {
            return;
        }
        let Some(TokenTree::Literal(literal)) = args.stream().into_iter().next() else {
            return;
        };
        let written = literal.to_string();
        let syn::Lit::Str(relative) = syn::Lit::new(literal) else {
            return;
        };
        let relative = relative.value();
        let included = path
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(&relative);
        match std::fs::read(&included) {
            Ok(bytes) => {
                self.hasher.field(relative.as_bytes());
                self.hasher.field(&bytes);
            }
            Err(error) => {
                if self.error.is_none() {
                    let line = text
                        .find(&written)
                        .map(|at| format!(" on line {}", text[..at].lines().count().max(1)))
                        .unwrap_or_default();
                    self.error = Some(format!(
                        "cannot read `{relative}`, which `{}` includes{line}, to compute the \
                         migration's checksum: {}; the path is relative to the folder of the \
                         including file",
                        file_name(path),
                        io_reason(&error)
                    ));
                }
            }
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}
